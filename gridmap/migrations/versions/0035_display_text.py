"""display text kept beside the shapes: what maps send of each grid and region, written once

`/map/grids.geojson` cost what PostGIS took to build the same FeatureCollection per request
(0.24 s at county scale): every one of 2,400 display shapes went through ST_AsGeoJSON, the
text was parsed back as json, and json_agg copied it all again. The shapes change only when
boundaries do, so their text is now written with them:

* `display_geojson` on `grid` and `region`: what maps draw of the row (the display shape,
  else `geom` simplified at the level's tolerance, as the layers did for a row stored before
  it had one) as GeoJSON text at 5 decimals;
* `display_polyline`: the same shape's one ring as an encoded polyline (precision 5), for
  map.js's compact layers; NULL for a shape of several parts or with holes;
* `label_lonlat`: the label point's `[lon, lat]` (the stored one, else a point on `geom`).

They are stored generated columns: PostgreSQL writes them whenever a row's shapes are written,
whatever path writes them (importers, the grid editor, generation replace, recode, the demo
load, plain SQL), so they cannot go stale; nothing needs to remember to refresh them. The
text is stored uncompressed (STORAGE EXTERNAL): a grid's row is past the size where
PostgreSQL compresses its largest values, and every layer request would decompress all of
them again (~10 ms of 30 for a county's grids).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01 23:00:00
"""
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

DECIMALS = 5  # gridmap.geo.DISPLAY_DECIMALS
# gridmap.geo.DISPLAY_TOLERANCE, as the layers chose it (a county: the township's).
TOLERANCE = {"grid": "5e-05",
             "region": "CASE level WHEN 'village' THEN 0.0002 ELSE 0.0005 END"}


def _shape(table: str) -> str:
    return f"coalesce(geom_display, ST_Multi(ST_SimplifyPreserveTopology(geom, {TOLERANCE[table]})))"


def _columns(table: str) -> dict[str, str]:
    shape = _shape(table)
    return {
        "display_geojson": f"ST_AsGeoJSON({shape}, {DECIMALS})",
        "display_polyline": (
            f"CASE WHEN ST_NumGeometries({shape}) = 1"
            f" AND ST_NumInteriorRings(ST_GeometryN({shape}, 1)) = 0"
            f" THEN ST_AsEncodedPolyline(ST_ExteriorRing(ST_GeometryN({shape}, 1)), {DECIMALS}) END"),
        "label_lonlat": (f"(ST_AsGeoJSON(coalesce(geom_label, ST_PointOnSurface(geom)), {DECIMALS})"
                         f"::json -> 'coordinates')::text"),
    }


UNCOMPRESSED = ("display_geojson", "display_polyline")


def upgrade() -> None:
    for table in TOLERANCE:
        # One ALTER TABLE: the columns are added, then their storage set, then the table is
        # rewritten once with the values written as stored.
        op.execute(f"ALTER TABLE {table} " + ", ".join(
            [f"ADD COLUMN {name} text GENERATED ALWAYS AS ({expression}) STORED"
             for name, expression in _columns(table).items()]
            + [f"ALTER COLUMN {name} SET STORAGE EXTERNAL" for name in UNCOMPRESSED]))


def downgrade() -> None:
    for table in TOLERANCE:
        for name in _columns(table):
            op.drop_column(table, name)
