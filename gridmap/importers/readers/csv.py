"""CSV (UTF-8 with or without BOM; GBK/GB18030 when the source allows it; a header row):
a table's rows, read as a stream (a million rows never sit in memory as text), a chunk of
rows at a time as columns; points only, as `lon`/`lat` columns."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import chain
from typing import TextIO

from gridmap.errors import _
from gridmap.importers import fields
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import (
    Reader,
    Record,
    RecordColumns,
    Source,
    cells_fit,
    header_ok,
    line_where,
)

CHUNK_ROWS = 4_000  # records a chunk when read record by record


def csv_records(source: Source, stream: TextIO, columns: dict[str, bool], limits: Limits,
                report: ImportReport) -> Iterator[Record]:
    """Rows of a CSV file; `columns` maps each known column to whether it is required."""
    for chunk in csv_columns(source, stream, columns, limits, report, CHUNK_ROWS):
        yield from chunk


def csv_columns(source: Source, stream: TextIO, columns: dict[str, bool], limits: Limits,
                report: ImportReport, size: int) -> Iterator[RecordColumns]:
    """`csv_records` as columns, at most `size` rows a chunk. A chunk ends before any row a
    problem is filed for, so problems keep the file's order among the rows' own."""
    with stream:
        yield from _chunks(source, csv.reader(stream), columns, limits, report, size)


def _chunks(source, reader, columns, limits, report, size) -> Iterator[RecordColumns]:
    try:
        header = [source.column(h.strip(), columns) for h in next(reader)]
    except (StopIteration, csv.Error):
        report.add(Problem(source.name, line_where(1), problem=_("没有表头"), hint=_("第一行应为列名")))
        return
    if not header_ok(source, header, columns, report):
        return
    width = len(header)
    lines: list[int] = []
    cells: list[list[str]] = []
    rows = 0
    try:
        for row in reader:
            # A blank row is skipped (a row's first cell is rarely blank: tested first, alone).
            if not (row and row[0].strip()) and not any(cell.strip() for cell in row):
                continue
            rows += 1
            if len(row) == width and rows <= limits.max_rows:
                lines.append(reader.line_num)
                cells.append(row)
                if len(cells) >= size:
                    yield from _fitting(source, header, lines, cells, limits, report)
                    lines, cells = [], []
                continue
            yield from _fitting(source, header, lines, cells, limits, report)
            lines, cells = [], []
            where = line_where(reader.line_num)
            if rows > limits.max_rows:
                report.add(Problem(source.name, where, problem=_("行数超过上限 %(limit)s", limit=limits.max_rows),
                                   hint=_("请拆分文件后分别导入")))
                return
            report.add(Problem(source.name, where, problem=_("有 %(found)s 列，表头有 %(header)s 列",
                                                             found=len(row), header=width),
                               hint=_("检查单元格里未加引号的逗号或换行")))
        yield from _fitting(source, header, lines, cells, limits, report)
    except csv.Error as exc:
        yield from _fitting(source, header, lines, cells, limits, report)
        report.add(Problem(source.name, line_where(reader.line_num),
                           problem=_("CSV 格式错误（%(reason)s）", reason=str(exc)),
                           hint=_("检查引号是否成对、单元格是否过长")))


def _fitting(source, header, lines, cells, limits, report) -> Iterator[RecordColumns]:
    """The chunk's rows as columns, once every cell is known to be short enough and storable
    (checked for the whole chunk at once; row by row only when some cell is not)."""
    if not cells:
        return
    flat = list(chain.from_iterable(cells))
    if max(map(len, flat)) <= limits.max_cell_chars and fields.storable("".join(flat)):
        columns = map(list, zip(*cells, strict=True))  # every row is the header's width
        yield RecordColumns(list(map(line_where, lines)), dict(zip(header, columns, strict=True)))
        return
    kept_lines, kept = [], []
    for line, row in zip(lines, cells, strict=True):
        if max(map(len, row)) <= limits.max_cell_chars and fields.storable("".join(row)):
            kept_lines.append(line)
            kept.append(row)
            continue
        yield from _fitting(source, header, kept_lines, kept, limits, report)  # before the row's problems
        kept_lines, kept = [], []
        if cells_fit(source, line_where(line), dict(zip(header, row, strict=True)), limits, report):
            kept_lines, kept = [line], [row]
    yield from _fitting(source, header, kept_lines, kept, limits, report)


READER = Reader("CSV", ("csv",), csv_records, geometry=("Point",), lonlat_columns=True, text="stream",
                read_columns=csv_columns)
