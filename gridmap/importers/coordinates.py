"""Bringing a file's coordinates to lon/lat (EPSG:4326), the one way every reader does it.

The coordinate system is, in order: the one a person names (`--crs EPSG:4524`, `gcj02`,
`bd09`), the file's own (a .prj, a GeoPackage's SRS, a GeoJSON `crs` member), else none:
then the coordinates are taken as lon/lat only when every one of them is plausible for
China; a file whose coordinates are all plausible with the axes swapped is named as such.
GCJ-02 / BD-09 (Gaode, Tencent, Baidu basemaps) go through `gridmap.geo`; everything else
through pyproj.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from gridmap import geo
from gridmap.errors import Message, _

Convert = Callable[[BaseGeometry], BaseGeometry]
LONLAT_EPSG = (4326, 4490, 4610, 4214)  # WGS84, CGCS2000, Xian 1980, Beijing 1954: lon/lat to metres
CRS_HINT = _("请用 --crs 指明坐标系：投影坐标如 EPSG:4524（CGCS2000 3 度带 108°E），"
             "高德/腾讯坐标用 gcj02，百度坐标用 bd09")


class CrsProblem(geo.GeometryProblem):
    """The file's coordinates cannot be brought to lon/lat as given."""


def identity(geom: BaseGeometry) -> BaseGeometry:
    """The shape as it is (the file is lon/lat already)."""
    return geom


def converter(given: str | None, file_crs: object = None) -> tuple[Convert, Message | None]:
    """(function bringing a shape to lon/lat, note for the report) for a person's `--crs`
    (`auto`/None: the file's `file_crs`, any pyproj input) — or CrsProblem."""
    given = (given or "auto").strip()
    if given.lower() in ("gcj02", "gcj-02", "bd09", "bd-09"):
        name = given.lower().replace("-", "")
        return (lambda geom: geo.unshift_geometry(geom, name)), _("坐标按 %(crs)s 转换为 WGS84", crs=name.upper())
    if given.lower() != "auto":
        return _pyproj(given, _("--crs 的值"))
    if file_crs is None:
        return identity, None
    return _pyproj(file_crs, _("文件的坐标系"))


def declared(given: str | None, file_crs: object) -> object:
    """The coordinate system a person or the file named (None: neither did)."""
    return given if given and given != "auto" else file_crs


def _pyproj(user_input: object, what: Message) -> tuple[Convert, Message | None]:
    try:
        crs = CRS.from_user_input(user_input)
    except (CRSError, TypeError, ValueError) as exc:
        shown = str(user_input)[:80]
        raise CrsProblem(_("%(what)s %(crs)s 无法识别", what=what, crs=shown), CRS_HINT) from exc
    epsg = crs.to_epsg(min_confidence=70)
    if epsg == 4326 or (crs.is_geographic and epsg is None and crs.ellipsoid and
                        crs.ellipsoid.name.startswith("WGS 84")):
        return identity, None
    if epsg == 4490:
        return identity, _("CGCS2000 (EPSG:4490) 按 WGS84 (EPSG:4326) 处理，两者相差厘米级 / treated as 4326")
    transformer = Transformer.from_crs(crs, 4326, always_xy=True)

    def convert(geom: BaseGeometry) -> BaseGeometry:
        def coords(xy):
            lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])
        return shapely.transform(geom, coords)

    name = f"EPSG:{epsg}" if epsg else crs.name
    return convert, _("坐标由 %(crs)s 转换为经纬度 WGS84", crs=name)


def check_lonlat_file(geometries: Iterable[BaseGeometry | None], declared: object = None) -> None:
    """Without a coordinate system, coordinates must be lon/lat plausible for China. When
    none is, CrsProblem says whether the axes look swapped or the numbers look projected
    (when only some are not, each of those features is refused by `geo.check_geometry`)."""
    bounds = [g.bounds for g in geometries if isinstance(g, BaseGeometry) and not g.is_empty]
    if not bounds:
        return
    box = np.array(bounds, dtype=float)
    c_lon_min, c_lat_min, c_lon_max, c_lat_max = geo.CHINA_LONLAT_BOUNDS
    finite = np.isfinite(box).all(axis=1)
    with np.errstate(invalid="ignore"):
        plausible = finite & ((box[:, 0] >= c_lon_min) & (box[:, 2] <= c_lon_max)
                              & (box[:, 1] >= c_lat_min) & (box[:, 3] <= c_lat_max))
    if plausible.any() or (declared in (None, "auto") and not finite.all()):
        return
    if declared not in (None, "auto"):
        shown = box[finite]
        extent = (f"{shown[:, 0].min():g}, {shown[:, 1].min():g} – {shown[:, 2].max():g}, {shown[:, 3].max():g}"
                  if len(shown) else _("（无法换算）"))
        raise CrsProblem(_("按坐标系 %(crs)s 换算后，坐标范围 %(extent)s 不在中国境内",
                           crs=str(declared)[:80], extent=extent),
                         _("文件或 --crs 声明的坐标系与坐标不符：%(hint)s", hint=CRS_HINT))
    lon_min, lat_min = box[:, 0].min(), box[:, 1].min()
    lon_max, lat_max = box[:, 2].max(), box[:, 3].max()
    extent = f"{lon_min:g}, {lat_min:g} – {lon_max:g}, {lat_max:g}"
    if c_lon_min <= lat_min and lat_max <= c_lon_max and c_lat_min <= lon_min and lon_max <= c_lat_max:
        raise CrsProblem(_("文件没有坐标系，坐标范围 %(extent)s 像是把纬度写在了经度前面（经纬度写反）",
                           extent=extent),
                         _("请按 经度 lon 在前、纬度 lat 在后 重新导出（如 102.40, 25.53）"))
    raise CrsProblem(_("文件没有坐标系，坐标范围 %(extent)s 不是中国境内的经纬度", extent=extent), CRS_HINT)
