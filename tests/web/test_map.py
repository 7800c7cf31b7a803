"""Map layers on the real PostGIS: scoped, counted in SQL, simplified, well-formed GeoJSON."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from sqlalchemy import text
from support import AuthActions

from gridmap import coverage
from gridmap.maps.assets import OUTSIDE_LINK
from gridmap.maps.compact import compact_collection
from gridmap.maps.layers import grid_household_counts, grid_layer, region_layer, scope_bounds
from gridmap.policy import Scope

COUNTY = "532329"
# township -> (name, west edge); each township is 0.1° wide, two villages of two grids.
TOWNSHIPS = {"532329101": ("狮山镇", 102.30), "532329104": ("插甸镇", 102.40)}
HOUSEHOLDS = {"001": 3, "002": 0}  # per grid serial: grid 002 of every village is empty


def envelope(west: float, south: float, east: float, north: float) -> str:
    return f"ST_Multi(ST_MakeEnvelope({west}, {south}, {east}, {north}, 4326))"


def insert_county(conn) -> None:
    """Two townships × two villages × two grids, households counted per grid."""
    conn.execute(text(
        f"INSERT INTO region (county_code, code, level, name, geom) VALUES "
        f"('{COUNTY}', '{COUNTY}', 'county', '武定县', {envelope(102.3, 25.5, 102.5, 25.6)})"))
    for township, (name, west) in TOWNSHIPS.items():
        conn.execute(text(
            "INSERT INTO region (county_code, code, level, name, parent_code, geom) VALUES "
            f"(:county, :code, 'township', :name, :county, {envelope(west, 25.5, west + .1, 25.6)})"),
            {"county": COUNTY, "code": township, "name": name})
        for v in (1, 2):
            village, south = f"{township}{v:03d}", 25.5 + (v - 1) * 0.05
            conn.execute(text(
                "INSERT INTO region (county_code, code, level, name, parent_code, geom) VALUES "
                f"(:county, :code, 'village', :name, :parent, "
                f"{envelope(west, south, west + .1, south + .05)})"),
                {"county": COUNTY, "code": village, "name": f"{name[:2]}{v}村", "parent": township})
            for g, households in HOUSEHOLDS.items():
                grid, gwest = village + g, west + (int(g) - 1) * 0.05
                conn.execute(text(
                    "INSERT INTO grid (county_code, code, village_code, name, geom) VALUES "
                    f"(:county, :code, :village, :name, "
                    f"{envelope(gwest, south, gwest + .05, south + .05)})"),
                    {"county": COUNTY, "code": grid, "village": village, "name": f"第{g}网格"})
                conn.execute(text(
                    "INSERT INTO household (county_code, code, grid_code, village_code, head_name, geom)"
                    " SELECT :county, :grid || lpad(i::text, 3, '0'), :grid, :village, '户主',"
                    " ST_PointOnSurface(g.geom) FROM grid g, generate_series(1, :n) i"
                    " WHERE g.code = :grid"),
                    {"county": COUNTY, "grid": grid, "village": village, "n": households})


@pytest.fixture
def county(connection):
    insert_county(connection)
    return connection


def codes(collection: dict) -> set[str]:
    return {f["properties"]["code"] for f in collection["features"]}


def by_code(collection: dict) -> dict[str, dict]:
    return {f["id"]: f["properties"] for f in collection["features"]}


def session_on(connection):
    from sqlalchemy.orm import Session

    return Session(bind=connection, join_transaction_mode="create_savepoint")


def test_leader_sees_every_grid_with_household_counts(county):
    grids = grid_layer(session_on(county), Scope(COUNTY, region_code=COUNTY))
    assert len(grids["features"]) == 8
    assert by_code(grids)["532329104001001"]["households"] == 3
    assert by_code(grids)["532329104001002"]["households"] == 0


def test_township_staff_get_only_their_townships_grids(county):
    scope = Scope(COUNTY, region_code="532329104")
    grids = grid_layer(session_on(county), scope)
    assert codes(grids) == {"532329104001001", "532329104001002",
                            "532329104002001", "532329104002002"}
    villages = region_layer(session_on(county), scope, "village")
    assert codes(villages) == {"532329104001", "532329104002"}


def test_regions_count_grids_and_households_inside_them(county):
    session = session_on(county)
    townships = by_code(region_layer(session, Scope(COUNTY, region_code=COUNTY), "township"))
    assert townships["532329104"]["grids"] == 4
    assert townships["532329104"]["households"] == 6
    villages = by_code(region_layer(session, Scope(COUNTY, region_code=COUNTY), "village"))
    assert villages["532329101002"] == {**villages["532329101002"], "grids": 2, "households": 3}


def test_grid_worker_sees_their_grid_and_its_surroundings_without_counts(county):
    scope = Scope(COUNTY, region_code="532329104002001")
    session = session_on(county)
    assert codes(grid_layer(session, scope)) == {"532329104002001"}
    townships = by_code(region_layer(session, scope, "township"))
    assert set(townships) == {"532329104"}
    # The township is context only: its totals are not the grid worker's to see.
    assert townships["532329104"]["context"] is True
    assert townships["532329104"]["households"] is None


def test_map_fits_the_scope(county):
    session = session_on(county)
    grid = scope_bounds(session, Scope(COUNTY, region_code="532329104002001"))
    assert (grid.west, grid.south, grid.east, grid.north) == pytest.approx((102.4, 25.55, 102.45, 25.6))
    township = scope_bounds(session, Scope(COUNTY, region_code="532329101"))
    assert (township.west, township.east) == pytest.approx((102.3, 102.4))
    assert scope_bounds(session, Scope("530681", region_code="530681")) is None


def test_layers_are_well_formed_geojson_in_lonlat(county):
    session, scope = session_on(county), Scope(COUNTY, region_code=COUNTY)
    layers = [region_layer(session, scope, "township"), region_layer(session, scope, "village"),
              grid_layer(session, scope)]
    for collection in layers:
        assert collection["type"] == "FeatureCollection"
        for feature in collection["features"]:
            assert feature["type"] == "Feature" and feature["id"] == feature["properties"]["code"]
            assert feature["geometry"]["type"] == "MultiPolygon"
            ring = feature["geometry"]["coordinates"][0][0]
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(102 < lon < 103 and 25 < lat < 26 for lon, lat in ring)


def test_other_countys_rows_never_leak_in(county):
    county.execute(text(
        "INSERT INTO grid (county_code, code, village_code, name, geom) VALUES "
        f"('530681', '530681101001001', '530681101001', '别县网格', {envelope(104, 28, 104.1, 28.1)})"))
    assert "530681101001001" not in codes(grid_layer(session_on(county),
                                                     Scope(COUNTY, region_code=COUNTY)))


# --- the map page and its GeoJSON, signed in as users of different scopes -------------

def page_config(html: str) -> dict:
    """The map page's JSON block (gm-map-config), as map.js reads it."""
    start = html.index('<script type="application/json" id="gm-map-config">')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    return json.loads(body)


