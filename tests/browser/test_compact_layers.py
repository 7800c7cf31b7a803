"""map.js asks for every layer in the compact encoding and draws what it decodes: the same
FeatureCollection the GeoJSON endpoint gives, for each layer of a leader's first paint."""

from __future__ import annotations

import math

import pytest
from test_map_page import open_map

from gridmap.web.compress import pieces

LAYERS = ("county", "townships", "villages", "grids", "unvisited", "gaps/group", "gaps/village",
          "gaps/uncovered", "gaps/uncovered_area", "gaps/branch")
# Not sent to the map (its filters run in SQL): gridmap.web.maps.APPEAL_PROPERTIES_UNREAD.
UNREAD = {"issues": ("level", "category", "urgency")}


# PostGIS writes the grids', regions' and issues' polylines itself, rounding x * 1e5 where the GeoJSON
# printed x to 5 decimals: a vertex may differ by one unit of the 5th decimal (~1 m), the same
# for both neighbours of a shared edge.
ROUNDING = 1.000001e-5


def _same_positions(mine, theirs) -> bool:
    if isinstance(mine, (int, float)):
        return math.isclose(mine, theirs, rel_tol=0, abs_tol=ROUNDING)
    return len(mine) == len(theirs) and all(map(_same_positions, mine, theirs))


def _same_layer(mine: dict, theirs: dict) -> bool:
    """The same features, ids and properties; positions within the rounding."""
    if len(mine["features"]) != len(theirs["features"]):
        return False
    for a, b in zip(mine["features"], theirs["features"], strict=True):
        if {k: v for k, v in a.items() if k != "geometry"} != {
                k: v for k, v in b.items() if k != "geometry"}:
            return False
        if (a["geometry"] is None) != (b["geometry"] is None):
            return False
        if a["geometry"] and (a["geometry"]["type"] != b["geometry"]["type"] or not
                              _same_positions(a["geometry"]["coordinates"],
                                              b["geometry"]["coordinates"])):
            return False
    return True


def _expanded(page, url: str):
    return page.evaluate(
        """url => fetch(url, {credentials: "same-origin"}).then(r => r.json())
                   .then(body => ({type: body.type, layer: window.gridmap.expandLayer(body)}))""",
        url)


@pytest.mark.parametrize("login", ["leader", "township_staff"])
def test_every_layer_decodes_to_its_geojson(open_page, base_url, login):
    watch = open_map(open_page, base_url, login, "1024x768")
    page = watch.page
    for layer in (*LAYERS, "issues"):
        url = f"{base_url}/map/{layer}.geojson"
        geojson = page.request.get(url).json()
        got = _expanded(page, url + "?compact=1")
        assert got["type"] == "gridmap.compact", layer
        for feature in geojson["features"]:
            for name in UNREAD.get(layer, ()):
                del feature["properties"][name]
        assert _same_layer(got["layer"], geojson), layer
    assert watch.errors == []


def test_a_filtered_appeals_layer_is_compact_too_and_revalidates(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", "1024x768")
    url = f"{base_url}/map/issues.geojson?overdue=1&compact=1"
    first = watch.page.request.get(url)
    assert first.headers["content-type"].startswith("application/json")
    overdue = watch.page.request.get(f"{base_url}/map/issues.geojson?overdue=1").json()
    assert first.json()["count"] == len(overdue["features"]) > 0
    again = watch.page.request.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304


def test_chromium_reads_a_layer_gzipped_from_its_pieces(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", "1024x768")
    url = f"{base_url}/map/grids.geojson"
    body = watch.page.request.get(url).body()
    assert len(pieces(body)) > 1  # what the server gzipped piece by piece (web/compress.py)
    got = watch.page.evaluate(
        """url => fetch(url, {credentials: "same-origin"})
                   .then(r => r.text().then(text => [r.headers.get("content-encoding"), text]))""",
        url)
    assert got == ["gzip", body.decode()]
