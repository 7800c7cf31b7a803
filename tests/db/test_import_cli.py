"""`gridmap import TABLE FILE…` and `gridmap import DIR`: a dry run unless --commit, counts,
problems, a JSON report, all in one transaction or nothing."""

from __future__ import annotations

import json
import shutil

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from test_import_errors import REGIONS
from test_import_formats import DATA

from gridmap.backup import checksums_of
from gridmap.cli.importer import command


def gridmap_import(runner, *args):
    return runner.invoke(command, [str(a) for a in args])


def checksums(connection):
    with connection.connection.dbapi_connection.cursor() as cursor:
        return checksums_of(cursor)


@pytest.fixture
def regions_file(tmp_path):
    path = tmp_path / "武定县区划.geojson"
    path.write_text(json.dumps(REGIONS, ensure_ascii=False), encoding="utf-8")
    return path


def test_dry_run_prints_counts_and_writes_nothing(runner, connection, regions_file):
    before = checksums(connection)
    result = gridmap_import(runner, "region", regions_file)
    assert result.exit_code == 0, result.output
    assert "试运行（未写入）" in result.stdout and "将新增       3" in result.stdout
    assert "rejected 0" in result.stdout and "dry run: add --commit to write" in result.stdout
    assert "读取 武定县区划.geojson" in result.stderr
    assert checksums(connection) == before


def test_commit_writes_and_the_same_file_again_changes_nothing(runner, connection, regions_file, tmp_path):
    assert gridmap_import(runner, "region", regions_file, "--commit").exit_code == 0
    result = gridmap_import(runner, "grid", DATA / "grids_gcj02.geojson", "--crs", "gcj02", "--commit",
                            "--report", tmp_path / "report.json")
    assert result.exit_code == 0, result.output
    assert "已写入" in result.stdout and "新增       2" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["committed"] and report["tables"][0]["inserted"] == 2
    before = checksums(connection)
    again = gridmap_import(runner, "grid", DATA / "grids_gcj02.geojson", "--crs", "gcj02", "--commit")
    assert "不变       2" in again.stdout
    assert checksums(connection) == before


def test_a_problem_rolls_back_every_file_and_exits_1(runner, connection, regions_file, tmp_path):
    broken = tmp_path / "regions2.geojson"
    document = json.loads(json.dumps(REGIONS))
    document["features"][2]["properties"]["parent_code"] = "532329999"
    broken.write_text(json.dumps(document), encoding="utf-8")
    before = checksums(connection)
    result = gridmap_import(runner, "region", broken, "--commit")
    assert result.exit_code == 1
    assert "未写入（出错，全部回滚）" in result.stdout and "rejected 1" in result.stdout
    assert "字段 parent_code: 上级代码应为 532329104" in result.stdout
    assert checksums(connection) == before


def test_map_renames_columns_and_layer_picks_a_layer(runner, connection, regions_file):
    assert gridmap_import(runner, "region", regions_file, "--commit").exit_code == 0
    result = gridmap_import(runner, "grid", DATA / "grids_gbk_4524.zip", "--map", "code=网格代码",
                            "--map", "village_code=村代码", "--map", "name=网格名称", "--commit")
    assert result.exit_code == 0, result.output
    assert connection.execute(text("SELECT name FROM grid ORDER BY code")).scalars().all() == [
        "插甸村第1网格", "插甸村第2网格"]
    bad = gridmap_import(runner, "grid", DATA / "grids.gpkg", "--layer", "nope")
    assert bad.exit_code == 1 and "没有图层 nope；可用的图层：grids, other" in bad.stdout


def test_a_directory_of_table_files(runner, connection, regions_file, tmp_path):
    folder = tmp_path / "county"
    folder.mkdir()
    shutil.copy(regions_file, folder / "regions.geojson")
    shutil.copy(DATA / "households_gbk.csv", folder / "households.csv")
    (folder / "notes.txt").write_text("not a table")
    shutil.copy(DATA / "grids.kml", folder / "grids.kml")
    result = gridmap_import(runner, folder, "--commit")
    assert result.exit_code == 0, result.output
    assert connection.execute(text("SELECT count(*) FROM household")).scalar_one() == 2


def test_unknown_table_and_bad_map_are_usage_errors(runner, regions_file):
    assert "is not a table" in gridmap_import(runner, "villages", regions_file).output
    assert "write target=source" in gridmap_import(runner, "region", regions_file, "--map", "code").output


def test_problems_exported_to_excel_never_run_as_formulas(runner, tmp_path):
    households = tmp_path / "households.csv"
    households.write_text('code,head_name,"=HYPERLINK(""http://example.com"",""点我"")"\nH1,李\n', encoding="utf-8")
    result = gridmap_import(runner, "household", households, "--report", tmp_path / "report.xlsx")
    assert result.exit_code == 1
    book = load_workbook(tmp_path / "report.xlsx")
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert [c.value for c in cells[:5]] == ["文件", "位置", "字段", "问题", "怎么改"]
    assert any(str(c.value).startswith("'=HYPERLINK") for c in cells)
    assert not any(c.data_type == "f" for c in cells)