def test_household_counts_per_grid_feed_the_legend(county):
    counts = grid_household_counts(session_on(county), Scope(COUNTY, region_code="532329104"))
    assert sorted(counts) == [0, 0, 3, 3]


def test_map_page_needs_a_signed_in_user(client, county):
    response = client.get("/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert client.get("/map/grids.geojson").status_code == 401  # JSON for map.js, not a redirect


def test_map_page_draws_the_leaders_county_from_local_files_only(client, county, auth):
    auth.as_role("leader", COUNTY)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not OUTSIDE_LINK.search(html)
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert 'class="gm-legend"' in html and "示意图" in html
    # The page carries no shapes: map.js fetches them from the scoped layer endpoints.
    assert "532329101001001" not in html
    config = page_config(html)
    assert config["layer_urls"] == {"county": "/map/county.geojson",
                                    "township": "/map/townships.geojson",
                                    "village": "/map/villages.geojson",
                                    "grid": "/map/grids.geojson"}
    assert [(c["lower"], c["upper"]) for c in config["classes"]] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_township_user_gets_only_that_townships_grids(client, county, auth):
    auth.as_role("township_staff", "532329104")
    grids = client.get("/map/grids.geojson")
    assert grids.status_code == 200 and grids.mimetype == "application/geo+json"
    assert codes(grids.get_json()) == {"532329104001001", "532329104001002",
                                       "532329104002001", "532329104002002"}
    html = client.get("/").get_data(as_text=True)
    assert page_config(html)["bounds"] == [[25.5, 102.4], [25.6, 102.5]]
    townships = by_code(client.get("/map/townships.geojson").get_json())
    assert set(townships) == {"532329104"} and townships["532329104"]["households"] == 6


def test_grid_worker_map_fits_their_grid(client, county, auth):
    auth.as_role("grid_worker", "532329104002001")
    html = client.get("/").get_data(as_text=True)
    (south, west), (north, east) = page_config(html)["bounds"]
    assert (south, west, north, east) == pytest.approx((25.55, 102.4, 25.6, 102.45))
    assert codes(client.get("/map/grids.geojson").get_json()) == {"532329104002001"}


def map_title(html: str) -> str:
    """The place named over the map (the 示意图 note after it left out)."""
    title = re.search(r'<h1 class="gm-county-name"[^>]*>(.*?)<span', html).group(1)
    return title.strip()


@pytest.mark.parametrize(("role", "scope_code", "title"), [
    ("leader", COUNTY, "武定县"),
    ("township_staff", "532329104", "武定县 · 插甸镇"),
    ("village_staff", "532329104002", "武定县 · 插甸镇 · 插甸2村"),
    # A grid's name says its village already (in the demo: 插甸村第1网格（高河边）).
    ("grid_worker", "532329104002001", "武定县 · 插甸镇 · 第001网格"),
])
def test_the_map_is_titled_with_the_place_it_shows(client, county, auth, role, scope_code, title):
    auth.as_role(role, scope_code)
    html = client.get("/").get_data(as_text=True)
    assert map_title(html) == title
    assert f"<h2>{title} · 网格化管理示意图</h2>" in html  # printed, the same place


# A half-width bracket beside a Chinese character: Chinese labels take （） (GB/T 15834).
HALF_WIDTH_BRACKET = re.compile(r"[\u4e00-\u9fff][()]|[()][\u4e00-\u9fff]")


def texts(value) -> list[str]:
    """Every string in a JSON value (the map's labels, legends and popups)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value for text in texts(item)] if isinstance(value, list) else []


def test_chinese_labels_of_the_maps_use_full_width_brackets(client, county, auth):
    auth.as_role("leader", COUNTY)
    html = client.get("/").get_data(as_text=True)
    labels = texts(page_config(html)) + re.findall(r">([^<]+)<", html)
    for kind in coverage.RULES:  # the list behind each count of the gaps' legend
        labels += re.findall(r">([^<]+)<", client.get(f"/coverage/{kind}").get_data(as_text=True))
    assert "网格（按户数着色）" in labels
    assert [label for label in labels if HALF_WIDTH_BRACKET.search(label)] == []


def test_unknown_layer_is_not_found(client, county, auth):
    auth.as_role("leader", COUNTY)
    assert client.get("/map/households.geojson").status_code == 404


def test_empty_scope_says_so_instead_of_a_blank_map(client, connection, auth):
    auth.as_role("leader", COUNTY)
    html = client.get("/").get_data(as_text=True)
    assert "您的范围内还没有区划或网格数据。" in html


def pair_cadre_with_a_household(connection, grid_code: str) -> int:
    """A cadre paired (包户) with one household of `grid_code`; returns the cadre id."""
    cadre_id = connection.execute(text(
        "INSERT INTO cadre (county_code, code, name) VALUES (:c, 'C1', '包户干部') RETURNING id"),
        {"c": COUNTY}).scalar_one()
    connection.execute(text(
        "INSERT INTO assignment (county_code, kind, cadre_id, household_id)"
        " SELECT :c, 'household', :cadre, id FROM household WHERE grid_code = :grid LIMIT 1"),
        {"c": COUNTY, "cadre": cadre_id, "grid": grid_code})
    return cadre_id


@pytest.mark.parametrize(("role", "scope_code", "grids"), [
    ("leader", COUNTY, 8), ("inspector", COUNTY, 8), ("admin", COUNTY, 8),
    ("township_staff", "532329101", 4), ("village_staff", "532329101002", 2),
    ("grid_worker", "532329101002001", 1), ("unit_handler", "532329104", 4),
])
def test_every_role_sees_only_its_scope(client, county, role, scope_code, grids, auth):
    auth.as_role(role, scope_code)
    assert client.get("/").status_code == 200
    grid_codes = codes(client.get("/map/grids.geojson").get_json())
    assert len(grid_codes) == grids
    assert all(code.startswith(scope_code) for code in grid_codes)


def test_cadre_sees_the_grids_of_their_paired_households(client, county, auth):
    cadre_id = pair_cadre_with_a_household(county, "532329104002001")
    auth.as_role("cadre", None, cadre_id=cadre_id)
    assert client.get("/").status_code == 200
    assert codes(client.get("/map/grids.geojson").get_json()) == {"532329104002001"}
    villages = by_code(client.get("/map/villages.geojson").get_json())
    assert set(villages) == {"532329104002"} and villages["532329104002"]["households"] is None


def test_a_bad_basemap_setting_stops_the_app_at_start_up(database_url):
    from gridmap import create_app
    from gridmap.maps.county import BasemapError

    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP"):
        create_app({"DATABASE_URL": database_url, "GRIDMAP_BASEMAP": "http://10.0.0.5/tiles"})


def test_an_intranet_basemap_is_drawn_under_the_shapes(database_url, connection):
    from sqlalchemy.orm import sessionmaker

    from gridmap import create_app

    tiles = "http://10.0.0.5/tiles/{z}/{x}/{y}.png"
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "GRIDMAP_BASEMAP": tiles})
    app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint")
    insert_county(connection)
    client = app.test_client()
    AuthActions(client, connection).as_role("leader", COUNTY)
    html = client.get("/").get_data(as_text=True)
    assert "L.tileLayer" in html and tiles in html
    assert not OUTSIDE_LINK.search(html)
    app.extensions["gridmap.engine"].dispose()


def test_the_target_layer_is_on_the_leaders_map_and_not_on_a_grid_workers(client, county, auth):
    """挂牌 targets: the leader's page names the layer, its legend and the target pages; a grid
    worker (no view_ledgers) gets neither the layer nor its data."""
    village = "532329104001"
    county.execute(text(
        "INSERT INTO target (county_code, code, kind, region_code, reason, due_on, tagged_at)"
        " VALUES (:c, 'GP00001', 'region', :v, '矛盾纠纷多发', '2020-01-31', now())"),
        {"c": COUNTY, "v": village})
    auth.as_role("leader", COUNTY)
    html = client.get("/").get_data(as_text=True)
    config = page_config(html)
    assert (config["targets_url"], config["target_url"]) == ("/map/targets.geojson", "/targets/0")
    assert set(config["target_styles"]) == {"listed", "close_requested", "closed", "overdue"}
    assert config["target_styles"]["overdue"]["dashArray"]  # overdue is not told by colour alone
    assert config["labels"]["targets"]["statuses"]["listed"] == "挂牌整改中"
    assert '<template id="gm-targets-legend">' in html and "超期（虚线" in html
    [feature] = client.get(config["targets_url"]).get_json()["features"]
    assert feature["properties"]["status"] == "listed" and feature["properties"]["overdue"] is True
    assert feature["geometry"]["type"] == "MultiPolygon"  # drawn as its village

    client.post("/sign-out")
    auth.as_role("grid_worker", "532329104001001")
    html = client.get("/").get_data(as_text=True)
    config = page_config(html)
    assert config["targets_url"] is None and config["target_styles"] == {}
    assert "gm-targets-legend" not in html
    assert client.get("/map/targets.geojson").status_code == 403


def test_the_target_layer_is_answered_as_every_other_layer(client, county, auth):
    """挂牌 targets come as the map's other layers do: a validator of their content (304 when
    current, changed by a change), gzip, and map.js's compact encoding of the same features."""
    county.execute(text(
        "INSERT INTO target (county_code, code, kind, grid_code, region_code, reason, due_on,"
        " tagged_at) SELECT :c, 'GP' || code, 'grid', code, village_code, '矛盾纠纷多发',"
        " '2027-01-31', now() FROM grid"), {"c": COUNTY})
    auth.as_role("leader", COUNTY)
    first = client.get("/map/targets.geojson", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    assert first.mimetype == "application/geo+json"
    collection = json.loads(gzip.decompress(first.data))
    assert len(collection["features"]) == 8  # one per grid
    etag = first.headers["ETag"]
    again = client.get("/map/targets.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["Cache-Control"] == "private, no-cache"
    compact = client.get("/map/targets.geojson?compact=1")
    assert compact.get_json() == compact_collection(collection)
    county.execute(text("UPDATE target SET due_on = '2020-01-31' WHERE grid_code = :g"),
                   {"g": "532329104001001"})
    changed = client.get("/map/targets.geojson", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    overdue = [f["id"] for f in changed.get_json()["features"] if f["properties"]["overdue"]]
    assert len(overdue) == 1
