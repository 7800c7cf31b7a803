"""Coordinates and shapes at the door: CRS handling, validation, lon/lat order.

Everything stored is lon/lat in one SRID (`SRID`, EPSG:4326). CGCS2000 (EPSG:4490)
differs from WGS84 by centimetres, so 4490 input is accepted as 4326 and the import
report says so. GCJ-02 / BD-09 (Chinese web basemaps) conversion comes in a later issue.
"""

from __future__ import annotations

import math

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy import bindparam, text

from gridmap.db import SRID
from gridmap.errors import BadInput, Message, _

__all__ = ["SRID", "CHINA_LONLAT_BOUNDS", "GeometryProblem", "crs_srid", "geometry_from_geojson",
           "check_lonlat", "check_geometry", "as_multipolygon", "ewkt", "DISPLAY_TOLERANCE",
           "refresh_display_shapes"]

# China's extent with a margin (lon_min, lat_min, lon_max, lat_max): a first guard
# against projected coordinates, zeros and swapped axes, not a border.
CHINA_LONLAT_BOUNDS = (73.0, 3.0, 136.0, 54.0)

# GeoJSON `crs` names we take as lon/lat WGS84, with the note the report carries.
_CGCS2000_NOTE = _("CGCS2000 (EPSG:4490) 按 WGS84 (EPSG:4326) 处理，两者相差厘米级 / treated as 4326")
_LONLAT_CRS = {
    "urn:ogc:def:crs:OGC:1.3:CRS84": None,
    "urn:ogc:def:crs:OGC::CRS84": None,
    "EPSG:4326": None,
    "urn:ogc:def:crs:EPSG::4326": None,
    "EPSG:4490": _CGCS2000_NOTE,
    "urn:ogc:def:crs:EPSG::4490": _CGCS2000_NOTE,
}


class GeometryProblem(BadInput):
    """What is wrong with a shape (`problem`, the error's message), and what to do (`hint`)."""

    def __init__(self, problem: Message | str, hint: Message | str = ""):
        super().__init__(problem)
        self.problem, self.hint = self.message, hint


def crs_srid(name: str | None) -> tuple[int, Message | None]:
    """(SRID, note) for a GeoJSON crs name; None means the GeoJSON default (CRS84)."""
    if name is None:
        return SRID, None
    if name in _LONLAT_CRS:
        return SRID, _LONLAT_CRS[name]
    raise GeometryProblem(
        _("坐标系 %(crs)s 不支持", crs=name),
        _("请转换为经纬度 WGS84 (EPSG:4326) 或 CGCS2000 (EPSG:4490) 后再导入；"
          "高德/腾讯 (GCJ-02)、百度 (BD-09) 坐标的转换尚未提供"))


def check_lonlat(lon: float, lat: float) -> None:
    """Refuse a point that cannot be in China, naming swapped axes when that is the likely cause."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryProblem(_("坐标不是有限数值"), _("请检查经度 lon / 纬度 lat 两列"))
    lon_min, lat_min, lon_max, lat_max = CHINA_LONLAT_BOUNDS
    if lon_min <= lon <= lon_max and lat_min <= lat <= lat_max:
        return
    if lon_min <= lat <= lon_max and lat_min <= lon <= lat_max:
        raise GeometryProblem(
            _("坐标 (%(lon)s, %(lat)s) 不在中国境内，经纬度可能写反了", lon=f"{lon:g}", lat=f"{lat:g}"),
            _("顺序应为 经度 lon 在前、纬度 lat 在后（如 102.40, 25.53）"))
    raise GeometryProblem(
        _("坐标 (%(lon)s, %(lat)s) 不在中国境内", lon=f"{lon:g}", lat=f"{lat:g}"),
        _("坐标应为经纬度 (EPSG:4326)，不是投影坐标（米）；如 102.40, 25.53"))


def geometry_from_geojson(obj: object) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object, or GeometryProblem."""
    if not isinstance(obj, dict) or "type" not in obj:
        raise GeometryProblem(_("geometry 不是 GeoJSON 几何对象"),
                              _("应形如 %(example)s", example='{"type": "Point", "coordinates": [102.4, 25.5]}'))
    try:
        geom = shape(obj)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryProblem(_("几何无法解析（%(reason)s）", reason=str(exc)),
                              _("请检查 coordinates 的嵌套层数和数值")) from exc
    return geom


