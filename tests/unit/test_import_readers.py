"""A new file format is a reader and one registry line: the import core is not edited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gridmap.importers import readers
from gridmap.importers.core import parse_source
from gridmap.importers.report import ImportReport, Limits, Problem
from gridmap.importers.sources import Reader, Record, Source, cells_fit
from gridmap.importers.specs import SPEC_BY_STEM, SPEC_BY_TABLE
from gridmap.importers.writers import WRITERS

NOW = datetime(2026, 11, 23, 1, tzinfo=UTC)


def json_lines_records(source, text, columns, limits, report):
    """A toy format: one JSON object of cells a line, points as lon/lat cells."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"第 {number} 行"
        cells = {name: str(value) for name, value in json.loads(line).items()}
        unknown = sorted(set(cells) - set(columns))
        if unknown:
            report.add(Problem(source.name, where, unknown[0], "未知的列", "删除这一列"))
        elif cells_fit(source, where, cells, limits, report):
            yield Record(where, cells)


JSON_LINES = Reader("JSON Lines", ("jsonl",), json_lines_records, geometry=("Point",),
                    lonlat_columns=True)


@pytest.fixture
def with_json_lines(monkeypatch):
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))  # registered for this test only
    readers.register(JSON_LINES)


def parse(name: str, data: bytes) -> tuple[list[dict], ImportReport]:
    """The rows of one file as the core parses them (no database needed), and the report."""
    report = ImportReport("532329", commit=False)
    source = Source(name, data)
    return parse_source(source, SPEC_BY_STEM[source.stem], "532329", NOW, Limits(), report), report


def test_a_registered_reader_feeds_the_core_checks(with_json_lines):
    household = {"code": "H1", "village_code": "532329104201", "head_name": "李国华",
                 "phone": "13812345678", "lon": 102.4, "lat": 25.5}
    rows, report = parse("households.jsonl", json.dumps(household, ensure_ascii=False).encode())
    assert report.ok, report.to_text()
    assert rows[0]["code"] == "H1" and rows[0]["_geom"].x == 102.4


def test_the_core_checks_rows_of_a_new_format_like_any_other(with_json_lines):
    rows, report = parse("households.jsonl", '{"code": "H1", "village_code": "5323", "head_name": "李"}'.encode())
    assert not rows and any("第 1 行, 字段 village_code: 代码 '5323' 格式不对" in str(p) for p in report.problems)


def test_what_a_reader_cannot_carry_comes_from_its_declaration(with_json_lines):
    _, report = parse("regions.jsonl", b'{"code": "532329"}')
    assert [str(p) for p in report.problems] == [
        "regions.jsonl: 面图层不能用 JSON Lines 导入；请导出为 GeoJSON / Shapefile / GeoPackage / KML"]


def test_an_unregistered_suffix_is_refused_naming_the_readers():
    _, report = parse("households.jsonl", b"{}")
    assert [str(p) for p in report.problems] == [
        "households.jsonl: 不支持的文件类型 .jsonl；请用 CSV / GeoJSON / Shapefile / GeoPackage / KML / XLSX"]


def test_every_table_has_a_writer():
    assert set(WRITERS) == set(SPEC_BY_TABLE)
