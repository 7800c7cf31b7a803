"""map.js asks for every layer in the compact encoding and draws what it decodes: the same
FeatureCollection the GeoJSON endpoint gives, for each layer of a leader's first paint."""

from __future__ import annotations

import pytest

from test_map_page import open_map

LAYERS = ("county", "townships", "villages", "grids", "unvisited", "gaps/group", "gaps/village",
          "gaps/uncovered", "gaps/uncovered_area", "gaps/branch")
# Not sent to the map (its filters run in SQL): gridmap.web.maps.APPEAL_PROPERTIES_UNREAD.
UNREAD = {"issues": ("level", "category", "urgency")}


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
        assert got["layer"] == geojson, layer
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
