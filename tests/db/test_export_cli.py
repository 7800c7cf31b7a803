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
from support import OPEN_TOWNSHIP, seed_open_data_county

from gridmap.cli.export import command


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
