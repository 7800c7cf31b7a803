"""The one CSV/XLSX writer every download goes through.

* Cells starting with = + - @ (or tab, CR, LF) are neutralised with a leading single
  quote, so a spreadsheet never runs them as formulas (OWASP "CSV injection").
* Codes stay text: a `Column(kind="code")` is always written as a string, and in XLSX
  as a string cell with the text number format, so '010101' keeps its leading zero.
  (A CSV has no types: Excel still reads long digit strings as numbers when it opens
  one, which is why people who open exports in Excel should pick XLSX.)
* CSV is UTF-8 with a BOM, which Excel on Chinese Windows needs to detect UTF-8.

Masking personal data is the caller's job (gridmap.privacy) before rows get here.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import quote

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMN_KINDS = ("auto", "code", "text")
CHINA_TIME = timezone(timedelta(hours=8), "CST")  # no daylight saving since 1991
# Characters XML 1.0 (and so XLSX) cannot hold; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f;]+')


class ExportError(ValueError):
    """A bad call of the writer (unknown format or column kind)."""


@dataclass(frozen=True)
class Column:
    """One column: `key` in each row mapping, `label` the zh-CN header.

    `kind`: 'auto' keeps numbers and dates typed; 'code' and 'text' always write strings.
    """

    key: str
    label: str
    kind: str = "auto"

    def __post_init__(self):
        if self.kind not in COLUMN_KINDS:
            raise ExportError(f"column {self.key!r}: kind must be one of {COLUMN_KINDS}, not {self.kind!r}")


def neutralise(text: str) -> str:
    """Prefix a single quote when a spreadsheet could read `text` as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _cell(value, column: Column):
    """The value to write: str (neutralised), or a number/date for 'auto' columns."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Spreadsheets have no time zones: write the county's wall-clock time.
        value = value.astimezone(CHINA_TIME).replace(tzinfo=None)
    if column.kind == "auto" and isinstance(value, int | float | Decimal | date | datetime):
        return value
    return neutralise(_ILLEGAL_XML.sub("", str(value)))


def _columns(columns: Sequence[Column | tuple[str, str]]) -> list[Column]:
    return [c if isinstance(c, Column) else Column(*c) for c in columns]


def _values(row, columns: list[Column]) -> list:
    if isinstance(row, Mapping):
        return [_cell(row.get(c.key), c) for c in columns]
    return [_cell(v, c) for v, c in zip(row, columns, strict=True)]


def to_csv(columns: Sequence[Column | tuple[str, str]], rows: Iterable) -> bytes:
    """CSV bytes (UTF-8 with BOM, CRLF, every field quoted) with a header row of labels."""
    cols = _columns(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise(c.label) for c in cols])
    for row in rows:
        writer.writerow(_csv_text(v) for v in _values(row, cols))
    return buffer.getvalue().encode("utf-8-sig")


def _csv_text(value) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def to_xlsx(columns: Sequence[Column | tuple[str, str]], rows: Iterable,
            sheet_title: str = "导出") -> bytes:
    """XLSX bytes: one sheet, a bold header row, codes as text cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    cols = _columns(columns)
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = _ILLEGAL_XML.sub("", sheet_title)[:31] or "导出"
    sheet.append([neutralise(c.label) for c in cols])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_values(row, cols))
        for cell, column in zip(sheet[sheet.max_row], cols, strict=True):
            if isinstance(cell.value, str):
                # A str starting with '=' would otherwise become a formula cell.
                cell.data_type = "s"
                if column.kind != "auto":
                    cell.number_format = "@"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


WRITERS = {"csv": to_csv, "xlsx": to_xlsx}


def render(fmt: str, columns, rows) -> bytes:
    """`rows` as the bytes of a CSV or XLSX file."""
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise ExportError(f"unknown export format {fmt!r}; use one of {sorted(WRITERS)}") from None
    return writer(columns, rows)


def safe_filename(stem: str, fmt: str) -> str:
    """A file name without path separators or control characters, e.g. '武定县_网格.xlsx'."""
    name = unicodedata.normalize("NFC", stem)
    name = _UNSAFE_FILENAME.sub("_", name).strip(" ._")[:100] or "export"
    return f"{name}.{fmt}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 5987 UTF-8 name for Chinese names."""
    ascii_name = filename.encode("ascii", "ignore").decode().strip(" ._")
    if "." not in ascii_name:
        ascii_name = "export" + filename[filename.rfind("."):]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
