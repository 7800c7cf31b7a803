"""`gridmap export`: the public collections to GeoJSON, GeoPackage, CSV and XLSX, streamed,
with the same filters and the same privacy as /ogc."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pyogrio
import pytest
from geojson_check import check_rfc7946
from openpyxl import load_workbook
from sqlalchemy import text
from support import OPEN_TOWNSHIP, seed_open_data_county

from gridmap import clock, coverage
from gridmap.cli.export import command
from gridmap.policy import Scope


@pytest.fixture
def county(connection):
    return seed_open_data_county(connection)


def export(runner, *args):
    """Run `gridmap export ARGS` in the test's transaction (standard output and error apart)."""
    return runner.invoke(command, list(args))


def test_geojson_to_standard_output_is_one_feature_collection(runner, county):
    result = export(runner, "issues")
    assert result.exit_code == 0, result.output
    body = result.stdout
    collection = json.loads(body)
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    assert sorted(f["id"] for f in collection["features"]) == ["Q1", "Q2"]  # no Q3, no Q4
    for name in ("issues", "regions", "grids", "households_by_grid"):
        check_rfc7946(json.loads(export(runner, name).stdout))
    assert "王五" not in body and "水管" not in body
    assert "exported 2 issues" in result.stderr


def test_filters_are_those_of_the_api(runner, county, tmp_path):
    target = tmp_path / "grids.geojson"
    result = export(runner, "grids", "-o", str(target), "--where", f"village_code={OPEN_TOWNSHIP}202")
    assert result.exit_code == 0, result.output
    assert len(json.loads(target.read_text(encoding="utf-8"))["features"]) == 2
    assert export(runner, "issues", "--datetime", "2026-02-15/..").stdout.count('"Feature"') == 1
    bad = export(runner, "grids", "--bbox", "1,2,3")
    assert bad.exit_code != 0 and "--bbox" in bad.output
    unknown = export(runner, "grids", "--where", "head_name=张三丰")
    assert unknown.exit_code != 0 and "village_code" in unknown.output


def test_geopackage_csv_and_xlsx(runner, county, tmp_path):
    gpkg = tmp_path / "h.gpkg"
    assert export(runner, "households_by_grid", "--format", "gpkg", "-o", str(gpkg)).exit_code == 0
    info = pyogrio.read_info(gpkg)
    assert info["features"] == 4 and info["geometry_type"] == "MultiPolygon"
    assert list(info["fields"]) == ["code", "name", "village_code", "township_code", "households",
                                    "people", "care_households"]
    frame = pyogrio.read_dataframe(gpkg)
    assert frame.loc[frame.code == county, "households"].item() == 7
    # re-exporting over the same file replaces it rather than appending
    export(runner, "households_by_grid", "--format", "gpkg", "-o", str(gpkg))
    assert pyogrio.read_info(gpkg)["features"] == 4

    csv_file = tmp_path / "g.csv"
    assert export(runner, "grids", "--format", "csv", "-o", str(csv_file)).exit_code == 0
    text = csv_file.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith('"code","name"') and county in text
    xlsx = tmp_path / "g.xlsx"
    assert export(runner, "regions", "--format", "xlsx", "-o", str(xlsx)).exit_code == 0
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert sheet.max_row == 1 + 4  # county, township, two villages
    assert export(runner, "grids", "--format", "csv").exit_code != 0  # needs -o


def test_ogr2ogr_reads_the_geojson_export_without_a_warning(runner, county, tmp_path):
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo missing: `make test` installs Debian's gdal-bin")
    target = tmp_path / "regions.geojson"
    export(runner, "regions", "-o", str(target))
    done = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(target)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "Feature Count: 4" in done.stdout


def test_gaps_of_the_county_by_rule_in_every_format(runner, county, connection, tmp_path,
                                                    monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-03-10T09:00:00+08:00")
    target = tmp_path / "gaps.geojson"
    result = export(runner, "gaps", "-o", str(target))
    assert result.exit_code == 0, result.output
    collection = json.loads(target.read_text(encoding="utf-8"))
    check_rfc7946(collection)
    found: dict[str, int] = {}
    for feature in collection["features"]:
        kind = feature["properties"]["kind"]
        found[kind] = found.get(kind, 0) + (feature["properties"]["households"] or 1)
    expected = coverage.gap_counts(connection, Scope(county[:6], region_code=county[:6]),
                                   clock.now())
    assert found == {kind: n for kind, n in expected.items() if n}
    assert "张三丰" not in target.read_text(encoding="utf-8")

    groups = tmp_path / "groups.csv"  # the format from the file's suffix
    assert export(runner, "gaps", "--rule", "group", "--region", OPEN_TOWNSHIP + "202",
                  "-o", str(groups)).exit_code == 0
    lines = groups.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"kind","code"') and len(lines) == 1 + 2
    assert all(line.startswith('"group"') for line in lines[1:])
    xlsx = tmp_path / "households.xlsx"
    assert export(runner, "gaps", "--rule", "household", "-o", str(xlsx)).exit_code == 0
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert sum(row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)) == expected[
        "household"]
    gpkg = tmp_path / "gaps.gpkg"
    assert export(runner, "gaps", "-o", str(gpkg)).exit_code == 0
    assert pyogrio.read_info(gpkg)["features"] == len(collection["features"])

    unknown = export(runner, "gaps", "--rule", "everything")
    assert unknown.exit_code != 0 and "--rule" in unknown.output
    assert export(runner, "grids", "--rule", "group").exit_code != 0
    logged = connection.execute(text(
        "SELECT target, detail FROM audit_event WHERE action = 'export' ORDER BY id")).all()
    assert [target for target, _ in logged] == ["collection:gaps"] * 4
    assert logged[1][1]["format"] == "csv" and logged[1][1]["filters"] == {
        "region": OPEN_TOWNSHIP + "202", "properties": {"kind": "group"}}
