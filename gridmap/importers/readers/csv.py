"""CSV (UTF-8, a header row): a table's rows; points only, as `lon`/`lat` columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit, header_ok


def csv_records(source: Source, text: str, columns: dict[str, bool], limits: Limits,
                report: ImportReport) -> Iterator[Record]:
    """Rows of a CSV file; `columns` maps each known column to whether it is required."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        report.add(Problem(source.name, "第 1 行", problem="没有表头", hint="第一行应为列名"))
        return
    if not header_ok(source, header, columns, report):
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
            if cells_fit(source, where, cells, limits, report):
                yield Record(where, cells)
    except csv.Error as exc:
        report.add(Problem(source.name, f"第 {reader.line_num} 行", problem=f"CSV 格式错误（{exc}）",
                           hint="检查引号是否成对、单元格是否过长"))


READER = Reader("CSV", ("csv",), csv_records, geometry=("Point",), lonlat_columns=True)
