"""map facts kept where they change: active households per village and grid, label points

The leaders' map counted the same 300,000 households again for the page's colour classes,
the grids layer and each of the county, township and village layers (0.3–0.6 s each under
load), and the grids layer put a label point on every full-detail grid shape per request.

* `household_count`: the active households (those the maps count: `Scope.households()`)
  per county, village code and grid code ('' for none, so the three make a key), kept by
  statement-level triggers on `household` as deltas: an insert adds its rows' counts, a
  delete takes them off, an update does both (rows whose village, grid, status and county
  did not change cancel out). One aggregate over the statement's rows, whatever path writes
  (the tablet, the importers and the bulk load, a region code change, plain SQL); concurrent
  writers add to the same row under its lock, so none is lost. Grids and regions do not
  enter: a household's count follows its own codes, and the maps join the counts to the
  current grids and regions by code.
* `geom_label` on `grid` and `region`: a point inside the display shape, written beside it
  (gridmap.geo.refresh_display_shapes) whenever boundaries change.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-01 21:00:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# The rows of one transition table as (county, village, grid, ±1) for active households.
_ROWS = ("SELECT county_code, coalesce(village_code, '') AS village_code,"
         " coalesce(grid_code, '') AS grid_code, {sign} AS n FROM {table} WHERE status = 'active'")
# Add the deltas (sorted, so two statements lock shared rows in one order), then drop the
# places left with none.
_APPLY = """
        INSERT INTO household_count AS c (county_code, village_code, grid_code, households)
        SELECT county_code, village_code, grid_code, sum(n) FROM ({rows}) delta
        GROUP BY county_code, village_code, grid_code HAVING sum(n) <> 0
        ORDER BY county_code, village_code, grid_code
        ON CONFLICT (county_code, village_code, grid_code)
          DO UPDATE SET households = c.households + excluded.households;
        DELETE FROM household_count WHERE households = 0;"""
COUNTS_CHANGED = f"""
    CREATE FUNCTION household_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        {_APPLY.format(rows=_ROWS.format(sign=1, table="new_household"))}
      ELSIF TG_OP = 'DELETE' THEN
        {_APPLY.format(rows=_ROWS.format(sign=-1, table="old_household"))}
      ELSE
        {_APPLY.format(rows=_ROWS.format(sign=1, table="new_household") + " UNION ALL "
                       + _ROWS.format(sign=-1, table="old_household"))}
      END IF;
      RETURN NULL;
    END $$"""
REFERENCING = {"INSERT": "NEW TABLE AS new_household",
               "UPDATE": "OLD TABLE AS old_household NEW TABLE AS new_household",
               "DELETE": "OLD TABLE AS old_household"}
LABELED = ("region", "grid")


def upgrade() -> None:
    op.create_table(
        "household_count",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("grid_code", sa.String(length=24), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "village_code", "grid_code",
                                name=op.f("pk_household_count")),
    )
    op.execute(COUNTS_CHANGED)
    for event, referencing in REFERENCING.items():
        op.execute(f"CREATE TRIGGER household_count_{event.lower()} AFTER {event} ON household "
                   f"REFERENCING {referencing} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION household_count_changed()")
    op.execute(f"""
        INSERT INTO household_count (county_code, village_code, grid_code, households)
        SELECT county_code, village_code, grid_code, sum(n)
        FROM ({_ROWS.format(sign=1, table="household")}) h
        GROUP BY county_code, village_code, grid_code""")
    for table in LABELED:
        op.add_column(table, sa.Column("geom_label", geoalchemy2.types.Geometry(
            geometry_type="POINT", srid=4326, dimension=2, from_text="ST_GeomFromEWKT",
            name="geometry", spatial_index=False), nullable=True))
        op.create_index(f"idx_{table}_geom_label", table, ["geom_label"], unique=False,
                        postgresql_using="gist")
        # What is already stored: on the display shape, as refresh_display_shapes puts it.
        op.execute(f"UPDATE {table} SET geom_label = ST_PointOnSurface(coalesce(geom_display, geom))"
                   f" WHERE valid_to IS NULL AND geom IS NOT NULL")


def downgrade() -> None:
    for table in LABELED:
        op.drop_index(f"idx_{table}_geom_label", table_name=table)
        op.drop_column(table, "geom_label")
    for event in REFERENCING:
        op.execute(f"DROP TRIGGER IF EXISTS household_count_{event.lower()} ON household")
    op.execute("DROP FUNCTION IF EXISTS household_count_changed()")
    op.drop_table("household_count")
