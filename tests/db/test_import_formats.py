"""Users' files in every format the importers read, with their coordinate systems and encodings.

Fixtures are made by tests/data/importers/make.py from one WGS84 source (two grids of 插甸村).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import shapely
from shapely import wkt
from sqlalchemy import text
from test_import_errors import REGIONS

from gridmap.importers.core import Source, import_files

DATA = Path(__file__).resolve().parents[1] / "data" / "importers"
COUNTY = "532329"
SOURCE_GRIDS = {"532329104201001": shapely.box(102.30, 25.40, 102.35, 25.50).segmentize(0.01),
                "532329104201002": shapely.box(102.35, 25.40, 102.40, 25.50).segmentize(0.01)}


@pytest.fixture
def village(connection):
    report = import_files(connection, [Source("regions.geojson", json.dumps(REGIONS).encode())],
                          COUNTY, commit=True)
    assert report.ok, report.to_text()
    return connection


def run(connection, *sources, **kw):
    return import_files(connection, list(sources), COUNTY, **kw)


def grids(connection) -> dict[str, tuple[str, object]]:
    return {code: (name, wkt.loads(shape)) for code, name, shape in connection.execute(text(
        "SELECT code, name, ST_AsText(geom) FROM grid WHERE valid_to IS NULL ORDER BY code"))}


def metres(a, b) -> float:
    """The largest distance between two shapes' outlines, in metres (near 25.5°N)."""
    degrees = a.hausdorff_distance(b)
    return degrees * 111_320 * max(1.0, math.cos(math.radians(25.5)))


def test_gcj02_geojson_lands_within_half_a_metre_of_its_wgs84_source(village):
    report = run(village, Source.from_path(DATA / "grids_gcj02.geojson", table="grid", crs="gcj02"), commit=True)
    assert report.ok, report.to_text()
    assert any("GCJ02" in str(n) for n in report.notes)
    stored = grids(village)
    for code, source in SOURCE_GRIDS.items():
        assert metres(stored[code][1], source) < 0.5, code


def test_gcj02_taken_as_wgs84_sticks_out_of_its_village_and_is_refused(village):
    # The reason --crs gcj02 exists: read as lon/lat, the grids shift by hundreds of metres.
    report = run(village, Source.from_path(DATA / "grids_gcj02.geojson", table="grid"), commit=True)
    problems = [str(p) for p in report.problems]
    assert len(problems) == 2 and all("在上级 532329104201 的边界之外" in p for p in problems), problems
    assert problems[0].startswith("grids_gcj02.geojson 要素 #1 (code=532329104201001), 字段 geometry: ")
    assert grids(village) == {}


def test_zipped_gbk_shapefile_in_gauss_kruger_keeps_chinese_names(village):
    source = Source.from_path(DATA / "grids_gbk_4524.zip", table="grid", mapping=(
        ("code", "网格代码"), ("village_code", "村代码"), ("name", "网格名称")))
    report = run(village, source, commit=True)
    assert report.ok, report.to_text()
    notes = " ".join(str(n) for n in report.notes)
    assert "GBK/GB18030" in notes and "EPSG:4524" in notes
    stored = grids(village)
    assert stored["532329104201001"][0] == "插甸村第1网格"
    for code, shape in SOURCE_GRIDS.items():
        assert metres(stored[code][1], shape) < 0.05, code


def test_geopackage_with_two_layers_asks_which_then_reads_the_one_named(village):
    report = run(village, Source.from_path(DATA / "grids.gpkg", table="grid"))
    assert [str(p) for p in report.problems] == ["grids.gpkg: 文件有 2 个图层；请用 --layer 选择一个：grids, other"]
    report = run(village, Source.from_path(DATA / "grids.gpkg", table="grid", layer="grids"), commit=True)
    assert report.ok and report.counts("grid").inserted == 2, report.to_text()


def test_kml_placemark_names_become_names(village):
    report = run(village, Source.from_path(DATA / "grids.kml", table="grid"), commit=True)
    assert report.ok, report.to_text()
    assert grids(village)["532329104201002"][0] == "插甸村第2网格"


