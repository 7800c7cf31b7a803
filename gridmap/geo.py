"""Coordinates and shapes at the door: CRS handling, validation, lon/lat order.

Everything stored is lon/lat in one SRID (`SRID`, EPSG:4326); files in other coordinate
systems are brought to it by `gridmap.importers.coordinates` (CGCS2000, EPSG:4490, differs
from WGS84 by centimetres and is taken as it, with a note). GCJ-02 / BD-09 (Chinese web basemaps) are converted at the end of this module.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity
from sqlalchemy import bindparam, text

from gridmap.db import SRID
from gridmap.errors import BadInput, Message, _

__all__ = ["SRID", "CHINA_LONLAT_BOUNDS", "GeometryProblem", "repair_polygonal", "area_m2", "geometry_from_geojson",
           "check_lonlat", "check_geometry", "as_multipolygon", "ewkt", "DISPLAY_TOLERANCE", "DISPLAY_DECIMALS",
           "refresh_display_shapes", "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09",
           "bd09_to_gcj02", "wgs84_to_bd09", "bd09_to_wgs84", "shift_geometry", "unshift_geometry"]

# China's extent with a margin (lon_min, lat_min, lon_max, lat_max): a first guard
# against projected coordinates, zeros and swapped axes, not a border.
CHINA_LONLAT_BOUNDS = (73.0, 3.0, 136.0, 54.0)

class GeometryProblem(BadInput):
    """What is wrong with a shape (`problem`, the error's message), and what to do (`hint`)."""

    def __init__(self, problem: Message | str, hint: Message | str = ""):
        super().__init__(problem)
        self.problem, self.hint = self.message, hint


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
        _("坐标应为经纬度 (EPSG:4326)，不是投影坐标（米）；如 102.40, 25.53。"
          "投影坐标请用 --crs 指明坐标系（如 EPSG:4524）"))


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


def repair_polygonal(geom: BaseGeometry, repaired) -> BaseGeometry:
    """An invalid (Multi)Polygon mended with make_valid (its polygonal part), after telling
    `repaired(reason, area in m² after repair)`; a valid one as it is."""
    if geom.is_valid or geom.is_empty:
        return geom
    reason = explain_validity(geom)
    mended = shapely.make_valid(shapely.force_2d(geom))
    parts = [p for p in getattr(mended, "geoms", [mended]) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [q for p in parts for q in getattr(p, "geoms", [p])]
    if not polygons:
        raise GeometryProblem(_("几何无效：%(reason)s，修复后不剩任何面", reason=reason),
                              _("请在 GIS 软件中重画这个面"))
    mended = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    repaired(reason, area_m2(mended))
    return mended


def area_m2(geom: BaseGeometry) -> float:
    """Area in m² of a lon/lat shape (equal-area on the shape's own latitude; good to a few %)."""
    lat = geom.centroid.y if not geom.is_empty else 0.0
    metres_per_degree = 111_320.0
    return geom.area * metres_per_degree ** 2 * math.cos(math.radians(lat))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Polygons are stored as MultiPolygons (one column type)."""
    return MultiPolygon([geom]) if isinstance(geom, Polygon) else geom


class LonLat(NamedTuple):
    """A point read from lon/lat cells and checked (`check_lonlat`): what a table row's
    position is until it reaches the database (a shapely Point per row costs more than the
    rest of the row)."""

    lon: float
    lat: float

    @property
    def x(self) -> float:
        """The longitude, named as shapely names it."""
        return self.lon

    @property
    def y(self) -> float:
        """The latitude, named as shapely names it."""
        return self.lat

    def ewkt(self) -> str:
        """EWKT in the one SRID; repr keeps every digit, as `ewkt` does."""
        return f"SRID={SRID};POINT({self.lon!r} {self.lat!r})"


def ewkt(geom: BaseGeometry) -> str:
    """EWKT in the one SRID, 2D, full precision (PostGIS parses it as geometry input)."""
    return f"SRID={SRID};{shapely.to_wkt(shapely.force_2d(geom), rounding_precision=-1)}"


# --- display shapes ---------------------------------------------------------------------

# Simplification tolerance of the shapes maps draw, in degrees (EPSG:4326; 0.0001° ≈ 11 m
# at 25°N). A county overview needs no more detail than a pixel.
DISPLAY_TOLERANCE = {"township": 0.0005, "village": 0.0002, "grid": 0.00005}
# Decimals of the coordinates maps are sent (≈ 1 m: enough for a 示意图, a third of the bytes
# of full precision). The display text kept beside each shape (gridmap.models) is written at it.
DISPLAY_DECIMALS = 5
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
    """Recompute `geom_display` (and its label point, `geom_label`) of a county's current
    townships, villages and grids.

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
        # The label point goes inside what is drawn, found once here, not per request.
        labels = shapely.point_on_surface(shapes)
        update = text(
            f"UPDATE {table} t SET geom_display = ST_Multi(ST_SetSRID(ST_GeomFromWKB(v.wkb), "
            f"{SRID})), geom_label = ST_SetSRID(ST_GeomFromWKB(v.label), {SRID})"
            f" FROM unnest(:ids, :wkbs, :labels) AS v(id, wkb, label) WHERE t.id = v.id"
        ).bindparams(bindparam("ids"), bindparam("wkbs"), bindparam("labels"))
        connection.execute(update, {"ids": [r[0] for r in rows],
                                    "wkbs": list(shapely.to_wkb(shapes)),
                                    "labels": list(shapely.to_wkb(labels))})
        written += len(rows)
    return written


# --- Chinese web-map coordinates: GCJ-02 (高德、腾讯) and BD-09 (百度). 天地图 is CGCS2000: no shift ---
#
# Stored data stay WGS84. These shift our shapes onto a GCJ-02 or BD-09 basemap for display
# (so they line up) and bring GCJ-02/BD-09 coordinates from such sources back to WGS84 on
# import. The forward formulas are the published ones (Krasovsky ellipsoid parameters); the
# inverses have no closed form, so they iterate the forward one until it reproduces the input
# to within INVERSE_TOLERANCE_DEG (~1 cm, far below the 0.5 m asked of them).

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = math.pi * 3000.0 / 180.0
# The region where GCJ-02 applies; outside it the shift is the identity, as the public tools do.
GCJ02_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)
INVERSE_TOLERANCE_DEG = 1e-7
_INVERSE_MAX_STEPS = 30


