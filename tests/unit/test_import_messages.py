"""Import problems are Messages: Chinese by default, any catalog's language when asked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from gridmap import geo
from gridmap.errors import BadInput
from gridmap.importers import fields
from gridmap.importers.core import parse_source
from gridmap.importers.report import ImportReport, Limits, Problem, TableCounts
from gridmap.importers.sources import Source
from gridmap.importers.specs import SPEC_BY_STEM

CATALOG = Path(__file__).resolve().parents[2] / "gridmap/translations/en/LC_MESSAGES/messages.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def english():
    """gettext for the English catalog, as the web's Flask-Babel would give it."""
    with CATALOG.open("rb") as po:
        catalog = read_po(po, locale="en")
    return lambda msgid: (catalog.get(msgid).string if catalog.get(msgid) else "") or msgid


def problems_of(name: str, data: bytes) -> ImportReport:
    report = ImportReport("532329", commit=False)
    source = Source(name, data)
    parse_source(source, SPEC_BY_STEM[source.stem], "532329", datetime(2026, 11, 23, tzinfo=UTC),
                 Limits(), report)
    return report


def test_cell_and_geometry_problems_are_bad_input():
    with pytest.raises(fields.CellProblem) as cell:
        fields.parse_phone("1381234")
    with pytest.raises(geo.GeometryProblem) as shape:
        geo.check_lonlat(25.5, 102.4)
    for problem in (cell.value, shape.value):
        assert isinstance(problem, BadInput) and problem.status == 422 and problem.hint


def test_a_problem_renders_in_english_with_a_translate_function(english):
    report = problems_of("households.csv", b"code,head_name,size\nH1,Li,3\nH1,Li,three\n")
    assert [str(p) for p in report.problems] == [
        "households.csv 第 3 行, 字段 size: 'three' 不是整数；请填写整数，如 3"]
    assert [p.text(english) for p in report.problems] == [
        "households.csv line 3, field size: 'three' is not a whole number; Enter a whole number, e.g. 3"]


def test_texts_inside_texts_are_translated_too(english):
    report = problems_of("households.csv", b"code,head_name\nH1,Li\nH1,Li\n")
    assert report.problems[0].text(english) == (
        "households.csv line 3, field code: Repeats line 2 (H1); "
        "Each object may appear only once: delete or merge the repeated rows")


def test_a_translate_function_that_knows_nothing_gives_the_chinese():
    report = problems_of("households.csv", b"code,head_name,phone\nH1,Li,1381234\n")
    assert report.problems[0].text(lambda msgid: msgid) == str(report.problems[0])


@pytest.mark.parametrize("name, data", [
    ("households.csv", b"code,head_name,phone,id_number,size,lon,lat,colour\nH1,,1e10,123,0,1,2,red\n"),
    ("households.csv", b"code,head_name,phone,id_number,size,lon,lat\nH1,,1e10,123,0,25.5,102.4\n"),
    ("regions.csv", b"code\n532329\n"),
    ("regions.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": 532329, "level": "town", "colour": 1},
         "geometry": {"type": "Polygon", "coordinates": [[[102, 25], [103, 26], [103, 25], [102, 26], [102, 25]]]}},
        {"type": "Feature", "properties": {"code": "53232910", "name": "x", "level": "township"},
         "geometry": {"type": "Point", "coordinates": [102.4, 25.5]}}, "x"]}).encode()),
    ("issues.csv", b"code,title,category,reported_at,review_on,urgency,client_uuid\nX1,t,c,-P12D@25:00,0001-01-01,soon,x\n"),
    ("households.csv", "code,head_name\nH1,李\n".encode("gb18030")),
])
def test_english_reports_hold_no_chinese_but_the_data(english, name, data):
    report = problems_of(name, data)
    report.tables = [TableCounts(SPEC_BY_STEM[Source(name).stem].table, name, rows=1)]
    text = report.to_text(translate=english)
    assert not report.ok and not CHINESE.search(text), text
    assert text.startswith("Import 532329: dry run (nothing written)")
    assert "would insert" in text and f"Problems ({len(report.problems)}):" in text


def test_as_dict_holds_plain_strings_in_the_language_asked(english):
    report = problems_of("regions.geojson", json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4490"}},
        "features": [{"type": "Feature", "properties": {"code": "1", "extra": 1}, "geometry": None}]}).encode())
    for translate in (None, english):
        as_json = json.loads(json.dumps(report.as_dict(translate), ensure_ascii=False))
        assert as_json["problems"] and as_json["notes"]
        assert all(isinstance(v, str) for p in as_json["problems"] for v in p.values())
    assert report.as_dict()["notes"][0] == (
        "regions.geojson: CGCS2000 (EPSG:4490) 按 WGS84 (EPSG:4326) 处理，两者相差厘米级 / treated as 4326")
    assert report.as_dict(english)["problems"][0]["where"] == "feature #1 (code=1)"


def test_problem_texts_may_already_be_translated_strings(english):
    problem = Problem("units.csv", "row 2", "code", "already English", "nothing to do")
    assert problem.text(english) == "units.csv row 2, field code: already English; nothing to do"
