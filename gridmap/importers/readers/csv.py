"""CSV (UTF-8 with or without BOM; GBK/GB18030 when the source allows it; a header row):
a table's rows, read as a stream (a million rows never sit in memory as text); points
only, as `lon`/`lat` columns."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from gridmap.errors import _
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit, header_ok, line_where


def csv_records(source: Source, stream: TextIO, columns: dict[str, bool], limits: Limits,
                report: ImportReport) -> Iterator[Record]:
    """Rows of a CSV file; `columns` maps each known column to whether it is required."""
    with stream:
        yield from _rows(source, csv.reader(stream), columns, limits, report)


def _rows(source, reader, columns, limits, report) -> Iterator[Record]:
    try:
        header = [source.column(h.strip(), columns) for h in next(reader)]
    except (StopIteration, csv.Error):
        report.add(Problem(source.name, line_where(1), problem=_("没有表头"), hint=_("第一行应为列名")))
        return
    if not header_ok(source, header, columns, report):
        return
    rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = line_where(reader.line_num)
            rows += 1
            if rows > limits.max_rows:
                report.add(Problem(source.name, where, problem=_("行数超过上限 %(limit)s", limit=limits.max_rows),
                                   hint=_("请拆分文件后分别导入")))
                return
            if len(row) != len(header):
                report.add(Problem(source.name, where, problem=_("有 %(found)s 列，表头有 %(header)s 列",
                                                                 found=len(row), header=len(header)),
                                   hint=_("检查单元格里未加引号的逗号或换行")))
                continue
            cells = dict(zip(header, row, strict=True))
            if cells_fit(source, where, cells, limits, report):
                yield Record(where, cells)
    except csv.Error as exc:
        report.add(Problem(source.name, line_where(reader.line_num),
                           problem=_("CSV 格式错误（%(reason)s）", reason=str(exc)),
                           hint=_("检查引号是否成对、单元格是否过长")))


READER = Reader("CSV", ("csv",), csv_records, geometry=("Point",), lonlat_columns=True, text="stream")
