"""coverage fact kept where it changes: each grid's median last visit

The leaders' map names the grids longest unvisited (the highest median days since their
households' last visit). It sorted all 300,000 households of a county by grid and last visit
on every request (0.5 s quiet, 1.6–2.4 s under load: the slowest request of the page). The
median of the days since equals now less the median last visit, and that median changes only
when a household's last visit changes (household_last_visit, kept by triggers on `visit`) or
a household joins, leaves or changes grid: statement-level triggers keep it per grid in
`grid_last_visit`, whatever path writes.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-01 20:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# The median, as epoch seconds, of the last visits of the grid's active households (never
# visited ones have no last visit and do not count, as in the median of days since).
REFRESH = """
    CREATE FUNCTION grid_last_visit_refresh(county varchar, grids varchar[]) RETURNS void
    LANGUAGE sql AS $$
      DELETE FROM grid_last_visit WHERE county_code = county AND grid_code = ANY(grids);
      INSERT INTO grid_last_visit (county_code, grid_code, median_epoch)
      SELECT county, h.grid_code,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.visited_at)::float8)
      FROM household h JOIN household_last_visit l ON l.household_id = h.id
        AND l.county_code = county
      WHERE h.county_code = county AND h.status = 'active' AND h.grid_code = ANY(grids)
      GROUP BY h.grid_code;
    $$"""

# household_last_visit changed: the grids of those households.
LAST_VISIT_CHANGED = """
    CREATE FUNCTION last_visit_grid_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM grid_last_visit_refresh(h.county_code, array_agg(DISTINCT h.grid_code))
        FROM old_last l JOIN household h ON h.id = l.household_id
        WHERE h.grid_code IS NOT NULL GROUP BY h.county_code;
      ELSE
        PERFORM grid_last_visit_refresh(h.county_code, array_agg(DISTINCT h.grid_code))
        FROM new_last l JOIN household h ON h.id = l.household_id
        WHERE h.grid_code IS NOT NULL GROUP BY h.county_code;
      END IF;
      RETURN NULL;
    END $$"""

# Households deleted, or whose grid, status or county changed: their old and new grids.
HOUSEHOLD_CHANGED = """
    CREATE FUNCTION household_grid_visit_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM grid_last_visit_refresh(county_code, array_agg(DISTINCT grid_code))
        FROM old_household WHERE grid_code IS NOT NULL GROUP BY county_code;
      ELSE
        PERFORM grid_last_visit_refresh(x.county_code, array_agg(DISTINCT x.grid_code))
        FROM old_household o JOIN new_household n ON n.id = o.id
        CROSS JOIN LATERAL (VALUES (o.county_code, o.grid_code), (n.county_code, n.grid_code))
                   AS x(county_code, grid_code)
        WHERE (o.county_code, o.grid_code, o.status) IS DISTINCT FROM
              (n.county_code, n.grid_code, n.status) AND x.grid_code IS NOT NULL
        GROUP BY x.county_code;
      END IF;
      RETURN NULL;
    END $$"""

REFERENCING = {"INSERT": "NEW TABLE AS new_{rows}",
               "UPDATE": "OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}",
               "DELETE": "OLD TABLE AS old_{rows}"}
TRIGGERS = (("household_last_visit", "last_visit_grid_changed", "last", ("INSERT", "UPDATE", "DELETE")),
            ("household", "household_grid_visit_changed", "household", ("UPDATE", "DELETE")))


def upgrade() -> None:
    op.create_table(
        "grid_last_visit",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("grid_code", sa.String(length=24), nullable=False),
        sa.Column("median_epoch", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "grid_code", name=op.f("pk_grid_last_visit")),
    )
    op.create_index("ix_grid_last_visit_median", "grid_last_visit", ["county_code", "median_epoch"])
    op.execute(REFRESH)
    op.execute(LAST_VISIT_CHANGED)
    op.execute(HOUSEHOLD_CHANGED)
    for table, function, rows, events in TRIGGERS:
        for event in events:
            op.execute(f"CREATE TRIGGER {table}_grid_visit_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {REFERENCING[event].format(rows=rows)} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    # What is already stored.
    op.execute("""
        SELECT grid_last_visit_refresh(county_code, array_agg(DISTINCT grid_code))
        FROM household WHERE grid_code IS NOT NULL GROUP BY county_code""")


def downgrade() -> None:
    for table, function, _rows, events in TRIGGERS:
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_grid_visit_{event.lower()} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP FUNCTION IF EXISTS grid_last_visit_refresh(varchar, varchar[])")
    op.drop_index("ix_grid_last_visit_median", table_name="grid_last_visit")
    op.drop_table("grid_last_visit")