def test_gbk_csv_is_read_when_the_encoding_is_detected(village):
    assert run(village, Source.from_path(DATA / "grids.gpkg", table="grid", layer="grids"), commit=True).ok
    report = run(village, Source.from_path(DATA / "households_gbk.csv", table="household", encoding="auto"),
                 commit=True)
    assert report.ok, report.to_text()
    assert any("GBK/GB18030" in str(n) for n in report.notes)
    names = village.execute(text("SELECT head_name FROM household ORDER BY code")).scalars().all()
    assert names == ["李国华", "张秀英"]


def test_xlsx_with_merged_title_blank_rows_and_numeric_codes(village):
    assert run(village, Source.from_path(DATA / "grids.gpkg", table="grid", layer="grids"), commit=True).ok
    report = run(village, Source.from_path(DATA / "households.xlsx", table="household"), commit=True)
    assert report.ok, report.to_text()
    rows = village.execute(text("SELECT code, village_code, grid_code, phone FROM household ORDER BY code")).all()
    assert rows[0] == ("53232910420100001", "532329104201", "532329104201001", "13812345678")
    assert len(rows) == 2


def test_same_file_again_changes_nothing(village):
    source = Source.from_path(DATA / "grids.gpkg", table="grid", layer="grids")
    assert run(village, source, commit=True).counts("grid").inserted == 2
    again = run(village, source, commit=True)
    assert (again.counts("grid").inserted, again.counts("grid").updated, again.counts("grid").unchanged) == (0, 0, 2)


def test_datav_layout_is_read_without_mapping(connection):
    datav = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "adcode": 532329, "name": "武定县", "center": [102.4, 25.5], "level": "district",
        "parent": {"adcode": 532300}, "childrenNum": 11, "acroutes": [100000, 530000, 532300]},
        "geometry": REGIONS["features"][0]["geometry"]}]}
    report = run(connection, Source("武定县.json", json.dumps(datav).encode(), table="region"), commit=True)
    assert report.ok, report.to_text()
    assert any("Aliyun DataV" in str(n) for n in report.notes)
    assert any("高德 GCJ-02，已转换为 WGS84" in str(n) for n in report.notes)
    assert connection.execute(text("SELECT code, level, ST_XMin(geom) < 102.3 FROM region")).one() == (
        "532329", "county", True)  # GCJ-02 lies east of WGS84 here: converted, the shape moves west


def test_projected_coordinates_without_a_crs_ask_for_one(village):
    # CGCS2000 Gauss-Krüger, 3-degree zone of 102°E without the zone prefix (EPSG:4543), metres
    square = [[[540000, 2820000], [541000, 2820000], [541000, 2821000], [540000, 2821000], [540000, 2820000]]]
    document = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "code": "532329104201001", "village_code": "532329104201", "name": "一"},
        "geometry": {"type": "Polygon", "coordinates": square}}]}
    report = run(village, Source("grids.geojson", json.dumps(document).encode()))
    [problem] = [str(p) for p in report.problems]
    assert "不是中国境内的经纬度" in problem and "--crs" in problem and "EPSG:4524" in problem
    report = run(village, Source("grids.geojson", json.dumps(document).encode(), crs="EPSG:4543"))
    assert report.ok, report.to_text()


def test_a_file_of_swapped_lat_lon_is_named(village):
    swapped = [[[lat, lon] for lon, lat in ring] for ring in REGIONS["features"][0]["geometry"]["coordinates"]]
    document = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "code": "532329104201001", "village_code": "532329104201", "name": "一"},
        "geometry": {"type": "Polygon", "coordinates": swapped}}]}
    [problem] = [str(p) for p in run(village, Source("grids.geojson", json.dumps(document).encode())).problems]
    assert "经纬度写反" in problem and "经度 lon 在前" in problem


def test_xlsx_code_too_long_for_excel_numbers_is_named(village):
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["code", "village_code", "head_name", "phone", "id_number"])
    book.active.append(["H1", "532329104201", "李国华", 13812345678, 532329198001010018])
    buffer = BytesIO()
    book.save(buffer)
    report = run(village, Source("households.xlsx", buffer.getvalue()))
    [problem] = [str(p) for p in report.problems]
    assert problem.startswith("households.xlsx 第 2 行, 字段 id_number: 身份证号") and "被存成了数字" in problem
