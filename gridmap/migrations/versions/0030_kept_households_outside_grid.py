"""coverage fact kept where it changes: the households whose point lies outside their own grid

The `uncovered` gap rule (a household with no grid, or whose point its own current grid does
not cover) tested a point in a polygon per household on every request: about 3.7 s for a
county of 300,000 households under load, counted once for the legend and again for its layer.
Whether a household lies outside its grid changes only when the household's point, grid code
or county changes, or when a grid's shape, code, county or currency does: statement-level
triggers on `household` and `grid` keep the answer in `household_outside_grid` (one row per
such household: a few hundred in a county, not one per household), whatever path writes (the
tablet, the importers, the demo, the grid editor, the generation service, a region code
change, plain SQL).

A household in a grid with no shape is not a gap (nothing to test it against), as before.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-01 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# The rule on a household row `h` (gridmap.coverage's `uncovered`, as it read the raw tables).
OUTSIDE = """(h.grid_code IS NULL OR (h.geom IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM grid g WHERE g.county_code = h.county_code AND g.code = h.grid_code
        AND g.valid_to IS NULL AND (g.geom IS NULL OR ST_Covers(g.geom, h.geom)))))"""


def _keep(tested_sql: str) -> str:
    """One statement: test the households `tested_sql` selects (as `h`), then keep the answers."""
    return f"""
      WITH tested AS MATERIALIZED (SELECT h.id, h.county_code, {OUTSIDE} AS outside
                                   {tested_sql}),
      gone AS (DELETE FROM household_outside_grid k USING tested t
               WHERE k.household_id = t.id AND NOT t.outside)
      INSERT INTO household_outside_grid (county_code, household_id)
      SELECT t.county_code, t.id FROM tested t WHERE t.outside
      ON CONFLICT (household_id) DO NOTHING;"""


# Households of these grids (by code, in one county) tested again.
GRIDS_REFRESH = f"""
    CREATE FUNCTION household_outside_grid_refresh(county varchar, grids varchar[]) RETURNS void
    LANGUAGE sql AS $$
      {_keep("FROM household h WHERE h.county_code = county AND h.grid_code = ANY(grids)")}
    $$"""

# Inserted households are tested from the statement's own rows; updated ones only when their
# point, grid code or county changed (a care flag or a name alone tests nothing). Deleted
# households take their row with them (ON DELETE CASCADE).
MOVED = """FROM old_household o JOIN new_household h ON h.id = o.id
               WHERE (o.county_code, o.grid_code, ST_AsEWKB(o.geom))
                     IS DISTINCT FROM (h.county_code, h.grid_code, ST_AsEWKB(h.geom))"""
HOUSEHOLDS_CHANGED = f"""
    CREATE FUNCTION household_outside_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO household_outside_grid (county_code, household_id)
        SELECT h.county_code, h.id FROM new_household h WHERE {OUTSIDE}
        ON CONFLICT (household_id) DO NOTHING;
      ELSE
        {_keep(MOVED)}
      END IF;
      RETURN NULL;
    END $$"""

# Grids inserted, deleted, or whose shape, code, county or currency changed (display shapes
# and names alone do not count): their households, under the old and the new code.
GRIDS_CHANGED = """
    CREATE FUNCTION grid_outside_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM household_outside_grid_refresh(county_code, array_agg(DISTINCT code))
        FROM new_grid GROUP BY county_code;
      ELSIF TG_OP = 'DELETE' THEN
        PERFORM household_outside_grid_refresh(county_code, array_agg(DISTINCT code))
        FROM old_grid GROUP BY county_code;
      ELSE
        PERFORM household_outside_grid_refresh(x.county_code, array_agg(DISTINCT x.code))
        FROM old_grid o JOIN new_grid n ON n.id = o.id
        CROSS JOIN LATERAL (VALUES (o.county_code, o.code), (n.county_code, n.code))
                   AS x(county_code, code)
        WHERE (o.county_code, o.code, o.valid_to, ST_AsEWKB(o.geom))
              IS DISTINCT FROM (n.county_code, n.code, n.valid_to, ST_AsEWKB(n.geom))
        GROUP BY x.county_code;
      END IF;
      RETURN NULL;
    END $$"""

TRIGGERS = (("household", "household_outside_changed", ("INSERT", "UPDATE")),
            ("grid", "grid_outside_changed", ("INSERT", "UPDATE", "DELETE")))


def upgrade() -> None:
    op.create_table(
        "household_outside_grid",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE",
                                name=op.f("fk_household_outside_grid_household_id_household")),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_outside_grid")),
    )
    op.create_index("ix_household_outside_grid_county", "household_outside_grid",
                    ["county_code", "household_id"])
    op.execute(GRIDS_REFRESH)
    op.execute(HOUSEHOLDS_CHANGED)
    op.execute(GRIDS_CHANGED)
    referencing = {"INSERT": "NEW TABLE AS new_{rows}",
                   "UPDATE": "OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}",
                   "DELETE": "OLD TABLE AS old_{rows}"}
    for table, function, events in TRIGGERS:
        for event in events:
            op.execute(f"CREATE TRIGGER {table}_outside_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {referencing[event].format(rows=table)} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    # What is already stored.
    op.execute(f"""
        INSERT INTO household_outside_grid (county_code, household_id)
        SELECT h.county_code, h.id FROM household h WHERE {OUTSIDE}""")


def downgrade() -> None:
    for table, function, events in TRIGGERS:
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_outside_{event.lower()} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP FUNCTION IF EXISTS household_outside_grid_refresh(varchar, varchar[])")
    op.drop_index("ix_household_outside_grid_county", table_name="household_outside_grid")
    op.drop_table("household_outside_grid")
