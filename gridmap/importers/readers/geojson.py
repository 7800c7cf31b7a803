"""GeoJSON FeatureCollections: properties become cells, any geometry type (checked later)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal

import ijson
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap import geo
from gridmap.errors import _
from gridmap.importers import coordinates, fields, layouts
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit, sniff_encoding

RE_EXPORT = _("请用 GIS 软件重新导出 GeoJSON")

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection")


PROBE = 1_000  # features looked at together before the rest streams: crs, layout, lon/lat
MAX_DEPTH = 64  # GeoJSON nests 6 deep (collection, features, feature, geometry, rings, positions)


class _Utf8:
    """A text stream read back as UTF-8 bytes: what ijson parses (the file may be GB18030)."""

    def __init__(self, text):
        self.text = text

    def read(self, size: int = -1) -> bytes:
        return self.text.read(size).encode("utf-8", "surrogatepass")


def geojson_records(source: Source, _content, columns: dict[str, bool], limits: Limits,
                    report: ImportReport) -> Iterator[Record]:
    """Features of a GeoJSON FeatureCollection (properties become cells), streamed: one pass
    checks the document's shape and reads its `crs`, a second yields the features one by one
    (ijson), so a large layer is never held in memory whole."""
    encoding = sniff_encoding(source, report)
    if encoding is None:
        return
    head = _head(source, encoding, report, FAST)
    if head == INTEGER_OVERFLOW:
        # yajl's C backend cannot hand Python an integer of more digits than Python reads
        # (it crashes): such rare files are read by ijson's pure-Python backend instead.
        head = _head(source, encoding, report, SAFE)
    if head is None:
        return
    try:
        convert, note = coordinates.converter(source.crs, _crs_name(head.get("crs")))
    except coordinates.CrsProblem as exc:
        report.add(Problem(source.name, "crs", problem=exc.problem, hint=exc.hint))
        return
    if note:
        report.note(source.name, note)
    unknown: set[str] = set()
    flattened = 0
    features = _features(source, encoding, head["backend"])
    probe = []
    for index, feature in enumerate(features, 1):
        if index > limits.max_rows:
            report.add(Problem(source.name, problem=_("要素数超过上限 %(limit)s", limit=limits.max_rows),
                               hint=_("请拆分文件后分别导入")))
            return
        record = _feature_record(source, index, feature, columns, unknown, limits, report)
        if record is None:
            continue
        if probe is not None:
            probe.append(record)
            if len(probe) < PROBE:
                continue
            convert = _probe(source, head, probe, convert, report)
            if convert is None:
                return
            records, probe = probe, None
        else:
            records = [record]
        for record in records:
            flattened += _place(record, convert)
            yield record
    if probe:
        convert = _probe(source, head, probe, convert, report)
        if convert is None:
            return
        for record in probe:
            flattened += _place(record, convert)
            yield record
    if flattened:
        report.note(source.name, _("%(count)s 个要素带有高程 Z/测量值 M，已去掉，只保留平面坐标", count=flattened))
    if unknown:  # names as a person can read them: hostile ones escaped, many cut short
        names = sorted(fields.readable(n) for n in unknown)
        shown = ", ".join(names[:20])
        report.note(source.name, _("忽略了未知属性 %(names)s 等 %(count)s 个", names=shown, count=len(names))
                    if len(names) > 20 else _("忽略了未知属性 %(names)s", names=shown))


def _probe(source, head, probe: list[Record], convert, report):
    """The converter for the whole file, decided on its first features: a public layout
    (DataV: GCJ-02) and whether the coordinates are lon/lat at all; None after filing why not."""
    if any(r.layout for r in probe):
        report.note(source.name, _("按 %(layout)s 格式读取（adcode → code）", layout=layouts.DATAV))
        if (source.crs or "auto") == "auto" and head.get("crs") is None:
            # DataV's boundaries are Gaode's: GCJ-02, whatever the file does not say
            convert, _note = coordinates.converter("gcj02")
            report.note(source.name, _("%(layout)s 的坐标是高德 GCJ-02，已转换为 WGS84；"
                                       "若文件已是 WGS84，请加 --crs EPSG:4326", layout=layouts.DATAV))
    try:
        coordinates.check_lonlat_file((_flat(r.geometry, convert) for r in probe), coordinates.declared(
            source.crs, _crs_name(head.get("crs"))))
    except coordinates.CrsProblem as exc:
        report.add(Problem(source.name, "crs", problem=exc.problem, hint=exc.hint))
        return None
    return convert


def _flat(geometry, convert):
    if not isinstance(geometry, BaseGeometry):
        return geometry
    return convert(shapely.force_2d(geometry) if shapely.has_z(geometry) else geometry)


def _place(record: Record, convert) -> int:
    """Bring the record's shape to 2D lon/lat; 1 when a Z was dropped."""
    if not isinstance(record.geometry, BaseGeometry):
        return 0
    flattened = shapely.has_z(record.geometry)
    record.geometry = _flat(record.geometry, convert)
    return int(flattened)