def _in_china(lon, lat):
    lon_min, lat_min, lon_max, lat_max = GCJ02_BOUNDS
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _gcj02_offset(lon, lat):
    """(dlon, dlat) in degrees that GCJ-02 adds to a WGS84 position (numpy arrays or floats)."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _arrays(lon, lat):
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _same_kind(lon_in, lon, lat):
    """Floats back for float input, arrays for array input."""
    if np.ndim(lon_in) == 0:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (lon, lat); floats or arrays. Outside China the position is unchanged."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _gcj02_offset(x, y)
    return _same_kind(lon, x + dlon, y + dlat)


def _invert(forward, lon, lat):
    """The position p with forward(p) == (lon, lat), by fixed-point iteration."""
    target_x, target_y = _arrays(lon, lat)
    x, y = target_x.copy(), target_y.copy()
    for _step in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        ex, ey = fx - target_x, fy - target_y
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < INVERSE_TOLERANCE_DEG) and np.all(np.abs(ey) < INVERSE_TOLERANCE_DEG):
            break
    return _same_kind(lon, x, y)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 → WGS84 (lon, lat), iterated to ~1 cm; floats or arrays."""
    return _invert(lambda x, y: wgs84_to_gcj02(x, y), lon, lat)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (lon, lat), Baidu's published formula; floats or arrays."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return _same_kind(lon, z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02 (lon, lat), iterated (the usual closed-form reverse is off by up to ~1 m)."""
    return _invert(lambda x, y: gcj02_to_bd09(x, y), lon, lat)


def wgs84_to_bd09(lon, lat):
    """WGS84 → BD-09 (lon, lat): through GCJ-02, as Baidu does."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS84 (lon, lat), iterated to ~1 cm."""
    return _invert(lambda x, y: wgs84_to_bd09(x, y), lon, lat)


CHINA_CRS = {"wgs84": None, "gcj02": (wgs84_to_gcj02, gcj02_to_wgs84),
             "bd09": (wgs84_to_bd09, bd09_to_wgs84)}


def shift_geometry(geom: BaseGeometry, to_crs: str) -> BaseGeometry:
    """A WGS84 shape as drawn on a `to_crs` basemap ('wgs84', 'gcj02' or 'bd09')."""
    return _apply(geom, to_crs, forward=True)


def unshift_geometry(geom: BaseGeometry, from_crs: str) -> BaseGeometry:
    """A shape given in `from_crs` ('wgs84', 'gcj02' or 'bd09') brought back to WGS84."""
    return _apply(geom, from_crs, forward=False)


def _apply(geom: BaseGeometry, crs: str, forward: bool) -> BaseGeometry:
    try:
        pair = CHINA_CRS[crs]
    except KeyError:
        raise ValueError(f"unknown coordinate system {crs!r}; use one of {sorted(CHINA_CRS)}") from None
    if pair is None:
        return geom
    convert = pair[0] if forward else pair[1]

    def coords(xy):
        lon, lat = convert(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, coords)


def shift_geojson(collection: dict, to_crs: str) -> dict:
    """A GeoJSON FeatureCollection as drawn on a `to_crs` basemap: every geometry through
    shift_geometry, and the `label_lonlat` point of each feature too. Stored data stays WGS84;
    this is for display only."""
    if to_crs not in CHINA_CRS:
        raise ValueError(f"unknown coordinate system {to_crs!r}; use one of {sorted(CHINA_CRS)}")
    if CHINA_CRS[to_crs] is None:
        return collection
    features = []
    for feature in collection.get("features", ()):
        feature = dict(feature)
        if feature.get("geometry"):
            shifted = shift_geometry(shapely.geometry.shape(feature["geometry"]), to_crs)
            feature["geometry"] = shapely.geometry.mapping(shifted)
        label = (feature.get("properties") or {}).get("label_lonlat")
        if label:
            lon, lat = shift_lonlat(label[0], label[1], to_crs)
            feature["properties"] = {**feature["properties"],
                                     "label_lonlat": [round(lon, 6), round(lat, 6)]}
        features.append(feature)
    return {**collection, "features": features}


def shift_lonlat(lon: float, lat: float, to_crs: str) -> tuple[float, float]:
    """One WGS84 position as drawn on a `to_crs` basemap."""
    if to_crs not in CHINA_CRS:
        raise ValueError(f"unknown coordinate system {to_crs!r}; use one of {sorted(CHINA_CRS)}")
    pair = CHINA_CRS[to_crs]
    return (lon, lat) if pair is None else pair[0](lon, lat)
