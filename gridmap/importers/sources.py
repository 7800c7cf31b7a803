"""What every reader shares: the file (`Source`), what it yields (`Record`), what a reader
declares (`Reader`), and the defensive steps common to all formats: size limit, text
decoding, header and cell checks.

A reader turns a file into `Record`s (one per row or feature) and files its problems in
the report; it never raises on bad input. The formats themselves live in `readers/`.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from gridmap.errors import _
from gridmap.importers import fields, layouts
from gridmap.importers.report import ImportReport, Limits, Problem, Text

BOM = b"\xef\xbb\xbf"
SAVE_AS_UTF8 = _("请另存为 UTF-8：Excel「另存为 → CSV UTF-8（逗号分隔）」，WPS 导出时选择 UTF-8 编码")


@dataclass(frozen=True)
class Source:
    """One file to import: a name (its stem names the table unless `table` does) and its
    bytes or path, with how a person asked it to be read.

    `layer` picks a layer of a multi-layer file (GeoPackage, KML); `crs` overrides or
    supplies the file's coordinate system (`auto`, `EPSG:4524`, `gcj02`, `bd09`);
    `mapping` renames the file's columns (target → source column); `encoding` is `utf-8`
    (the core's default: other encodings are refused with a hint) or `auto` (GBK/GB18030
    detected and read, with a note).
    """

    name: str
    data: bytes | None = None
    path: Path | None = None
    table: str | None = None
    layer: str | None = None
    crs: str = "auto"
    mapping: tuple[tuple[str, str], ...] = ()
    encoding: str = "utf-8"

    @classmethod
    def from_path(cls, path: Path | str, **how) -> Source:
        """A source reading the file at `path` (`how`: table, layer, crs, mapping, encoding)."""
        path = Path(path)
        return cls(path.name, path=path, **how)

    @property
    def stem(self) -> str:
        """The file name up to its first dot: the table it holds."""
        return self.name.split(".", 1)[0].lower()

    def column(self, name: str, columns=()) -> str:
        """The field a column of the file is read as (`mapping` renames; a common name of one
        of the table's `columns`, importers.layouts.COMMON_COLUMNS, is read as it; others stay)."""
        for target, column in self.mapping:
            if column == name:
                return target
        common = layouts.COMMON_COLUMNS.get(name)
        return common if common in columns and name not in columns else name

    @property
    def suffix(self) -> str:
        """The file's format, from its last suffix (lower case, no dot)."""
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""

    def size(self) -> int:
        """The size in bytes."""
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")

    def read(self) -> bytes:
        """The file's bytes."""
        return self.path.read_bytes() if self.path is not None else (self.data or b"")

    def open(self) -> BinaryIO:
        """The file's bytes as a stream (large files are never read whole)."""
        return self.path.open("rb") if self.path is not None else io.BytesIO(self.data or b"")


@dataclass
class Record:
    """One row or feature as read: text cells, JSON-native cells, and its geometry."""

    where: Text  # `第 12 行`, `要素 #3 (code=…)`: Messages
    cells: dict[str, str]
    native: set[str] = field(default_factory=set)  # cells that were JSON numbers, not strings
    geometry: object = None  # shapely geometry, None, or a geo.GeometryProblem
    layout: str | None = None  # a public layout read without mapping (importers.layouts)


@dataclass
class RecordColumns:
    """Records read a chunk at a time, as columns (a CSV's rows): where each is, and each
    column's text cells, every column as long as `wheres`. No JSON-native cells, no geometry
    (points come as `lon`/`lat` cells)."""

    wheres: list[Text]
    cells: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.wheres)

    def __getitem__(self, index: int) -> Record:
        return Record(self.wheres[index], {name: column[index] for name, column in self.cells.items()})

    def __iter__(self) -> Iterator[Record]:
        return map(self.__getitem__, range(len(self.wheres)))


