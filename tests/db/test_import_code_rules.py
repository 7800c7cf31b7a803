"""The code rules at import (issue 14, items 5 and 6): grid codes by the county's scheme, the
NBS urban-rural class of villages, and a redrawn region that leaves its children outside.
Every refusal names the row and field and leaves every table's ordered-row checksum as it was."""

from __future__ import annotations

import json

import pytest
from test_import_errors import REGIONS
from test_import_hostile import checksums

from gridmap import settings
from gridmap.importers.core import Source, import_files

COUNTY = "532329"
VILLAGE = "532329104201"
WEST = [[[102.3, 25.4], [102.4, 25.4], [102.4, 25.6], [102.3, 25.6], [102.3, 25.4]]]


def regions(**geometry_by_code) -> Source:
    document = json.loads(json.dumps(REGIONS))
    for feature in document["features"]:
        code = feature["properties"]["code"]
        if code in geometry_by_code:
            feature["geometry"]["coordinates"] = geometry_by_code[code]
    document["features"] = [f for f in document["features"] if geometry_by_code.get(f["properties"]["code"]) != "drop"]
    return Source("regions.geojson", json.dumps(document, ensure_ascii=False).encode())


def grids(code: str) -> Source:
    feature = {"type": "Feature", "properties": {"code": code, "village_code": VILLAGE, "name": "第1网格"},
               "geometry": REGIONS["features"][2]["geometry"]}
    return Source("grids.geojson", json.dumps({"type": "FeatureCollection", "features": [feature]}).encode())


def problems(report) -> list[str]:
    return [str(p) for p in report.problems]


@pytest.fixture
def village(connection):
    assert import_files(connection, [regions()], COUNTY, commit=True).ok
    return connection


def test_a_cjt349_county_takes_20_digit_grid_codes_and_households_in_them(village):
    settings.set(village, COUNTY, "grid_code.scheme", "cjt349")
    code = f"000000{VILLAGE}01"
    households = Source("households.csv", f"code,village_code,grid_code,head_name,lon,lat\n"
                                          f"H1,{VILLAGE},{code},李四,102.4,25.5\n".encode())
    report = import_files(village, [grids(code), households], COUNTY, commit=True)
    assert report.ok, report.to_text()


def test_a_bad_cjt349_grid_code_is_refused_naming_the_row_and_the_scheme(village):
    settings.set(village, COUNTY, "grid_code.scheme", "cjt349")
    before = checksums(village)
    report = import_files(village, [grids(f"{VILLAGE}001")], COUNTY, commit=True)
    assert not report.ok
    [problem] = problems(report)
    assert "grids.geojson 要素 #1 (code=532329104201001), 字段 code" in problem
    assert "不符合 CJ/T 349" in problem and "本县的网格编码方案是 cjt349" in problem
    assert checksums(village) == before


def test_a_village_serial_code_of_another_village_is_refused(village):
    report = import_files(village, [grids("532329104202001")], COUNTY, commit=True)
    assert not report.ok and any("应以所在村代码 532329104201 开头" in p for p in problems(report))


def test_an_urban_rural_class_not_in_the_nbs_list_is_refused(connection):
    before = checksums(connection)
    document = json.loads(json.dumps(REGIONS))
    document["features"][2]["properties"]["urban_rural_code"] = "230"
    document["features"][1]["properties"]["城乡分类代码"] = "121"
    report = import_files(connection, [Source("regions.geojson", json.dumps(document).encode())], COUNTY,
                          commit=True)
    assert not report.ok
    found = problems(report)
    assert any("(code=532329104201), 字段 urban_rural_code" in p and "不在国家统计局的分类中" in p for p in found)
    assert any("(code=532329104), 字段 urban_rural_code" in p and "只用于村（社区）" in p for p in found)
    assert checksums(connection) == before


def test_a_redrawn_village_that_leaves_its_grid_and_households_outside_is_refused(village):
    households = Source("households.csv", b"code,village_code,head_name,lon,lat\nH1,532329104201,A,102.45,25.5\n"
                                          b"H2,532329104201,B,102.35,25.5\n")
    assert import_files(village, [grids(f"{VILLAGE}001"), households], COUNTY, commit=True).ok
    before = checksums(village)
    report = import_files(village, [regions(**{VILLAGE: WEST})], COUNTY, commit=True)
    assert not report.ok
    found = problems(report)
    assert any("网格 532329104201001 有" in p and "在上级 532329104201 的新边界之外" in p for p in found), found
    assert any("住户 H1 在上级 532329104201 的新边界之外" in p for p in found), found
    assert not any("H2" in p for p in found)
    assert all(p.startswith("regions.geojson 要素 #3 (code=532329104201), 字段 geometry") for p in found), found
    assert checksums(village) == before


def test_a_redrawn_township_that_leaves_a_village_outside_is_refused(village):
    before = checksums(village)
    report = import_files(village, [regions(**{"532329104": WEST, VILLAGE: "drop"})], COUNTY, commit=True)
    assert not report.ok
    assert any("区划 532329104201 有" in p and "在上级 532329104 的新边界之外" in p for p in problems(report))
    assert checksums(village) == before


def test_a_redrawn_village_that_still_holds_its_children_is_accepted(village):
    households = Source("households.csv", b"code,village_code,head_name,lon,lat\nH1,532329104201,A,102.45,25.5\n")
    assert import_files(village, [grids(f"{VILLAGE}001"), households], COUNTY, commit=True).ok
    bigger = [[[102.29, 25.39], [102.51, 25.39], [102.51, 25.61], [102.29, 25.61], [102.29, 25.39]]]
    report = import_files(village, [regions(**{COUNTY: bigger, "532329104": bigger, VILLAGE: bigger})], COUNTY,
                          commit=True)
    assert report.ok, report.to_text()
    assert report.counts("region").updated == 3



def test_an_import_on_a_connection_without_a_transaction_commits_its_grids(fresh_database_url):
    """The scheme is read before the import's transaction begins; that must not swallow it."""
    from sqlalchemy import text

    from gridmap.db import make_engine

    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as connection:
            assert import_files(connection, [regions(), grids(f"{VILLAGE}001")], COUNTY, commit=True).ok
            assert not connection.in_transaction()
        with engine.connect() as other:
            assert other.execute(text("SELECT count(*) FROM grid")).scalar_one() == 1
    finally:
        engine.dispose()