def _open(source: Source, encoding: str):
    return io.TextIOWrapper(source.open(), encoding=encoding, newline="")


FAST = ijson  # yajl2_c when installed
SAFE = ijson.get_backend("python")
INTEGER_OVERFLOW = "integer overflow"


def _head(source: Source, encoding: str, report: ImportReport, backend) -> dict | str | None:
    """The document's members other than its features ({"type", "crs"}), checked in one
    streaming pass (valid JSON, not nested too deep, a FeatureCollection with a features
    array); None after filing why not."""
    head: dict = {"backend": backend}
    builder = None
    depth = 0
    features_seen = 0
    expect_features = False
    try:
        with _open(source, encoding) as text:
            # use_float in C: an integer past 64 bits is an error here, never a crash later
            events = backend.parse(_Utf8(text), use_float=backend is FAST)
            for number, (prefix, event, value) in enumerate(events, 1):
                if number == 1 and event != "start_map":
                    break
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth > MAX_DEPTH:
                        report.add(Problem(source.name, problem=_("JSON 嵌套层数过深，无法读取"),
                                           hint=_("GeoJSON 的坐标最多嵌套 4 层：请用 GIS 软件重新导出")))
                        return None
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if expect_features:
                    head["features_not_array"] = head.get("features_not_array") or event != "start_array"
                    expect_features = False
                if prefix == "" and event == "map_key" and value == "features":
                    features_seen += 1
                    expect_features = True
                elif prefix == "type" and depth == 1:
                    head["type"] = value
                elif prefix == "crs" or prefix.startswith("crs."):
                    if builder is None:
                        builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    if depth == 1:
                        head["crs"], builder = builder.value, None
    except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
        if backend is FAST and INTEGER_OVERFLOW in str(exc):
            return INTEGER_OVERFLOW
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:100]
        report.add(Problem(source.name, problem=_("不是有效的 JSON（%(reason)s）", reason=reason), hint=RE_EXPORT))
        return None
    if head.get("type") != "FeatureCollection" or features_seen != 1 or head.get("features_not_array"):
        report.add(Problem(source.name, problem=_("不是 GeoJSON FeatureCollection"),
                           hint=_("顶层应为 %(example)s", example='{"type": "FeatureCollection", "features": [...]}')))
        return None
    return head


def _features(source: Source, encoding: str, backend) -> Iterator[object]:
    """Each member of the features array, built one at a time (the document was checked)."""
    with _open(source, encoding) as text:
        # Not use_float: a long integer is still a cell the field's parser names.
        for feature in backend.items(_Utf8(text), "features.item"):
            yield _floats(feature)


def _floats(value):
    """ijson's Decimals as floats, as json.loads gives them (the depth was checked first)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    return value


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


READER = Reader("GeoJSON", ("geojson", "json"), geojson_records, geometry=GEOMETRY_TYPES, text="file")
