"""Coverage gaps as files over HTTP (/exports/gaps.geojson|.gpkg): only for an API token whose
account may read coverage, in its scope; the rows of the `gaps` collection of /ogc, RFC 7946,
read by ogr2ogr without a warning, and every download in the audit log."""

from __future__ import annotations

import json
import subprocess

import pyogrio
import pytest
from geojson_check import check_rfc7946
from sqlalchemy import text
from support import OPEN_TOWNSHIP, seed_open_data_county, token_headers

from gridmap import clock, coverage
from gridmap.policy import Scope

VILLAGE_1, VILLAGE_2 = OPEN_TOWNSHIP + "201", OPEN_TOWNSHIP + "202"


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-03-10T09:00:00+08:00")
    return seed_open_data_county(connection)


@pytest.fixture
def township(connection, db, county):
    return token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "township-gis")


def download(client, url, headers) -> bytes:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data()


def counted(collection: dict) -> dict[str, int]:
    """Gaps per rule as coverage.gap_counts counts them (households come counted per grid)."""
    found: dict[str, int] = {}
    for feature in collection["features"]:
        kind = feature["properties"]["kind"]
        found[kind] = found.get(kind, 0) + (feature["properties"]["households"] or 1)
    return found


def test_the_gaps_file_needs_a_token_whose_account_may_read_coverage(client, county,
                                                                    connection, db, auth):
    for url in ("/exports/gaps.geojson", "/exports/gaps.gpkg"):
        refused = client.get(url)
        assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"
    worker = token_headers(connection, db, "grid_worker", VILLAGE_1 + "001", "worker-gis")
    assert client.get("/exports/gaps.geojson", headers=worker).status_code == 403
    assert client.get("/exports/gaps.gpkg", headers=worker).status_code == 403
    bogus = {"Authorization": "Bearer gm_" + "x" * 43}
    assert client.get("/exports/gaps.geojson", headers=bogus).status_code == 401
    auth.as_role("leader", "532329")  # a browser session of a leader is not a token
    assert client.get("/exports/gaps.geojson").status_code == 401
    assert connection.execute(text(
        "SELECT count(*) FROM audit_event WHERE action = 'export'")).scalar() == 0


def test_a_token_downloads_the_gaps_of_its_scope_as_the_ogc_collection_has_them(
        client, county, connection, township):
    body = download(client, "/exports/gaps.geojson", township)
    collection = json.loads(body)
    check_rfc7946(collection)
    scope = Scope(county[:6], region_code=OPEN_TOWNSHIP)
    expected = coverage.gap_counts(connection, scope, clock.now())
    assert counted(collection) == {kind: n for kind, n in expected.items() if n}
    page = client.get("/ogc/collections/gaps/items?limit=1000", headers=township).get_json()
    assert [f["id"] for f in collection["features"]] == [f["id"] for f in page["features"]]
    assert "张三丰" not in body.decode()
    groups = json.loads(download(client, f"/exports/gaps.geojson?kind=group&region={VILLAGE_2}",
                                 township))
    assert sorted(f["properties"]["code"] for f in groups["features"]) == [
        VILLAGE_2 + "001", VILLAGE_2 + "002"]
    bad = client.get("/exports/gaps.geojson?kind=everything", headers=township)
    assert bad.status_code == 422 and bad.get_json()["field"] == "kind"
    assert client.get("/exports/gaps.geojson?head_name=x", headers=township).status_code == 422


def test_a_village_token_gets_its_village_only(client, county, connection, db):
    village = token_headers(connection, db, "village_staff", VILLAGE_1, "village-gis")
    collection = json.loads(download(client, "/exports/gaps.geojson", village))
    assert collection["features"]
    assert {f["properties"]["village_code"] for f in collection["features"]} == {VILLAGE_1}


def test_ogr2ogr_reads_the_gaps_without_a_warning_and_the_gpkg_holds_the_same(
        client, county, township, tmp_path):
    geojson = tmp_path / "gaps.geojson"
    geojson.write_bytes(download(client, "/exports/gaps.geojson", township))
    features = len(json.loads(geojson.read_text())["features"])
    copy = tmp_path / "copy.gpkg"
    done = subprocess.run(["ogr2ogr", "-f", "GPKG", str(copy), str(geojson)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert pyogrio.read_info(copy)["features"] == features
    gpkg = tmp_path / "gaps.gpkg"
    gpkg.write_bytes(download(client, "/exports/gaps.gpkg", township))
    frame = pyogrio.read_dataframe(gpkg)
    assert len(frame) == features
    assert set(frame.geom_type) == {"MultiPolygon", "Point"}  # outlines and counted households
    assert frame.loc[frame.kind == "household", "households"].sum() > 0


def test_every_gaps_download_is_in_the_audit_log(client, county, connection, township):
    body = json.loads(download(client, f"/exports/gaps.geojson?region={VILLAGE_1}", township))
    download(client, "/exports/gaps.gpkg?kind=village", township)
    logged = connection.execute(text(
        "SELECT actor, target, detail FROM audit_event WHERE action = 'export' ORDER BY id")).all()
    assert [(actor, target) for actor, target, _ in logged] == [
        ("township-gis", "collection:gaps"), ("township-gis", "collection:gaps")]
    assert logged[0][2] == {"format": "geojson", "rows": len(body["features"]),
                            "filters": {"region": VILLAGE_1}}
    assert logged[1][2]["format"] == "gpkg" and logged[1][2]["filters"] == {
        "properties": {"kind": "village"}}