def check_geometry(geom: BaseGeometry, allowed_types: tuple[str, ...]) -> None:
    """Refuse a shape of the wrong type, empty, invalid, or outside China. Never repairs."""
    if geom.geom_type not in allowed_types:
        raise GeometryProblem(_("几何类型为 %(found)s，应为 %(allowed)s", found=geom.geom_type,
                                allowed=" / ".join(allowed_types)),
                              _("请导出正确图层（面图层用 Polygon/MultiPolygon，点图层用 Point）"))
    if geom.is_empty:
        raise GeometryProblem(_("几何为空"), _("请删除该要素或补画图形"))
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    lon_min, lat_min, lon_max, lat_max = geom.bounds
    check_lonlat(lon_min, lat_min)
    check_lonlat(lon_max, lat_max)
    if not geom.is_valid:
        raise GeometryProblem(
            _("几何无效：%(reason)s", reason=explain_validity(geom)),
            _("请在 GIS 软件中修复（如 QGIS「修复几何」或 ST_MakeValid）后重新导入；系统不会自动修改图形"))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Polygons are stored as MultiPolygons (one column type)."""
    return MultiPolygon([geom]) if isinstance(geom, Polygon) else geom


def ewkt(geom: BaseGeometry) -> str:
    """EWKT in the one SRID, 2D, full precision (PostGIS parses it as geometry input)."""
    return f"SRID={SRID};{shapely.to_wkt(shapely.force_2d(geom), rounding_precision=-1)}"


# --- display shapes ---------------------------------------------------------------------

# Simplification tolerance of the shapes maps draw, in degrees (EPSG:4326; 0.0001° ≈ 11 m
# at 25°N). A county overview needs no more detail than a pixel.
DISPLAY_TOLERANCE = {"township": 0.0005, "village": 0.0002, "grid": 0.00005}
# coverage_simplify's tolerance is about the square root of the triangles it removes, not a
# distance: 3x keeps about as many vertices as ST_SimplifyPreserveTopology at the tolerance
# above (county scale, grids: 382k vertices → 137k, against 129k).
COVERAGE_TOLERANCE_FACTOR = 3


def _display_sets(county_code: str):
    """(level, SQL of the id and shape of each current row of one coverage)."""
    current = "county_code = :county AND valid_to IS NULL AND geom IS NOT NULL"
    for level in ("township", "village"):
        yield level, "region", f"SELECT id, ST_AsBinary(geom) FROM region WHERE {current} AND level = '{level}'"
    yield "grid", "grid", f"SELECT id, ST_AsBinary(geom) FROM grid WHERE {current}"


def refresh_display_shapes(connection, county_code: str) -> int:
    """Recompute `geom_display` of a county's current townships, villages and grids.

    Each level is simplified as one coverage (`shapely.coverage_simplify`), so neighbours
    keep sharing their edges: no slivers or gaps appear between them, as they would when
    every shape is simplified alone. Maps read these instead of simplifying per request.
    Returns how many shapes were written.
    """
    written = 0
    for level, table, query in _display_sets(county_code):
        rows = connection.execute(text(query), {"county": county_code}).all()
        if not rows:
            continue
        shapes = shapely.coverage_simplify(shapely.from_wkb([bytes(r[1]) for r in rows]),
                                           DISPLAY_TOLERANCE[level] * COVERAGE_TOLERANCE_FACTOR)
        update = text(
            f"UPDATE {table} t SET geom_display = ST_Multi(ST_SetSRID(ST_GeomFromWKB(v.wkb), "
            f"{SRID})) FROM unnest(:ids, :wkbs) AS v(id, wkb) WHERE t.id = v.id"
        ).bindparams(bindparam("ids"), bindparam("wkbs"))
        connection.execute(update, {"ids": [r[0] for r in rows],
                                    "wkbs": list(shapely.to_wkb(shapes))})
        written += len(rows)
    return written
