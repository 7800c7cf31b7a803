"""Reading import files (CSV, GeoJSON) defensively: size, encoding, shape of the file.

A reader turns a file into `Record`s (one per row or feature) and files its problems in
the report; it never raises on bad input.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gridmap import geo
from gridmap.importers import fields
from gridmap.importers.report import ImportReport, Limits, Problem

BOM = b"\xef\xbb\xbf"
SAVE_AS_UTF8 = "请另存为 UTF-8：Excel「另存为 → CSV UTF-8（逗号分隔）」，WPS 导出时选择 UTF-8 编码"


@dataclass(frozen=True)
class Source:
    """One file to import: a name (its stem names the table) and its bytes or path."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def from_path(cls, path: Path | str) -> Source:
        path = Path(path)
        return cls(path.name, path=path)

    @property
    def stem(self) -> str:
        return self.name.split(".", 1)[0].lower()

    @property
    def suffix(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""

    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")

    def read(self) -> bytes:
        return self.path.read_bytes() if self.path is not None else (self.data or b"")


@dataclass
class Record:
    """One row or feature as read: text cells, JSON-native cells, and its geometry."""

    where: str
    cells: dict[str, str]
    native: set[str] = field(default_factory=set)  # cells that were JSON numbers, not strings
    geometry: object = None  # shapely geometry, None, or a geo.GeometryProblem


def read_text(source: Source, limits: Limits, report: ImportReport) -> str | None:
    """The file's text, or None after filing why it cannot be read."""
    size = source.size()
    if size > limits.max_bytes:
        report.add(Problem(source.name, problem=f"文件过大（{size / 1e6:.1f} MB），上限 {limits.max_bytes / 1e6:.0f} MB",
                           hint="请按乡镇或村拆分后分别导入"))
        return None
    data = source.read()
    if data.startswith(BOM):
        data = data[len(BOM):]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        report.add(Problem(source.name, problem="文件是 UTF-16 编码（Excel「Unicode 文本」）", hint=SAVE_AS_UTF8))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = ""
        try:
            data.decode("gb18030")
            guess = "，看起来是 GBK/GB18030 编码（Excel 默认的「CSV（逗号分隔）」）"
        except UnicodeDecodeError:
            pass
        report.add(Problem(source.name, f"第 {line} 行", problem=f"文件不是 UTF-8 编码{guess}",
                           hint=SAVE_AS_UTF8))
        return None
    if not text.strip():
        report.add(Problem(source.name, problem="文件是空的", hint="请检查是否导出了正确的文件"))
        return None
    if "\x00" in text:
        report.add(Problem(source.name, f"第 {text[: text.index(chr(0))].count(chr(10)) + 1} 行",
                           problem="文件含有 NUL 字符，不是文本文件", hint="请导出为 CSV 或 GeoJSON"))
        return None
    return text


def csv_records(source: Source, text: str, columns: dict[str, bool], limits: Limits,
                report: ImportReport) -> Iterator[Record]:
    """Rows of a CSV file; `columns` maps each known column to whether it is required."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        report.add(Problem(source.name, "第 1 行", problem="没有表头", hint="第一行应为列名"))
        return
    if not _header_ok(source, header, columns, report):
        return
    rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"第 {reader.line_num} 行"
            rows += 1
            if rows > limits.max_rows:
                report.add(Problem(source.name, where, problem=f"行数超过上限 {limits.max_rows}",
                                   hint="请拆分文件后分别导入"))
                return
            if len(row) != len(header):
                report.add(Problem(source.name, where, problem=f"有 {len(row)} 列，表头有 {len(header)} 列",
                                   hint="检查单元格里未加引号的逗号或换行"))
                continue
            cells = dict(zip(header, row, strict=True))
            if _cells_fit(source, where, cells, limits, report):
                yield Record(where, cells)
    except csv.Error as exc:
        report.add(Problem(source.name, f"第 {reader.line_num} 行", problem=f"CSV 格式错误（{exc}）",
                           hint="检查引号是否成对、单元格是否过长"))


def _header_ok(source: Source, header: list[str], columns: dict[str, bool],
               report: ImportReport) -> bool:
    ok = True
    seen = set()
    for name in header:
        if name in seen:
            report.add(Problem(source.name, "第 1 行", name, "列名重复", "每列只能出现一次"))
            ok = False
        seen.add(name)
        if name not in columns:
            report.add(Problem(source.name, "第 1 行", name, "未知的列",
                               f"可用的列：{', '.join(columns)}"))
            ok = False
    for name, required in columns.items():
        if required and name not in seen:
            report.add(Problem(source.name, "第 1 行", name, "缺少必需的列", "请补上这一列"))
            ok = False
    return ok


def _cells_fit(source: Source, where: str, cells: dict[str, str], limits: Limits,
               report: ImportReport) -> bool:
    ok = True
    for name, value in cells.items():
        if len(value) > limits.max_cell_chars:
            report.add(Problem(source.name, where, name, f"内容过长（{len(value)} 字）",
                               f"每格不超过 {limits.max_cell_chars} 字"))
            ok = False
            continue
        try:
            fields.check_storable(value)
        except fields.CellProblem as exc:
            report.add(Problem(source.name, where, name, *exc.args))
            ok = False
    return ok


def geojson_records(source: Source, text: str, columns: dict[str, bool], limits: Limits,
                    report: ImportReport) -> Iterator[Record]:
    """Features of a GeoJSON FeatureCollection (properties become cells)."""
    document = _load_json(source, text, report)
    if document is None:
        return
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        report.add(Problem(source.name, problem="不是 GeoJSON FeatureCollection",
                           hint="顶层应为 {\"type\": \"FeatureCollection\", \"features\": [...]}"))
        return
    try:
        _, note = geo.crs_srid(_crs_name(document.get("crs")))
    except geo.GeometryProblem as exc:
        report.add(Problem(source.name, "crs", problem=exc.problem, hint=exc.hint))
        return
    if note:
        report.notes.append(f"{source.name}: {note}")
    if len(document["features"]) > limits.max_rows:
        report.add(Problem(source.name, problem=f"要素数 {len(document['features'])} 超过上限 {limits.max_rows}",
                           hint="请拆分文件后分别导入"))
        return
    unknown: set[str] = set()
    for index, feature in enumerate(document["features"], 1):
        record = _feature_record(source, index, feature, columns, unknown, limits, report)
        if record is not None:
            yield record
    if unknown:  # names as a person can read them: hostile ones escaped, many cut short
        names = sorted(fields.readable(n) for n in unknown)
        more = f" 等 {len(names)} 个" if len(names) > 20 else ""
        report.notes.append(f"{source.name}: 忽略了未知属性 {', '.join(names[:20])}{more}")


def _load_json(source: Source, text: str, report: ImportReport):
    """The parsed document, or None after filing why not (hostile nesting and numbers included)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        report.add(Problem(source.name, f"第 {exc.lineno} 行", problem=f"不是有效的 JSON（{exc.msg}）",
                           hint="请用 GIS 软件重新导出 GeoJSON"))
    except RecursionError:
        report.add(Problem(source.name, problem="JSON 嵌套层数过深，无法读取",
                           hint="GeoJSON 的坐标最多嵌套 4 层：请用 GIS 软件重新导出"))
    except ValueError as exc:  # e.g. an integer longer than Python reads (4300 digits)
        report.add(Problem(source.name, problem=f"不是有效的 JSON（{exc}）",
                           hint="请用 GIS 软件重新导出 GeoJSON"))
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
        report.add(Problem(source.name, f"要素 #{index}", problem="不是 GeoJSON Feature",
                           hint="每个要素应有 type、properties、geometry"))
        return None
    properties = properties or {}
    code = properties.get("code") or properties.get("login")
    where = f"要素 #{index}" + (f" (code={fields.readable(code)})" if isinstance(code, str) else "")
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
    if not _cells_fit(source, where, cells, limits, report):
        return None
    geometry = None
    if feature.get("geometry") is not None:
        try:
            geometry = geo.geometry_from_geojson(feature["geometry"])
        except geo.GeometryProblem as exc:
            geometry = exc
    return Record(where, cells, native, geometry)