# read(source, content, columns, limits, report) → Records; `content` is the decoded text
# (or the bytes, for a reader with text=False); `columns` maps each known column to
# whether it is required.
ReadRecords = Callable[[Source, "str | bytes", dict[str, bool], Limits, ImportReport], Iterator[Record]]
# read_columns(source, content, columns, limits, report, size) → RecordColumns of at most `size`
# records each: the same records as `read`, a chunk at a time.
ReadColumns = Callable[[Source, "str | bytes", dict[str, bool], Limits, ImportReport, int],
                       Iterator[RecordColumns]]


@dataclass(frozen=True)
class Reader:
    """One file format: the suffixes it reads and what it can carry.

    `geometry` lists the geometry types its files can hold (() = none); `lonlat_columns`
    says points come as `lon`/`lat` cells (a table's rows), not as geometries. The core
    refuses a layer whose types the reader cannot carry, so no rule names a suffix.
    """

    name: str  # as messages name the format: "CSV", "GeoJSON"
    suffixes: tuple[str, ...]
    read: ReadRecords
    geometry: tuple[str, ...] = ()
    lonlat_columns: bool = False
    text: bool | str = True  # content is UTF-8 text, decoded once for every format; False: bytes;
    # "stream": a text stream in the file's detected encoding (read row by row, never whole);
    # "file": the Source itself (the reader opens it: GDAL, openpyxl)
    read_columns: ReadColumns | None = None  # the same records as columns, when the format has them

    def carries(self, geometry_types: tuple[str, ...]) -> bool:
        """Whether this reader can bring shapes of these types."""
        return not geometry_types or bool(set(geometry_types) & set(self.geometry))


def read_content(source: Source, reader: Reader | None, limits: Limits, report: ImportReport):
    """The file's content as `reader` takes it (text or bytes), or None after filing why not.

    Files of no known format are read as text too, so a refusal names what is wrong first.
    """
    size = source.size()
    if size > limits.max_bytes:
        report.add(Problem(source.name, problem=_("文件过大（%(size)s MB），上限 %(limit)s MB",
                                                  size=f"{size / 1e6:.1f}", limit=f"{limits.max_bytes / 1e6:.0f}"),
                           hint=_("请按乡镇或村拆分后分别导入")))
        return None
    if reader is not None and reader.text == "file":
        return source
    if reader is not None and reader.text == "stream":
        encoding = sniff_encoding(source, report)
        return None if encoding is None else io.TextIOWrapper(source.open(), encoding=encoding, newline="")
    data = source.read()
    return data if reader is not None and not reader.text else decode_text(source, data, report)


CHUNK = 1 << 20


def sniff_encoding(source: Source, report: ImportReport) -> str | None:
    """The codec a text file is in (`utf-8-sig`, or `gb18030` when the source allows it),
    found in one pass of 1 MiB chunks; None after filing why it cannot be read."""
    with source.open() as stream:
        if stream.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            report.add(Problem(source.name, problem=_("文件是 UTF-16 编码（Excel「Unicode 文本」）"), hint=SAVE_AS_UTF8))
            return None
    utf8 = _scan(source, "utf-8-sig")
    if isinstance(utf8, int):
        if _scan(source, "gb18030") is None:  # GBK/GB18030 (Excel's 「CSV（逗号分隔）」 on Chinese Windows)
            if source.encoding == "auto":
                report.note(source.name, _("按 GBK/GB18030 编码读取（Excel 默认的「CSV（逗号分隔）」）"))
                return "gb18030"
            problem = _("文件不是 UTF-8 编码，看起来是 GBK/GB18030 编码（Excel 默认的「CSV（逗号分隔）」）")
        else:
            problem = _("文件不是 UTF-8 编码")
        report.add(Problem(source.name, line_where(utf8), problem=problem, hint=SAVE_AS_UTF8))
        return None
    if utf8 is not None:
        report.add(utf8 if isinstance(utf8, Problem) else Problem(source.name, problem=_("文件是空的"),
                                                                   hint=_("请检查是否导出了正确的文件")))
        return None
    return "utf-8-sig"


