"""What every reader shares: the file (`Source`), what it yields (`Record`), what a reader
declares (`Reader`), and the defensive steps common to all formats: size limit, text
decoding, header and cell checks.

A reader turns a file into `Record`s (one per row or feature) and files its problems in
the report; it never raises on bad input. The formats themselves live in `readers/`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gridmap.errors import _
from gridmap.importers import fields
from gridmap.importers.report import ImportReport, Limits, Problem, Text

BOM = b"\xef\xbb\xbf"
SAVE_AS_UTF8 = _("请另存为 UTF-8：Excel「另存为 → CSV UTF-8（逗号分隔）」，WPS 导出时选择 UTF-8 编码")


@dataclass(frozen=True)
class Source:
    """One file to import: a name (its stem names the table) and its bytes or path."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def from_path(cls, path: Path | str) -> Source:
        """A source reading the file at `path`."""
        path = Path(path)
        return cls(path.name, path=path)

    @property
    def stem(self) -> str:
        """The file name up to its first dot: the table it holds."""
        return self.name.split(".", 1)[0].lower()

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


@dataclass
class Record:
    """One row or feature as read: text cells, JSON-native cells, and its geometry."""

    where: Text  # `第 12 行`, `要素 #3 (code=…)`: Messages
    cells: dict[str, str]
    native: set[str] = field(default_factory=set)  # cells that were JSON numbers, not strings
    geometry: object = None  # shapely geometry, None, or a geo.GeometryProblem


# read(source, content, columns, limits, report) → Records; `content` is the decoded text
# (or the bytes, for a reader with text=False); `columns` maps each known column to
# whether it is required.
ReadRecords = Callable[[Source, "str | bytes", dict[str, bool], Limits, ImportReport], Iterator[Record]]


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
    text: bool = True  # content is UTF-8 text, decoded once for every format (else bytes)

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
    data = source.read()
    return data if reader is not None and not reader.text else decode_text(source, data, report)


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
            data.decode("gb18030")
            problem = _("文件不是 UTF-8 编码，看起来是 GBK/GB18030 编码（Excel 默认的「CSV（逗号分隔）」）")
        except UnicodeDecodeError:
            pass
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
