"""XLSX (Excel, WPS): a table's rows from one sheet, read row by row (openpyxl read-only).

What registers typed by hand look like: a title row merged across the sheet above the
header, blank rows, codes Excel turned into numbers (whole ones read back as the code;
long ones have lost digits, and the field's parser says so), formulas (never evaluated:
refused, since the value a person saw is not in the file).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

from gridmap.errors import _
from gridmap.importers import fields, layouts
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit, header_ok, line_where

HEADER_SEARCH_ROWS = 10


def xlsx_records(source: Source, _content, columns: dict[str, bool], limits: Limits,
                 report: ImportReport) -> Iterator[Record]:
    """Rows of the first sheet (or the one `Source.layer` names) under its header row."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(source.path or io.BytesIO(source.read()), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        report.add(Problem(source.name, problem=_("不是有效的 XLSX 文件（%(reason)s）", reason=str(exc)[:100]),
                           hint=_("请用 Excel 或 WPS 另存为「Excel 工作簿 (*.xlsx)」")))
        return
    try:
        if source.layer and source.layer not in book.sheetnames:
            report.add(Problem(source.name, problem=_("没有工作表 %(sheet)s", sheet=fields.readable(source.layer)),
                               hint=_("可用的工作表：%(sheets)s", sheets=", ".join(book.sheetnames[:20]))))
            return
        sheet = book[source.layer] if source.layer else book.worksheets[0]
        yield from _rows(source, sheet.iter_rows(values_only=True), columns, limits, report)
    finally:
        book.close()


def _rows(source, rows, columns, limits, report) -> Iterator[Record]:
    head: list[tuple[int, tuple]] = []
    for number, values in enumerate(rows, 1):
        head.append((number, values))
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    header_at, header = _header(source, head, columns)
    if header is None:
        report.add(Problem(source.name, problem=_("没有表头"), hint=_("第一行（或标题行下面一行）应为列名")))
        return
    if not header_ok(source, [h for h in header if h], columns, report):
        return
    count = 0
    later = ((n, v) for n, v in head if n > header_at)
    for number, values in _chain(later, rows, len(head)):
        cells, formulas = {}, []
        for name, value in zip(header, values, strict=False):
            if not name:
                continue
            if isinstance(value, str) and value.startswith("="):
                formulas.append(name)
            cells[name] = _cell(value)
        if not any(v.strip() for v in cells.values()):
            continue  # blank rows between blocks are common in hand-kept registers
        where = line_where(number)
        count += 1
        if count > limits.max_rows:
            report.add(Problem(source.name, where, problem=_("行数超过上限 %(limit)s", limit=limits.max_rows),
                               hint=_("请拆分文件后分别导入")))
            return
        for name in formulas:
            report.add(Problem(source.name, where, name, _("单元格是公式 %(formula)s，不是值",
                                                           formula=fields.readable(cells[name][:40])),
                               _("公式不会被计算：请复制后「选择性粘贴 → 数值」再导入")))
        if not formulas and cells_fit(source, where, cells, limits, report):
            yield Record(where, cells)


def _chain(first, rest, skipped):
    yield from first
    yield from enumerate(rest, skipped + 1)


def _header(source: Source, head, columns) -> tuple[int, list[str] | None]:
    """The row naming the most known columns (a merged title row above it is skipped)."""
    best, best_at, best_known = None, 0, -1
    for number, values in head:
        names = [source.column(_cell(v).strip(), columns) for v in values]
        if not any(names):
            continue
        known = sum(1 for n in names if n in columns)
        if known > best_known:
            best, best_at, best_known = names, number, known
    return best_at, best


def _cell(value) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return layouts.cell_text(value)


READER = Reader("XLSX", ("xlsx",), xlsx_records, geometry=("Point",), lonlat_columns=True, text="file")
