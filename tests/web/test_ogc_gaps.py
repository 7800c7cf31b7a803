"""The `gaps` collection of /ogc: coverage gaps for a token whose account may read them, in
that account's scope; the public never sees it listed nor finds it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import OPEN_TOWNSHIP, seed_open_data_county, token_headers

from gridmap import clock, coverage
from gridmap.policy import Scope

VILLAGE_1, VILLAGE_2 = OPEN_TOWNSHIP + "201", OPEN_TOWNSHIP + "202"


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-03-10T09:00:00+08:00")
    return seed_open_data_county(connection)


def collection_ids(client, **headers) -> list[str]:
    response = client.get("/ogc/collections", headers=headers)
    assert response.status_code == 200
    return [c["id"] for c in response.get_json()["collections"]]


def test_the_public_never_sees_the_gaps(client, county):
    assert "gaps" not in collection_ids(client)
    for url in ("/ogc/collections/gaps", "/ogc/collections/gaps/items",
                "/ogc/collections/gaps/items/village:" + VILLAGE_1):
        assert client.get(url).status_code == 404
    assert "gaps" not in client.get("/ogc/api").get_data(as_text=True)


def test_a_token_reads_the_gaps_of_its_scope_as_coverage_counts_them(client, county,
                                                                    connection, db):
    headers = token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "township-gis")
    assert "gaps" in collection_ids(client, **headers)
    response = client.get("/ogc/collections/gaps/items?limit=1000", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Cache-Control"] == "private, no-cache"
    page = response.get_json()
    assert page["numberMatched"] == page["numberReturned"] > 0
    scope = Scope(county[:6], region_code=OPEN_TOWNSHIP)
    expected = coverage.gap_counts(connection, scope, clock.now())
    found: dict[str, int] = {}
    for feature in page["features"]:
        kind = feature["properties"]["kind"]
        found[kind] = found.get(kind, 0) + (feature["properties"]["households"] or 1)
    assert found == {kind: n for kind, n in expected.items() if n}
    assert "张三丰" not in response.get_data(as_text=True)
    one = page["features"][0]
    item = client.get(f"/ogc/collections/gaps/items/{one['id']}", headers=headers)
    assert item.status_code == 200 and item.get_json()["id"] == one["id"]
    villages = client.get(f"/ogc/collections/gaps/items?kind=group&village_code={VILLAGE_2}",
                          headers=headers).get_json()
    assert sorted(f["properties"]["code"] for f in villages["features"]) == [
        VILLAGE_2 + "001", VILLAGE_2 + "002"]


def test_a_village_token_sees_its_village_only_and_a_grid_worker_none(client, county,
                                                                    connection, db):
    village = token_headers(connection, db, "village_staff", VILLAGE_1, "village-gis")
    page = client.get("/ogc/collections/gaps/items?limit=1000", headers=village).get_json()
    assert page["features"] and {f["properties"]["village_code"] for f in page["features"]} == {
        VILLAGE_1}
    worker = token_headers(connection, db, "grid_worker", VILLAGE_1 + "001", "worker-gis")
    assert "gaps" not in collection_ids(client, **worker)
    assert client.get("/ogc/collections/gaps/items", headers=worker).status_code == 404
    connection.execute(text("UPDATE app_user SET active = false WHERE login = 'village-gis'"))
    assert client.get("/ogc/collections/gaps/items", headers=village).status_code == 401


def test_branches_and_counted_households_sit_at_the_stored_label_points(client, county,
                                                                       connection, db):
    """A branch is placed at its village's stored label point, a grid's gap households at the
    grid's: the points the map labels them at, not found again from the full shapes."""
    grid, grid_label, village_label = county, [102.41, 25.51], [102.44, 25.58]
    connection.execute(text("UPDATE grid SET geom_label = ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                            " WHERE code = :g"), {"x": grid_label[0], "y": grid_label[1], "g": grid})
    connection.execute(text("UPDATE region SET geom_label = ST_SetSRID(ST_MakePoint(:x, :y),"
                            " 4326) WHERE code = :v"),
                       {"x": village_label[0], "y": village_label[1], "v": VILLAGE_1})
    connection.execute(text("INSERT INTO party_branch (county_code, code, name, village_code)"
                            " VALUES (:c, :code, '插甸村党支部', :v)"),
                       {"c": grid[:6], "code": VILLAGE_1 + "D1", "v": VILLAGE_1})
    headers = token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "township-gis")
    page = client.get("/ogc/collections/gaps/items?limit=1000", headers=headers).get_json()
    at = {f["id"]: f["geometry"]["coordinates"] for f in page["features"]}
    assert at["branch:" + VILLAGE_1 + "D1"] == village_label
    assert at["household:" + grid] == grid_label