def _scan(source: Source, encoding: str) -> int | Problem | str | None:
    """None when the whole file decodes as `encoding` and holds text; else the line that
    does not decode, a Problem (NUL bytes), or "empty"."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line, blank = 1, True
    with source.open() as stream:
        while True:
            chunk = stream.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return line + chunk[: max(exc.start, 0)].count(b"\n")
            if "\x00" in text:
                return Problem(source.name, line_where(line + text[: text.index(chr(0))].count(chr(10))),
                               problem=_("文件含有 NUL 字符，不是文本文件"), hint=_("请导出为 CSV 或 GeoJSON"))
            blank = blank and not text.strip()
            line += text.count("\n")
            if not chunk:
                return "empty" if blank else None


def decode_text(source: Source, data: bytes, report: ImportReport) -> str | None:
    """The file's text (UTF-8, BOM dropped), or None after filing why it cannot be read."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        report.add(Problem(source.name, problem=_("文件是 UTF-16 编码（Excel「Unicode 文本」）"), hint=SAVE_AS_UTF8))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = _("文件不是 UTF-8 编码")
        try:
            text = data.decode("gb18030")
            if source.encoding == "auto":
                report.note(source.name, _("按 GBK/GB18030 编码读取（Excel 默认的「CSV（逗号分隔）」）"))
                problem = None
            else:
                problem = _("文件不是 UTF-8 编码，看起来是 GBK/GB18030 编码（Excel 默认的「CSV（逗号分隔）」）")
        except UnicodeDecodeError:
            pass
        if problem is not None:
            report.add(Problem(source.name, line_where(line), problem=problem, hint=SAVE_AS_UTF8))
            return None
    if not text.strip():
        report.add(Problem(source.name, problem=_("文件是空的"), hint=_("请检查是否导出了正确的文件")))
        return None
    if "\x00" in text:
        report.add(Problem(source.name, line_where(text[: text.index(chr(0))].count(chr(10)) + 1),
                           problem=_("文件含有 NUL 字符，不是文本文件"), hint=_("请导出为 CSV 或 GeoJSON")))
        return None
    return text


def line_where(line: int) -> Text:
    """Where a problem is, as a line of the file."""
    return _("第 %(line)s 行", line=line)


def header_ok(source: Source, header: list[str], columns: dict[str, bool],
              report: ImportReport) -> bool:
    """Whether a table's header names each known column at most once and every required one."""
    ok = True
    seen = set()
    for name in header:
        if name in seen:
            report.add(Problem(source.name, line_where(1), name, _("列名重复"), _("每列只能出现一次")))
            ok = False
        seen.add(name)
        if name not in columns:
            report.add(Problem(source.name, line_where(1), name, _("未知的列"),
                               _("可用的列：%(columns)s", columns=", ".join(columns))))
            ok = False
    for name, required in columns.items():
        if required and name not in seen:
            report.add(Problem(source.name, line_where(1), name, _("缺少必需的列"), _("请补上这一列")))
            ok = False
    return ok


def cells_fit(source: Source, where: Text, cells: dict[str, str], limits: Limits,
              report: ImportReport) -> bool:
    """Whether every cell is short enough and storable; says which are not."""
    if not cells or (max(map(len, cells.values())) <= limits.max_cell_chars
                     and fields.storable("".join(cells.values()))):
        return True  # the common case, checked once for the whole row
    ok = True
    for name, value in cells.items():
        if len(value) > limits.max_cell_chars:
            report.add(Problem(source.name, where, name, _("内容过长（%(length)s 字）", length=len(value)),
                               _("每格不超过 %(limit)s 字", limit=limits.max_cell_chars)))
            ok = False
            continue
        try:
            fields.check_storable(value)
        except fields.CellProblem as exc:
            report.add(Problem(source.name, where, name, exc.problem, exc.hint))
            ok = False
    return ok
