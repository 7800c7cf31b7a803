"""Hostile and broken files (issue 14, item 9): each is refused with a message naming the
place and the fix, and leaves every table's ordered-row checksum as it was, even asked to commit."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from test_import_errors import REGIONS
from test_import_formats import DATA

from gridmap.backup import checksums_of
from gridmap.exports import tabular
from gridmap.importers.core import Source, import_files

COUNTY = "532329"
VILLAGE = "532329104201"
SQUARE = [[[102.30, 25.40], [102.35, 25.40], [102.35, 25.45], [102.30, 25.45], [102.30, 25.40]]]


def checksums(connection):
    with connection.connection.dbapi_connection.cursor() as cursor:
        return checksums_of(cursor)


@pytest.fixture
def village(connection):
    assert import_files(connection, [Source("regions.geojson", json.dumps(REGIONS).encode())], COUNTY,
                        commit=True).ok
    return connection


def grids(*geometries, codes=None) -> bytes:
    features = [{"type": "Feature", "geometry": geometry,
                 "properties": {"code": (codes or [f"{VILLAGE}{i:03d}" for i in range(1, 10)])[i - 1],
                                "village_code": VILLAGE, "name": f"第{i}网格"}}
                for i, geometry in enumerate(geometries, 1)]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def polygon(rings=SQUARE) -> dict:
    return {"type": "Polygon", "coordinates": rings}


def xlsx(*rows, merge: str | None = None) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    if merge:
        book.active.merge_cells(merge)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zipped(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


SWAPPED = [[[lat, lon] for lon, lat in SQUARE[0]]]
METRES = [[[540000, 2820000], [541000, 2820000], [541000, 2821000], [540000, 2820000]]]
BOWTIE = [[[102.30, 25.40], [102.35, 25.45], [102.35, 25.40], [102.30, 25.45], [102.30, 25.40]]]
ZIP = (DATA / "grids_gbk_4524.zip").read_bytes()

CASES = {
    "empty file": (Source("grids.geojson", b""), "grids.geojson: 文件是空的；请检查是否导出了正确的文件"),
    "empty csv": (Source("households.csv", b"\xef\xbb\xbf\n \n"), "households.csv: 文件是空的"),
    "wrong extension": (Source("村界.docx", b"PK\x03\x04 not a map", table="grid"),
                        "村界.docx: 不支持的文件类型 .docx；请用 CSV / GeoJSON"),
    "shapefile without its parts": (Source("grids.shp", grids(polygon())),
                                    "grids.shp: 单独的 .shp 缺少 .dbf/.shx/.prj；请把同名的"),
    "truncated zip": (Source("grids.zip", ZIP[: len(ZIP) // 2]), "grids.zip: 压缩包已损坏或不完整"),
    "zip without a shapefile": (Source("grids.zip", zipped(**{"说明.txt": b"hello"})),
                                "grids.zip: 压缩包里没有 .shp 文件；请用 GIS 软件重新导出"),
    "geometry collection": (Source("grids.geojson", grids({"type": "GeometryCollection", "geometries": [
        polygon(), {"type": "Point", "coordinates": [102.3, 25.4]}]})),
        "grids.geojson 要素 #1 (code=532329104201001), 字段 geometry: 几何类型为 GeometryCollection，"
        "应为 Polygon / MultiPolygon；请导出正确图层"),
    "swapped lat/lon": (Source("grids.geojson", grids(polygon(SWAPPED))), "grids.geojson crs: 文件没有坐标系，坐标范围"
                        " 25.4, 102.3 – 25.45, 102.35 像是把纬度写在了经度前面（经纬度写反）；请按 经度 lon 在前"),
    "mixed crs": (Source("grids.geojson", grids(polygon(), polygon(METRES))),
                  "grids.geojson 要素 #2 (code=532329104201002), 字段 geometry: 坐标 (540000, 2.82e+06) 不在中国境内；"
                  "坐标应为经纬度 (EPSG:4326)，不是投影坐标（米）；如 102.40, 25.53。投影坐标请用 --crs 指明坐标系"),
    "declared crs that does not fit": (Source("grids.geojson", grids(polygon()), crs="EPSG:4524"),
                                       "grids.geojson crs: 按坐标系 EPSG:4524 换算后，坐标范围"),
    "unknown crs": (Source("grids.geojson", grids(polygon()), crs="EPSG:999999"),
                    "grids.geojson crs: --crs 的值 EPSG:999999 无法识别；请用 --crs 指明坐标系"),
    "self-intersection": (Source("grids.geojson", grids(polygon(BOWTIE))),
                          "grids.geojson 要素 #1 (code=532329104201001), 字段 geometry: 几何无效：Self-intersection"),
    "duplicate codes": (Source("grids.geojson", grids(polygon(), polygon(), codes=[f"{VILLAGE}001"] * 2)),
                        "grids.geojson 要素 #2 (code=532329104201001), 字段 code: 与要素 #1 (code=532329104201001)重复"),
    "xlsx merged header, blank rows, a formula in a name": (Source("households.xlsx", xlsx(
        ["住户登记表"], ["code", "head_name", "phone"], [], ["H1", '=HYPERLINK("http://example.com","李")', None],
        merge="A1:C1")), "households.xlsx 第 4 行, 字段 head_name: 单元格是公式 "),
    "xlsx without a required column": (Source("households.xlsx", xlsx(["标题"], [], ["code", "phone"])),
                                       "households.xlsx 第 1 行, 字段 head_name: 缺少必需的列；请补上这一列"),
    "truncated xlsx": (Source("households.xlsx", xlsx(["code"])[:300]), "households.xlsx: 不是有效的 XLSX 文件"),
    "gpkg layer that is not there": (Source.from_path(DATA / "grids.gpkg", table="grid", layer="村界"),
                                     "grids.gpkg: 没有图层 村界；可用的图层：grids, other"),
    "gbk csv where utf-8 is required": (Source("households.csv", "code,head_name\nH1,李国华\n".encode("gbk")),
                                        "households.csv 第 2 行: 文件不是 UTF-8 编码，看起来是 GBK/GB18030 编码"),
    "formula as a column name": (Source("households.csv", b'code,head_name,"=HYPERLINK(""http://x"",""y"")"\n'),
                                 "households.csv 第 1 行, 字段 =HYPERLINK"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_naming_place_and_fix_and_changes_nothing(village, case):
    source, expected = CASES[case]
    before = checksums(village)
    report = import_files(village, [source], COUNTY, commit=True)
    problems = [str(p) for p in report.problems]
    assert any(p.startswith(expected) or expected in p for p in problems), problems
    assert all("；" in p for p in problems), problems  # every problem says what to do
    assert checksums(village) == before


def test_report_exported_to_excel_never_holds_a_formula(village, tmp_path):
    source, _expected = CASES["formula as a column name"]
    report = import_files(village, [source], COUNTY).as_dict()
    columns = [tabular.Column(name, name) for name in ("source", "where", "field", "problem", "hint")]
    book = load_workbook(io.BytesIO(tabular.render("xlsx", columns, report["problems"])))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert any("HYPERLINK" in str(cell.value) for cell in cells)
    assert not any(cell.data_type == "f" for cell in cells)


def test_jinja_delimiters_in_names_are_kept_as_text(village):
    before = checksums(village)
    source = Source("grids.geojson", grids(polygon()).replace("第1网格".encode(), b"{{ 7*7 }}{% raw %}"))
    report = import_files(village, [source], COUNTY)
    assert report.ok and "{{ 7*7 }}" not in report.to_text()  # names are not echoed, never rendered
    assert checksums(village) == before  # a dry run
    assert import_files(village, [source], COUNTY, commit=True).ok
    from sqlalchemy import text
    assert village.execute(text("SELECT name FROM grid")).scalar_one() == "{{ 7*7 }}{% raw %}"
