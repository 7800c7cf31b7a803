"""GeoJSON FeatureCollections: properties become cells, any geometry type (checked later)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import shapely
from shapely.geometry.base import BaseGeometry

from gridmap import geo
from gridmap.errors import _
from gridmap.importers import coordinates, fields, layouts
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit, line_where

RE_EXPORT = _("请用 GIS 软件重新导出 GeoJSON")

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection")


def geojson_records(source: Source, text: str, columns: dict[str, bool], limits: Limits,
                    report: ImportReport) -> Iterator[Record]:
    """Features of a GeoJSON FeatureCollection (properties become cells)."""
    document = _load_json(source, text, report)
    if document is None:
        return
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        report.add(Problem(source.name, problem=_("不是 GeoJSON FeatureCollection"),
                           hint=_("顶层应为 %(example)s", example='{"type": "FeatureCollection", "features": [...]}')))
        return
    try:
        convert, note = coordinates.converter(source.crs, _crs_name(document.get("crs")))
    except coordinates.CrsProblem as exc:
        report.add(Problem(source.name, "crs", problem=exc.problem, hint=exc.hint))
        return
    if note:
        report.note(source.name, note)
    if len(document["features"]) > limits.max_rows:
        report.add(Problem(source.name, problem=_("要素数 %(count)s 超过上限 %(limit)s",
                                                  count=len(document["features"]), limit=limits.max_rows),
                           hint=_("请拆分文件后分别导入")))
        return
    unknown: set[str] = set()
    records = [_feature_record(source, index, feature, columns, unknown, limits, report)
               for index, feature in enumerate(document["features"], 1)]
    records = [r for r in records if r is not None]
    if any(r.layout for r in records):
        report.note(source.name, _("按 %(layout)s 格式读取（adcode → code）", layout=layouts.DATAV))
        if (source.crs or "auto") == "auto" and document.get("crs") is None:
            # DataV's boundaries are Gaode's: GCJ-02, whatever the file does not say
            convert, note = coordinates.converter("gcj02")
            report.note(source.name, _("%(layout)s 的坐标是高德 GCJ-02，已转换为 WGS84；"
                                       "若文件已是 WGS84，请加 --crs EPSG:4326", layout=layouts.DATAV))
    flattened = 0
    for record in records:
        if isinstance(record.geometry, BaseGeometry):
            if shapely.has_z(record.geometry):
                record.geometry, flattened = shapely.force_2d(record.geometry), flattened + 1
            record.geometry = convert(record.geometry)
    if flattened:
        report.note(source.name, _("%(count)s 个要素带有高程 Z/测量值 M，已去掉，只保留平面坐标", count=flattened))
    try:
        coordinates.check_lonlat_file((r.geometry for r in records), coordinates.declared(
            source.crs, _crs_name(document.get("crs"))))
    except coordinates.CrsProblem as exc:
        report.add(Problem(source.name, "crs", problem=exc.problem, hint=exc.hint))
        return
    yield from records
    if unknown:  # names as a person can read them: hostile ones escaped, many cut short
        names = sorted(fields.readable(n) for n in unknown)
        shown = ", ".join(names[:20])
        report.note(source.name, _("忽略了未知属性 %(names)s 等 %(count)s 个", names=shown, count=len(names))
                    if len(names) > 20 else _("忽略了未知属性 %(names)s", names=shown))


def _load_json(source: Source, text: str, report: ImportReport):
    """The parsed document, or None after filing why not (hostile nesting and numbers included)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        report.add(Problem(source.name, line_where(exc.lineno),
                           problem=_("不是有效的 JSON（%(reason)s）", reason=exc.msg), hint=RE_EXPORT))
    except RecursionError:
        report.add(Problem(source.name, problem=_("JSON 嵌套层数过深，无法读取"),
                           hint=_("GeoJSON 的坐标最多嵌套 4 层：请用 GIS 软件重新导出")))
    except ValueError as exc:  # e.g. an integer longer than Python reads (4300 digits)
        report.add(Problem(source.name, problem=_("不是有效的 JSON（%(reason)s）", reason=str(exc)),
                           hint=RE_EXPORT))
    return None


def _crs_name(crs: object) -> object:
    """The name in a GeoJSON 2008 `crs` member ({"type": "name", "properties": {"name": …}})."""
    if not isinstance(crs, dict) or crs.get("properties") is None:
        return None  # no usable crs member: the GeoJSON default
    name = crs["properties"].get("name") if isinstance(crs["properties"], dict) else crs["properties"]
    return name if name is None or isinstance(name, str) else json.dumps(name, ensure_ascii=False)[:100]


def _feature_record(source, index, feature, columns, unknown, limits, report) -> Record | None:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(feature, dict) or feature.get("type") != "Feature" or not isinstance(
            properties, dict | None):
        report.add(Problem(source.name, _("要素 #%(index)s", index=index), problem=_("不是 GeoJSON Feature"),
                           hint=_("每个要素应有 type、properties、geometry")))
        return None
    properties = properties or {}
    datav = layouts.datav(properties)
    if datav is not None:
        properties = datav
    properties = {source.column(name, columns): value for name, value in properties.items()}
    code = properties.get("code") or properties.get("login")
    where = _("要素 #%(index)s (code=%(code)s)", index=index, code=fields.readable(code)) \
        if isinstance(code, str) else _("要素 #%(index)s", index=index)
    cells, native = {}, set()
    for name, value in properties.items():
        if name not in columns:
            unknown.add(name)
            continue
        if isinstance(value, bool):
            cells[name] = "true" if value else "false"
        elif isinstance(value, int | float):
            cells[name], native = repr(value), native | {name}
        elif isinstance(value, dict | list):
            cells[name] = json.dumps(value, ensure_ascii=False)
        else:
            cells[name] = "" if value is None else str(value)
    if not cells_fit(source, where, cells, limits, report):
        return None
    geometry = None
    if feature.get("geometry") is not None:
        try:
            geometry = geo.geometry_from_geojson(feature["geometry"])
        except geo.GeometryProblem as exc:
            geometry = exc
    return Record(where, cells, native, geometry, layouts.DATAV if datav is not None else None)


READER = Reader("GeoJSON", ("geojson", "json"), geojson_records, geometry=GEOMETRY_TYPES)
