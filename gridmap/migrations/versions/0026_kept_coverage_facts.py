"""coverage facts kept where they change: each household's last visit, each village's
part that none of its grids covers

The leaders' map counted the `visit` and `uncovered_area` gap rules from the raw tables on
every request (a last-visit lookup per household; spheroid areas of every grid and a
village-minus-grids difference per village): tens of seconds at county scale. Both facts now
change only where they are written, so triggers keep them, whatever path writes (the tablet,
the importers, the grid editor, the generation service, a region code change, plain SQL):

* `household_last_visit`: per household, its last visit of any kind (走访 or 回访) and its
  last 走访; statement-level triggers on `visit` (one UPDATE per statement, not per row).
* `village_uncovered`: per village with current grids, the village's area less its grids'
  (`gap_m2`) and, from 10,000 m² on, the part none of them covers (`geom`, as ST_Difference
  gives it) and that part's area (`m2`); statement-level triggers on `grid` and `region` recompute the villages
  whose shapes, currency or grids changed (display shapes alone do not count).

The gap rules keep their thresholds (gridmap.coverage.MIN_UNCOVERED_M2) and read these rows.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 17:00:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

LAST_VISIT_REFRESH = """
    CREATE FUNCTION household_last_visit_refresh(ids integer[]) RETURNS void
    LANGUAGE sql AS $$
      DELETE FROM household_last_visit l WHERE l.household_id = ANY(ids)
        AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.household_id = l.household_id);
      INSERT INTO household_last_visit (county_code, household_id, visited_at, walked_at)
      SELECT min(v.county_code), v.household_id, max(v.visited_at),
             max(v.visited_at) FILTER (WHERE v.kind = 'visit')
      FROM visit v WHERE v.household_id = ANY(ids) GROUP BY v.household_id
      ON CONFLICT (household_id) DO UPDATE
        SET county_code = excluded.county_code, visited_at = excluded.visited_at,
            walked_at = excluded.walked_at;
    $$"""

# Inserted visits only move a household's last visit forward (GREATEST skips NULLs): no
# re-read of its visits, and two tablets logging the same household at once both land.
VISIT_CHANGED = """
    CREATE FUNCTION visit_last_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO household_last_visit AS l (county_code, household_id, visited_at, walked_at)
        SELECT min(county_code), household_id, max(visited_at),
               max(visited_at) FILTER (WHERE kind = 'visit')
        FROM new_visit GROUP BY household_id
        ON CONFLICT (household_id) DO UPDATE
          SET visited_at = GREATEST(l.visited_at, excluded.visited_at),
              walked_at = GREATEST(l.walked_at, excluded.walked_at);
      ELSIF TG_OP = 'UPDATE' THEN
        PERFORM household_last_visit_refresh(array_agg(DISTINCT household_id)) FROM (
          SELECT o.household_id FROM old_visit o JOIN new_visit n ON n.id = o.id
          WHERE (o.household_id, o.visited_at, o.kind)
                IS DISTINCT FROM (n.household_id, n.visited_at, n.kind)
          UNION ALL
          SELECT n.household_id FROM old_visit o JOIN new_visit n ON n.id = o.id
          WHERE (o.household_id, o.visited_at, o.kind)
                IS DISTINCT FROM (n.household_id, n.visited_at, n.kind)) changed
        HAVING count(*) > 0;
      ELSE
        PERFORM household_last_visit_refresh(array_agg(DISTINCT household_id))
        FROM old_visit HAVING count(*) > 0;
      END IF;
      RETURN NULL;
    END $$"""

# The part itself (an overlay of the village and its grids, the costly step) is computed for
# villages whose grids leave at least PART_FROM_M2 of them out: the rule's candidate test
# (gridmap.coverage.MIN_UNCOVERED_M2, which may not be lower; a test checks).
PART_FROM_M2 = 10_000
UNCOVERED_REFRESH = f"""
    CREATE FUNCTION village_uncovered_refresh(county varchar, villages varchar[]) RETURNS void
    LANGUAGE sql AS $$
      DELETE FROM village_uncovered WHERE county_code = county AND village_code = ANY(villages);
      INSERT INTO village_uncovered (county_code, village_code, gap_m2, geom, m2)
      SELECT county, part.code, part.gap_m2, part.geom, ST_Area(part.geom::geography)
      FROM (
        SELECT v.code, ST_Area(v.geom::geography) - g.m2 AS gap_m2,
               CASE WHEN ST_Area(v.geom::geography) - g.m2 >= {PART_FROM_M2}
                    THEN ST_Difference(v.geom, g.shape) END AS geom
        FROM region v
        JOIN (SELECT village_code, sum(ST_Area(geom::geography)) AS m2, ST_Union(geom) AS shape
              FROM grid WHERE county_code = county AND valid_to IS NULL AND geom IS NOT NULL
                AND village_code = ANY(villages)
              GROUP BY village_code) g ON g.village_code = v.code
        WHERE v.county_code = county AND v.code = ANY(villages) AND v.level = 'village'
          AND v.valid_to IS NULL AND v.geom IS NOT NULL) part;
    $$"""

# Which villages a statement on `grid` (village_code) or `region` (code, villages only)
# touched: rows inserted or deleted, and rows whose shape, currency, code or village changed
# (an UPDATE of display shapes or names alone recomputes nothing).
SHAPES_CHANGED = """
    CREATE FUNCTION {table}_uncovered_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM village_uncovered_refresh(county_code, array_agg(DISTINCT village))
        FROM (SELECT county_code, {village} AS village FROM new_shape WHERE {only}) changed
        GROUP BY county_code;
      ELSIF TG_OP = 'DELETE' THEN
        PERFORM village_uncovered_refresh(county_code, array_agg(DISTINCT village))
        FROM (SELECT county_code, {village} AS village FROM old_shape WHERE {only}) changed
        GROUP BY county_code;
      ELSE
        PERFORM village_uncovered_refresh(county_code, array_agg(DISTINCT village))
        FROM (SELECT x.county_code, x.village
              FROM old_shape o JOIN new_shape n ON n.id = o.id
              CROSS JOIN LATERAL (VALUES (o.county_code, o.{village}, o.{kind}),
                                         (n.county_code, n.{village}, n.{kind}))
                         AS x(county_code, village, kind)
              WHERE (o.county_code, o.{village}, o.{kind}, o.valid_to, ST_AsEWKB(o.geom))
                    IS DISTINCT FROM
                    (n.county_code, n.{village}, n.{kind}, n.valid_to, ST_AsEWKB(n.geom))
                AND {only_x}) changed
        GROUP BY county_code;
      END IF;
      RETURN NULL;
    END $$"""
# table: (its village column, the column telling villages apart, the condition on a row, the
# same on the lateral pair `x`)
SHAPE_TABLES = {"grid": ("village_code", "code", "village_code IS NOT NULL", "x.village IS NOT NULL"),
                "region": ("code", "level", "level = 'village'", "x.kind = 'village'")}


def _statement_triggers(table: str, function: str, rows: str) -> None:
    for event, referencing in (("INSERT", f"NEW TABLE AS new_{rows}"),
                               ("UPDATE", f"OLD TABLE AS old_{rows} NEW TABLE AS new_{rows}"),
                               ("DELETE", f"OLD TABLE AS old_{rows}")):
        op.execute(f"CREATE TRIGGER {table}_{function}_{event.lower()} AFTER {event} ON {table} "
                   f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")


def upgrade() -> None:
    op.create_table(
        "household_last_visit",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("walked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], ondelete="CASCADE",
                                name=op.f("fk_household_last_visit_household_id_household")),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_last_visit")),
    )
    op.create_index("ix_household_last_visit_county", "household_last_visit",
                    ["county_code", "household_id", "visited_at", "walked_at"])
    op.create_table(
        "village_uncovered",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("gap_m2", sa.Float(), nullable=False),
        sa.Column("geom", geoalchemy2.types.Geometry(
            srid=4326, dimension=2, from_text="ST_GeomFromEWKT", name="geometry",
            spatial_index=False), nullable=True),
        sa.Column("m2", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("county_code", "village_code", name=op.f("pk_village_uncovered")),
    )
    # every geometry column is GiST-indexed (tests/db/test_schema.py): the layer's households
    # are found inside these parts
    op.create_index("idx_village_uncovered_geom", "village_uncovered", ["geom"], unique=False,
                    postgresql_using="gist")
    op.execute(LAST_VISIT_REFRESH)
    op.execute(VISIT_CHANGED)
    _statement_triggers("visit", "visit_last_changed", "visit")
    op.execute(UNCOVERED_REFRESH)
    for table, (village, kind, only, only_x) in SHAPE_TABLES.items():
        op.execute(SHAPES_CHANGED.format(table=table, village=village, kind=kind, only=only,
                                         only_x=only_x))
        _statement_triggers(table, f"{table}_uncovered_changed", "shape")
    # What is already stored.
    op.execute("""
        INSERT INTO household_last_visit (county_code, household_id, visited_at, walked_at)
        SELECT min(county_code), household_id, max(visited_at),
               max(visited_at) FILTER (WHERE kind = 'visit')
        FROM visit GROUP BY household_id""")
    op.execute("""
        SELECT village_uncovered_refresh(county_code, array_agg(DISTINCT village_code))
        FROM grid WHERE valid_to IS NULL GROUP BY county_code""")


def downgrade() -> None:
    for table, function in (("visit", "visit_last_changed"),
                            ("grid", "grid_uncovered_changed"),
                            ("region", "region_uncovered_changed")):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{function}_{event} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP FUNCTION IF EXISTS village_uncovered_refresh(varchar, varchar[])")
    op.execute("DROP FUNCTION IF EXISTS household_last_visit_refresh(integer[])")
    op.drop_table("village_uncovered")
    op.drop_index("ix_household_last_visit_county", table_name="household_last_visit")
    op.drop_table("household_last_visit")
