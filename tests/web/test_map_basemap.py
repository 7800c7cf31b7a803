"""Basemaps: none by default; Tianditu and local servers (WGS84/CGCS2000) as they are; a GCJ-02
server (Gaode) with every shape shifted on display, stored data untouched; the CSP allows
exactly the configured tile hosts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from support import AuthActions
from test_map import COUNTY, insert_county, page_config

from gridmap import create_app
from gridmap.geo import gcj02_to_wgs84, shift_geojson, wgs84_to_gcj02
from gridmap.maps.compact import compact_collection
from gridmap.maps.county import Basemap, BasemapError

GAODE = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&style=8&x={x}&y={y}&z={z}"
TIANDITU = ("http://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec"
            "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY")


def test_a_gcj02_server_needs_its_datum_named():
    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP_CRS=gcj02"):
        Basemap.from_setting(GAODE, subdomains="1234")
    basemap = Basemap.from_setting(GAODE, "高德地图", crs="gcj02", subdomains="1234")
    assert basemap.crs == "gcj02"
    assert basemap.hosts() == [f"https://webrd0{n}.is.autonavi.com" for n in "1234"]
    with pytest.raises(BasemapError, match="Baidu"):
        Basemap.from_setting("https://maponline0.bdimg.com/tile/?x={x}&y={y}&z={z}", crs="gcj02")
    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP_CRS"):
        Basemap.from_setting(TIANDITU, crs="bd09")


def test_tianditu_is_wgs84_with_its_eight_hosts():
    basemap = Basemap.from_setting(TIANDITU, "天地图", subdomains="01234567")
    assert basemap.crs == "wgs84"
    assert basemap.hosts() == [f"http://t{n}.tianditu.gov.cn" for n in "01234567"]


def test_shapes_and_labels_shift_for_display_only():
    collection = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "g", "geometry": {"type": "Point", "coordinates": [102.4, 25.55]},
        "properties": {"label_lonlat": [102.4, 25.55], "name": "x"}}]}
    shifted = shift_geojson(collection, "gcj02")
    lon, lat = shifted["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx(wgs84_to_gcj02(102.4, 25.55))
    assert shifted["features"][0]["properties"]["label_lonlat"] == pytest.approx([lon, lat], abs=1e-6)
    assert gcj02_to_wgs84(lon, lat) == pytest.approx((102.4, 25.55), abs=1e-7)
    assert collection["features"][0]["geometry"]["coordinates"] == [102.4, 25.55]
    assert shift_geojson(collection, "wgs84") is collection


@pytest.fixture
def gaode_client(database_url, connection):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "GRIDMAP_BASEMAP": GAODE,
                      "GRIDMAP_BASEMAP_CRS": "gcj02", "GRIDMAP_BASEMAP_SUBDOMAINS": "1234",
                      "GRIDMAP_BASEMAP_ATTRIBUTION": "高德地图"})
    app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield app.test_client()
    app.extensions["gridmap.engine"].dispose()


def test_on_a_gcj02_basemap_the_layers_are_shifted_and_the_csp_names_its_hosts(
        client, auth, connection, gaode_client):
    insert_county(connection)
    auth.as_role("leader", COUNTY)
    plain = json.loads(client.get("/map/grids.geojson").get_data())["features"][0]
    assert AuthActions(gaode_client, connection).sign_in("leader-" + COUNTY).status_code == 302
    response = gaode_client.get("/map/grids.geojson")
    shifted = json.loads(response.get_data())["features"][0]
    assert shifted["id"] == plain["id"]
    # map.js's compact layer carries the shifted shapes too (encoded after the shift).
    compact = json.loads(gaode_client.get("/map/grids.geojson?compact=1").get_data())
    whole = json.loads(response.get_data())
    assert compact["geometries"] == compact_collection(whole)["geometries"]
    corner = plain["geometry"]["coordinates"][0][0][0]
    assert shifted["geometry"]["coordinates"][0][0][0] == pytest.approx(
        list(wgs84_to_gcj02(*corner)), abs=1e-6)
    page = gaode_client.get("/")
    csp = page.headers["Content-Security-Policy"]
    img_src = next(part for part in csp.split("; ") if part.startswith("img-src"))
    assert img_src == ("img-src 'self' data: " + " ".join(
        f"https://webrd0{n}.is.autonavi.com" for n in "1234"))
    html = page.get_data(as_text=True)
    assert "L.tileLayer" in html
    (south, west), _ne = page_config(html)["bounds"]
    assert (west, south) == pytest.approx(wgs84_to_gcj02(102.3, 25.5), abs=1e-6)
    # What is stored stays WGS84.
    stored = connection.execute(text(
        "SELECT ST_XMin(geom) FROM grid WHERE code = :g"), {"g": plain["id"]}).scalar()
    assert stored == pytest.approx(min(x for x, _y in plain["geometry"]["coordinates"][0][0]),
                                   abs=1e-5)


def test_on_a_gcj02_basemap_the_target_layer_is_shifted_with_the_grids(
        client, auth, connection, gaode_client):
    """A 挂牌 grid is drawn over its grid: both shifted, or the badge sits beside its grid."""
    insert_county(connection)
    grid = "532329104001001"
    connection.execute(text(
        "INSERT INTO target (county_code, code, kind, grid_code, region_code, reason, due_on,"
        " tagged_at) VALUES (:c, 'GP00001', 'grid', :g, :v, '矛盾纠纷多发', '2027-01-31', now())"),
        {"c": COUNTY, "g": grid, "v": grid[:12]})
    auth.as_role("leader", COUNTY)
    [plain] = json.loads(client.get("/map/targets.geojson").get_data())["features"]
    assert AuthActions(gaode_client, connection).sign_in("leader-" + COUNTY).status_code == 302
    [shifted] = json.loads(gaode_client.get("/map/targets.geojson").get_data())["features"]
    corner = plain["geometry"]["coordinates"][0][0][0]
    assert shifted["geometry"]["coordinates"][0][0][0] == pytest.approx(
        list(wgs84_to_gcj02(*corner)), abs=1e-6)
    grids = json.loads(gaode_client.get("/map/grids.geojson").get_data())["features"]
    [drawn] = [f for f in grids if f["id"] == grid]
    assert shifted["geometry"] == drawn["geometry"]
