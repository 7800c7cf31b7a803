"""The coverage-gap and appeals layers over HTTP: scoped per role, counted as the SQL
counts, the lists behind the legend's numbers, validators and compression."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pytest
from sqlalchemy import text
from test_map import COUNTY, insert_county, page_config

from gridmap import clock
from gridmap.coverage import RULES, gap_counts
from gridmap.policy import Scope

TOWNSHIP, GRID = "532329104", "532329104002001"
NO_GRID_VILLAGE = "532329104001"


@pytest.fixture
def county(connection):
    """test_map's county, and in one village a household no grid holds."""
    insert_county(connection)
    connection.execute(text(
        "INSERT INTO household (county_code, code, village_code, head_name, geom)"
        " SELECT :c, 'LOST1', :v, '王小明', ST_PointOnSurface(geom) FROM region"
        " WHERE code = :v"), {"c": COUNTY, "v": NO_GRID_VILLAGE})
    return connection


def features(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data())["features"]


def test_the_leaders_legend_counts_are_the_sql_counts(client, county, auth):
    auth.as_role("leader", COUNTY)
    config = page_config(client.get("/").get_data(as_text=True))
    expected = gap_counts(county, Scope(COUNTY, region_code=COUNTY), clock.now())
    assert client.get(config["gap_counts_url"]).get_json() == {"counts": expected}
    assert [gap["kind"] for gap in config["gaps"]] == list(RULES)
    assert set(expected) == set(RULES)
    assert expected["uncovered"] == 1
    for gap in config["gaps"]:
        assert client.get(gap["url"]).status_code == 200
    html = client.get("/").get_data(as_text=True)
    assert 'id="gm-gap-legend"' in html and 'href="/coverage/uncovered"' in html


def test_a_township_sees_its_township_only(client, county, auth):
    auth.as_role("township_staff", TOWNSHIP)
    counts = client.get("/map/gaps.json").get_json()["counts"]
    assert counts == gap_counts(county, Scope(COUNTY, region_code=TOWNSHIP), clock.now())
    grids = features(client.get("/map/gaps/group.geojson"))
    assert grids and all(f["properties"]["village_code"].startswith(TOWNSHIP) for f in grids)
    assert len(grids) == counts["group"] == 4
    badges = features(client.get("/map/gaps/uncovered.geojson"))
    assert [f["properties"]["village_code"] for f in badges] == [NO_GRID_VILLAGE]


def test_colour_classes_are_the_countys_for_every_role(client, county, auth):
    auth.as_role("leader", COUNTY)
    leader = page_config(client.get("/").get_data(as_text=True))["classes"]
    auth.sign_out()
    auth.as_role("grid_worker", GRID)  # a grid with no household: its own classes would differ
    worker = page_config(client.get("/").get_data(as_text=True))["classes"]
    assert worker == leader


def test_a_grid_workers_layers_stay_in_their_grid(client, county, auth):
    auth.as_role("grid_worker", GRID)
    assert [f["id"] for f in features(client.get("/map/grids.geojson"))] == [GRID]
    config = page_config(client.get("/").get_data(as_text=True))
    assert config["gaps"] is None  # coverage is the offices' and leaders' view
    assert client.get("/map/gaps/uncovered.geojson").status_code == 403
    assert client.get("/map/gaps.json").status_code == 403
    assert client.get("/coverage/uncovered").status_code == 403
    assert features(client.get("/map/issues.geojson")) == []


def test_an_account_covers_its_grid(client, county, auth):
    scope = Scope(COUNTY, region_code=COUNTY)
    before = gap_counts(county, scope, clock.now())["grid_worker"]
    auth.as_role("grid_worker", GRID)
    assert gap_counts(county, scope, clock.now())["grid_worker"] == before - 1


def test_a_leader_gets_counts_per_village_not_households(client, county, auth):
    auth.as_role("leader", COUNTY)
    page = client.get("/coverage/uncovered")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert NO_GRID_VILLAGE in html and "LOST1" not in html and "王" not in html
    download = client.get("/coverage/uncovered?format=csv")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][0] == NO_GRID_VILLAGE and rows[1][-1] == "1"
    assert client.get("/coverage/uncovered?format=pdf").status_code == 422


