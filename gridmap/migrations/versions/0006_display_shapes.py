"""display shapes: regions and grids keep a coverage-simplified copy for maps

Maps simplified every shape on every request; now the import (and this migration, for
what is already stored) writes `geom_display` once per boundary change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:40:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("region", "grid")


def upgrade() -> None:
    from gridmap.geo import refresh_display_shapes

    for table in TABLES:
        op.add_column(table, sa.Column("geom_display", geoalchemy2.types.Geometry(
            geometry_type="MULTIPOLYGON", srid=4326, dimension=2, from_text="ST_GeomFromEWKT",
            name="geometry", spatial_index=False), nullable=True))
        op.create_check_constraint(op.f(f"ck_{table}_geom_display_valid"), table,
                                   "geom_display IS NULL OR ST_IsValid(geom_display)")
        op.create_index(f"idx_{table}_geom_display", table, ["geom_display"], unique=False,
                        postgresql_using="gist")
    connection = op.get_bind()
    counties = connection.execute(sa.text(
        "SELECT DISTINCT county_code FROM region UNION SELECT DISTINCT county_code FROM grid"))
    for (county_code,) in counties.all():
        refresh_display_shapes(connection, county_code)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"idx_{table}_geom_display", table_name=table)
        op.drop_column(table, "geom_display")
