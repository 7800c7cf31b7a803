"""Downloads of the public collections over HTTP: GeoJSON streamed as application/geo+json
(RFC 7946, read by ogr2ogr without a warning) and GeoPackage, filtered by region, bbox,
stage and date; every export, HTTP or CLI, in the audit log; no cache hides a change."""

from __future__ import annotations

import json
import subprocess

import pyogrio
import pytest
from geojson_check import check_rfc7946
from sqlalchemy import text
from support import OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import tokens
from gridmap.cli.export import command

VILLAGE_2 = OPEN_TOWNSHIP + "202"


@pytest.fixture
def county(connection):
    return seed_open_data_county(connection)


def download(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    response.get_data()  # the whole stream, as a client reads it
    return response


def exports(connection) -> list[tuple]:
    return connection.execute(text(
        "SELECT actor, target, detail FROM audit_event WHERE action = 'export' ORDER BY id")).all()


def test_geojson_is_streamed_as_rfc7946_and_filtered_like_the_api(client, county, connection):
    response = client.get("/exports/grids.geojson")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Disposition"].startswith("attachment")
    collection = json.loads(response.get_data(as_text=True))
    check_rfc7946(collection)
    assert len(collection["features"]) == 4
    in_village = json.loads(download(client, f"/exports/grids.geojson?region={VILLAGE_2}").data)
    assert sorted(f["id"] for f in in_village["features"]) == [VILLAGE_2 + "001", VILLAGE_2 + "002"]
    west = json.loads(download(client, "/exports/grids.geojson?bbox=102.40,25.50,102.44,25.60").data)
    assert {f["properties"]["village_code"] for f in west["features"]} == {OPEN_TOWNSHIP + "201"}
    closed = json.loads(download(client, "/exports/issues.geojson?status=closed").data)
    assert [f["id"] for f in closed["features"]] == ["Q2"]
    march = json.loads(download(client, "/exports/issues.geojson?datetime=2026-02-15/..").data)
    assert [f["id"] for f in march["features"]] == ["Q1"]  # never the tip-off Q4
    body = download(client, "/exports/issues.geojson").get_data(as_text=True)
    assert "王五" not in body and "水管" not in body and "Q4" not in body
    bad = client.get("/exports/grids.geojson?region=abc")
    assert bad.status_code == 422 and bad.get_json()["field"] == "region"
    assert client.get("/exports/grids.geojson?head_name=x").status_code == 422
    assert client.get("/exports/households.geojson").status_code == 404


def test_ogr2ogr_reads_the_http_geojson_without_a_warning(client, county, tmp_path):
    for name in ("regions", "grids", "households_by_grid", "issues"):
        target = tmp_path / f"{name}.geojson"
        target.write_bytes(download(client, f"/exports/{name}.geojson").data)
        copy = tmp_path / f"{name}.gpkg"
        done = subprocess.run(["ogr2ogr", "-f", "GPKG", str(copy), str(target)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert pyogrio.read_info(copy)["features"] == len(json.loads(target.read_text())["features"])


def test_geopackage_download(client, county, tmp_path):
    response = download(client, f"/exports/households_by_grid.gpkg?region={OPEN_TOWNSHIP}201")
    assert response.mimetype == "application/geopackage+sqlite3"
    target = tmp_path / "h.gpkg"
    target.write_bytes(response.data)
    info = pyogrio.read_info(target)
    assert info["features"] == 2 and info["geometry_type"] == "MultiPolygon"
    assert pyogrio.read_dataframe(target).households.sum() == 9


def test_every_export_is_in_the_audit_log(client, county, connection, db, runner, tmp_path):
    download(client, f"/exports/grids.geojson?region={VILLAGE_2}")
    download(client, "/exports/issues.gpkg?status=closed")
    seed_user(connection, "leader", "532329", login="gis")
    issued = tokens.issue(db, "gis", "县自然资源局 GIS")
    db.commit()
    download(client, "/exports/regions.geojson", Authorization=f"Bearer {issued.secret}")
    result = runner.invoke(command, ["households_by_grid", "--format", "csv", "-o",
                                     str(tmp_path / "h.csv"), "--region", OPEN_TOWNSHIP])
    assert result.exit_code == 0, result.output
    logged = exports(connection)
    assert [(actor, target) for actor, target, _ in logged] == [
        ("public", "collection:grids"), ("public", "collection:issues"),
        ("gis", "collection:regions"), (logged[3][0], "collection:households_by_grid")]
    assert logged[3][0].startswith("cli:")
    assert logged[0][2] == {"format": "geojson", "rows": 2, "filters": {"region": VILLAGE_2}}
    assert logged[1][2]["rows"] == 1 and logged[1][2]["filters"] == {
        "properties": {"status": "closed"}}
    assert logged[3][2]["rows"] == 4


def test_no_cache_hides_a_change_between_two_requests(client, county, connection):
    grid = OPEN_TOWNSHIP + "201001"
    url = f"/ogc/collections/grids/items/{grid}"
    first = download(client, url)
    assert first.get_json()["properties"]["name"] == "第001网格"
    assert "no-cache" in first.headers["Cache-Control"] or "no-store" in first.headers["Cache-Control"]
    connection.execute(text("UPDATE grid SET name = '改名后的网格' WHERE code = :g"), {"g": grid})
    assert download(client, url).get_json()["properties"]["name"] == "改名后的网格"
    items = download(client, f"/ogc/collections/grids/items?code={grid}").get_json()
    assert items["features"][0]["properties"]["name"] == "改名后的网格"
    exported = json.loads(download(client, f"/exports/grids.geojson?code={grid}").data)
    assert exported["features"][0]["properties"]["name"] == "改名后的网格"
    assert download(client, "/exports/grids.geojson").headers["Cache-Control"] == "no-store"
