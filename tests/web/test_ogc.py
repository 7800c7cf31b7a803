"""OGC API – Features at /ogc on the real PostGIS: the standard's shapes, paging, filters,
errors, RFC 7946 output, and what the public must never see."""

from __future__ import annotations

import json

import pytest
from geojson_check import check_rfc7946
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import OPEN_TOWNSHIP as TOWNSHIP
from support import seed_open_data_county

from gridmap import features
from gridmap.maps.layers import grid_layer
from gridmap.policy import Scope

COUNTY = "532329"


@pytest.fixture
def county(connection):
    """One township, two villages of two grids each, households and issues of every kind."""
    return seed_open_data_county(connection)


def items(client, collection: str, query: str = "") -> dict:
    response = client.get(f"/ogc/collections/{collection}/items{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data(as_text=True))


def test_landing_conformance_and_collections_need_no_sign_in(client, county):
    landing = client.get("/ogc").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    assert all(link["href"].startswith("http://") for link in landing["links"])
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    listed = client.get("/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in listed] == list(features.COLLECTIONS)
    grids = next(c for c in listed if c["id"] == "grids")
    assert grids["extent"]["spatial"]["bbox"] == [[102.40, 25.50, 102.50, 25.60]]
    assert any(link["rel"] == "items" for link in grids["links"])
    issues = client.get("/ogc/collections/issues").get_json()
    assert issues["extent"]["temporal"]["interval"][0][0] == "2026-01-15T08:00:00Z"


def test_openapi_document_lists_every_collection_path(client, county):
    response = client.get("/ogc/api")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.0")
    for collection in features.COLLECTIONS:
        assert f"/collections/{collection}/items" in document["paths"]
        assert f"/collections/{collection}/items/{{featureId}}" in document["paths"]


def test_items_count_and_page_like_sql(client, county, connection):
    in_sql = connection.execute(text(
        "SELECT count(*) FROM grid WHERE county_code = :c AND valid_to IS NULL"),
        {"c": COUNTY}).scalar()
    first = items(client, "grids", "?limit=3")
    assert (first["numberMatched"], first["numberReturned"]) == (in_sql, 3)
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = items(client, "grids", next_link.split("/items", 1)[1])
    assert second["numberReturned"] == in_sql - 3
    assert not any(link["rel"] == "next" for link in second["links"])
    codes = [f["id"] for f in first["features"] + second["features"]]
    assert codes == sorted(codes) and len(set(codes)) == in_sql


def test_filters_by_bbox_property_and_datetime(client, county):
    west_village = items(client, "grids", "?bbox=102.40,25.50,102.44,25.60")
    assert {f["properties"]["village_code"] for f in west_village["features"]} == {
        TOWNSHIP + "201"}
    assert items(client, "grids", f"?village_code={TOWNSHIP}202")["numberMatched"] == 2
    assert items(client, "regions", "?level=village")["numberMatched"] == 2
    march = items(client, "issues", "?datetime=2026-02-15T00:00:00Z/..")
    assert [f["id"] for f in march["features"]] == ["Q1"]
    until_january = items(client, "issues", "?datetime=../2026-01-31")
    assert [f["id"] for f in until_january["features"]] == ["Q2"]
    assert items(client, "issues", "?status=closed")["numberMatched"] == 1


@pytest.mark.parametrize(("query", "parameter"), [
    ("?limit=0", "limit"), ("?limit=ten", "limit"), ("?bbox=1,2,3", "bbox"),
    ("?bbox=102.5,25.6,102.4,25.5", "bbox"), ("?datetime=yesterday", "datetime"),
    ("?datetime=2026-03-01/2026-01-01", "datetime"), ("?offset=-1", "offset"),
    ("?f=xml", "f"), ("?title=水管", "title"), ("?status=" + "x" * 65, "status"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, county, query, parameter):
    response = client.get("/ogc/collections/issues/items" + query)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue" and body["parameter"] == parameter
    assert body["description"]


def test_limit_is_clamped_not_refused(client, county):
    page = items(client, "grids", f"?limit={features.MAX_LIMIT * 10}")
    assert page["numberReturned"] == page["numberMatched"]


def test_unknown_collection_and_feature_are_404(client, county):
    assert client.get("/ogc/collections/households").get_json()["code"] == "NotFound"
    missing = client.get("/ogc/collections/grids/items/532329999999001")
    assert missing.status_code == 404 and missing.get_json()["code"] == "NotFound"
    found = client.get(f"/ogc/collections/grids/items/{county}")
    assert found.status_code == 200 and json.loads(found.get_data(as_text=True))["id"] == county


def test_output_is_rfc7946(client, county):
    for collection in features.COLLECTIONS:
        page = items(client, collection)
        check_rfc7946(page)


def test_the_public_never_sees_people_tip_offs_or_small_care_counts(client, county, connection):
    # the grids' label points as the display refresh keeps them: a point inside, not the one
    # ST_PointOnSurface would find again
    connection.execute(text("UPDATE grid SET geom_label = ST_GeometryN(ST_GeneratePoints(geom, 1, 7), 1)"))
    body = client.get("/ogc/collections/issues/items").get_data(as_text=True)
    for secret in ("王五", "13900001111", "水管", "村长", "Q4", "graft", "干部作风", "Q3"):
        assert secret not in body
    page = json.loads(body)
    assert page["numberMatched"] == 2  # Q1, Q2: not the voided Q3, not the tip-off Q4
    feature = page["features"][0]
    assert set(feature["properties"]) == {
        "code", "category", "category_name", "appeal_type", "status", "level", "grid_code",
        "village_code", "township_code", "reported_at", "closed_at"}
    assert feature["geometry"]["coordinates"] != [102.4123, 25.5234]  # snapped to the grid
    label = connection.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT coalesce(geom_label, ST_PointOnSurface(geom)) AS p"
        " FROM grid WHERE code = :g AND valid_to IS NULL) AS g"), {"g": feature["properties"]["grid_code"]}).one()
    assert feature["geometry"]["coordinates"] == pytest.approx(list(label), abs=1e-6)  # where its grid is named
    assert client.get("/ogc/collections/issues/items/Q4").status_code == 404
    aggregates = items(client, "households_by_grid")
    by_grid = {f["id"]: f["properties"] for f in aggregates["features"]}
    assert by_grid[county]["households"] == 7 and by_grid[county]["people"] == 21
    assert by_grid[county]["care_households"] is None  # 3 < 5: withheld
    everything = json.dumps(aggregates) + client.get("/ogc/collections/grids/items").get_data(
        as_text=True)
    for secret in ("张三丰", "13812345678", "532329199001011234", "李四"):
        assert secret not in everything


def test_households_by_grid_counts_who_is_on_the_register_as_the_map_does(client, county,
                                                                           connection):
    """A household moved out or deceased stays in the database with its history, but is no
    longer one of its grid's households, people or care households: in the public figures
    as on the leaders' map."""
    connection.execute(text(
        "INSERT INTO household (county_code, code, grid_code, village_code, head_name, size,"
        " minimum_living, status, left_on) VALUES (:c, 'GONE1', :g, :v, '王五', 4, true,"
        " 'moved_out', '2026-10-01'), (:c, 'GONE2', :g, :v, '赵六', 1, true, 'deceased',"
        " '2026-10-02')"), {"c": COUNTY, "g": county, "v": county[:12]})
    by_grid = {f["id"]: f["properties"] for f in items(client, "households_by_grid")["features"]}
    assert (by_grid[county]["households"], by_grid[county]["people"]) == (7, 21)
    assert by_grid[county]["care_households"] is None  # still 3 < 5, not 5
    with Session(bind=connection) as session:
        layer = grid_layer(session, Scope(COUNTY, region_code=COUNTY))
    on_map = {f["id"]: f["properties"]["households"] for f in layer["features"]}
    assert {code: p["households"] for code, p in by_grid.items()} == on_map


def test_a_change_shows_in_the_next_request(client, county, connection):
    before = items(client, "grids", f"?village_code={TOWNSHIP}202")
    connection.execute(text("UPDATE grid SET name = '新名字' WHERE code = :g"),
                       {"g": TOWNSHIP + "202001"})
    after = items(client, "grids", f"?village_code={TOWNSHIP}202")
    assert before != after and "新名字" in json.dumps(after, ensure_ascii=False)
    assert "no-cache" in client.get("/ogc/collections/grids/items").headers["Cache-Control"]


def test_html_pages_show_names_as_text(client, county):
    for url in ("/ogc?f=html", "/ogc/collections?f=html", "/ogc/conformance?f=html",
                "/ogc/collections/regions/items?f=html", "/ogc/collections/grids/items/"
                f"{county}?f=html"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html", url
        page = response.get_data(as_text=True)
        assert "<script>alert(1)" not in page and "1337" not in page
    regions = client.get("/ogc/collections/regions/items?f=html").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*191 }}" in regions
    browser_like = client.get("/ogc/collections", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser_like.mimetype == "text/html"
