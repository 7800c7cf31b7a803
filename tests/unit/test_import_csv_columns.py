"""The CSV reader's column chunks: the same rows and the same problems, in the file's order,
as reading the file a record at a time."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime

import pytest

from gridmap.importers import core, readers
from gridmap.importers.readers import csv as csv_reader
from gridmap.importers.report import ImportReport, Limits
from gridmap.importers.sources import Source
from gridmap.importers.specs import SPEC_BY_STEM

NOW = datetime(2026, 11, 23, 1, tzinfo=UTC)
HEADER = "code,village_code,head_name,phone,lon,lat\n"


def household(serial: int, phone: str = "13812345678", head: str = "李国华") -> str:
    return f"53232910420100{serial:03d},532329104201,{head},{phone},102.4,25.5\n"


def households_csv() -> bytes:
    """Good rows around each kind of problem a reader or a parser files."""
    lines = [HEADER, *(household(n) for n in range(1, 6)),
             household(6, phone="123"),                       # a parser's problem
             "53232910420100007,532329104201\n",               # a reader's: too few cells
             *(household(n) for n in range(8, 11)),
             household(11, head="李" * 5000),                  # a reader's: a cell too long
             household(12), household(3),                      # a repeated code
             "\n", household(13)]
    return "".join(lines).encode()


def parse(data: bytes) -> tuple[list[dict], list[str]]:
    report = ImportReport("532329", commit=False)
    rows = core.parse_source(Source("households.csv", data), SPEC_BY_STEM["households"], "532329", NOW,
                             Limits(max_cell_chars=1000), report)
    return [{k: str(v) for k, v in row.items()} for row in rows], [str(p) for p in report.problems]


@pytest.fixture
def record_by_record(monkeypatch):
    """The CSV reader without its column form: the core chunks its records itself."""
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    readers.register(dataclasses.replace(csv_reader.READER, read_columns=None))


@pytest.mark.parametrize("chunk", [2, 3, 4_000])
def test_csv_columns_give_the_rows_and_problems_of_records_in_file_order(monkeypatch, chunk, record_by_record):
    expected = parse(households_csv())
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    readers.register(csv_reader.READER)
    monkeypatch.setattr(core, "PARSE_CHUNK", chunk)
    assert parse(households_csv()) == expected
    rows, problems = expected
    assert [row["code"][-2:] for row in rows] == ["01", "02", "03", "04", "05", "08", "09", "10", "12", "13"]
    assert [re.search(r"第 (\d+) 行", problem)[1] for problem in problems] == ["7", "8", "12", "14"]


def test_a_chunk_ends_before_a_row_with_a_problem():
    report = ImportReport("532329", commit=False)
    stream = io.TextIOWrapper(io.BytesIO(households_csv()), encoding="utf-8", newline="")
    columns = {"code": True, "village_code": False, "head_name": True, "phone": False, "lon": False, "lat": False}
    chunks = list(csv_reader.csv_columns(Source("households.csv", b""), stream, columns,
                                         Limits(max_cell_chars=1000), report, 4))
    assert [len(chunk) for chunk in chunks] == [4, 2, 3, 3]
    assert chunks[1].cells["phone"] == ["13812345678", "123"]
    assert [str(where) for where in chunks[0].wheres] == ["第 2 行", "第 3 行", "第 4 行", "第 5 行"]
    assert [chunk[0].cells["code"][-3:] for chunk in chunks] == ["001", "005", "008", "012"]
    assert len(report.problems) == 2  # the short row, the long cell: parsing files the rest