def test_township_staff_get_rows_with_names_masked(client, county, auth):
    auth.as_role("township_staff", TOWNSHIP)
    html = client.get("/coverage/uncovered").get_data(as_text=True)
    assert "LOST1" in html and "王**" in html and "王小明" not in html
    xlsx = client.get("/coverage/uncovered?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_layers_carry_a_validator_and_compress(client, county, auth):
    auth.as_role("leader", COUNTY)
    first = client.get("/map/grids.geojson", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    collection = json.loads(gzip.decompress(first.data))
    assert len(collection["features"]) == 8
    etag = first.headers["ETag"]
    again = client.get("/map/grids.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "private, no-cache"
    # A change on the server changes the validator: never stale.
    county.execute(text("UPDATE grid SET name = '新名' WHERE code = :g"), {"g": GRID})
    changed = client.get("/map/grids.geojson", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_the_maps_compact_layers_revalidate_and_follow_changes(client, county, auth):
    auth.as_role("leader", COUNTY)
    url = "/map/grids.geojson?compact=1"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "application/json"
    layer = first.get_json()
    assert layer["type"] == "gridmap.compact" and layer["count"] == 8
    etag = first.headers["ETag"]
    assert etag != client.get("/map/grids.geojson").headers["ETag"]  # another representation
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "private, no-cache"
    county.execute(text("UPDATE grid SET name = '新名' WHERE code = :g"), {"g": GRID})
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "新名" in changed.get_data(as_text=True)


def test_triaging_an_issue_changes_its_marker(client, connection, auth, monkeypatch):
    from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    issue = client.post("/api/issues", json={
        "title": "水管破裂", "category": "drinking_water", "village_code": ISSUE_VILLAGE,
        "lon": 102.405, "lat": 25.555}).get_json()["issue"]

    def marker() -> dict:
        (feature,) = [f for f in features(client.get("/map/issues.geojson"))
                      if f["properties"]["id"] == issue["id"]]
        assert feature["geometry"]["coordinates"] == [102.405, 25.555]
        return feature["properties"]

    before = marker()
    assert (before["status"], before["light"], before["overdue"]) == ("reported", "green", False)
    client.post(f"/api/issues/{issue['id']}/actions",
                json={"action": "triage", "version": issue["version"]})
    assert marker()["status"] == "triaged"
    # Past its stage's deadline the marker turns red and overdue.
    connection.execute(text("UPDATE issue SET handling_due = :due WHERE id = :id"),
                       {"due": "2026-11-23T08:00:00+08:00", "id": issue["id"]})
    late = marker()
    assert (late["light"], late["overdue"]) == ("red", True)
    # Personal data never reaches the layer.
    assert set(late) == {"id", "code", "status", "level", "category", "urgency", "light",
                         "overdue", "due"}


def test_stored_villages_and_grids_are_labelled_at_their_stored_points(client, county, auth):
    """A gap that is a stored village or grid is labelled where the map labels it (its
    `geom_label`, kept beside its display shape), not at a point found again per request; a
    grid's gap households without a place of their own are counted at that point too."""
    grid_label, village_label = [102.41, 25.56], [102.47, 25.51]  # off their middles
    county.execute(text("UPDATE grid SET geom_label = ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                        " WHERE code = :g"), {"x": grid_label[0], "y": grid_label[1], "g": GRID})
    county.execute(text("UPDATE region SET geom_label = ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                        " WHERE code = :v"),
                   {"x": village_label[0], "y": village_label[1], "v": NO_GRID_VILLAGE})
    county.execute(text("UPDATE household SET geom = NULL WHERE grid_code = :g"), {"g": GRID})
    auth.as_role("leader", COUNTY)
    grids = {f["id"]: f for f in features(client.get("/map/gaps/group.geojson"))}
    assert grids[GRID]["properties"]["label_lonlat"] == grid_label
    villages = {f["id"]: f for f in features(client.get("/map/gaps/village.geojson"))}
    assert villages[NO_GRID_VILLAGE]["properties"]["label_lonlat"] == village_label
    counted = [f for f in features(client.get("/map/gaps/household.geojson"))
               if f["properties"]["code"] == GRID]
    assert [f["geometry"]["coordinates"] for f in counted] == [grid_label]
    assert counted[0]["properties"]["households"] == 3
