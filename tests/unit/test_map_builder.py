"""The county map builder: local assets only, classes and legend, basemap setting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import pytest
from folium import plugins

from gridmap.maps.assets import (
    OUTSIDE_LINK,
    AssetError,
    assert_offline,
    referenced_vendor_files,
    use_local_assets,
)
from gridmap.maps.county import Basemap, BasemapError, build_county_map, render_parts
from gridmap.maps.layers import Bounds, CountyLayers
from gridmap.maps.styles import EMPTY_FILL, SEQUENTIAL, class_of, count_classes

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"


def vendor_url(path: str) -> str:
    return "/static/vendor/" + path


def square(west: float, south: float, size: float = 0.01) -> dict:
    ring = [[west, south], [west + size, south], [west + size, south + size],
            [west, south + size], [west, south]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def feature(code: str, name: str, level: str, geometry: dict, **counts) -> dict:
    ring = geometry["coordinates"][0][0]
    centre = [(ring[0][0] + ring[2][0]) / 2, (ring[0][1] + ring[2][1]) / 2]
    return {"type": "Feature", "id": code, "geometry": geometry,
            "properties": {"code": code, "name": name, "level": level, "context": False,
                           "label_lonlat": centre, **counts}}


def layers_with(grid_households: list[int], village_name: str = "大村",
                grid_name: str = "第{}网格") -> CountyLayers:
    def collection(*features):
        return {"type": "FeatureCollection", "features": list(features)}

    total = sum(grid_households)
    grids = [feature(f"532329104001{i:03d}", grid_name.format(i + 1), "grid",
                     square(102.40 + 0.01 * i, 25.50), households=n)
             for i, n in enumerate(grid_households)]
    return CountyLayers(
        townships=collection(feature("532329104", "插甸镇", "township", square(102.4, 25.5, 0.1),
                                     grids=len(grids), households=total)),
        villages=collection(feature("532329104001", village_name, "village",
                                    square(102.4, 25.5, 0.05), grids=len(grids),
                                    households=total)),
        grids=collection(*grids),
        bounds=Bounds(102.4, 25.5, 102.5, 25.6),
    )


def rendered(layers: CountyLayers, basemap: Basemap | None = None) -> str:
    county_map, classes = build_county_map(layers, vendor_url=vendor_url, basemap=basemap)
    parts = render_parts(county_map, classes)
    return "\n".join([parts.header, parts.html, parts.script])


def test_map_links_nothing_outside_the_server():
    html = rendered(layers_with([0, 120, 480]))
    assert not OUTSIDE_LINK.search(html)
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and all(link.startswith("/static/vendor/") for link in links)
    assert "bootstrap" not in html  # nothing on the page uses it; its reboot would restyle ours


def test_map_without_basemap_requests_no_tiles():
    html = rendered(layers_with([10]))
    assert "L.tileLayer" not in html
    assert '"maxZoom": 18' in html  # MarkerCluster and fitBounds need a max zoom without tiles


def test_building_a_map_leaves_folium_classes_alone():
    cdn_js = list(folium.Map.default_js)
    rendered(layers_with([10]))
    assert folium.Map.default_js == cdn_js


def test_legend_lists_each_class_with_its_colour():
    html = rendered(layers_with([0, 120, 480]))
    assert 'class="gm-legend"' in html
    for label in ("0 户(无住户记录)", "1–100 户", "401–500 户", "乡镇(街道)界", "示意图"):
        assert label in html
    assert EMPTY_FILL in html and SEQUENTIAL[-1] in html


def grid_fill(html: str, grid_code: str) -> str:
    """The fill Folium's style switch gives a grid (`case "id": return {...}` or `default:`)."""
    switch = next(block for block in html.split("switch(feature.id)")[1:]
                  if '"532329104001000"' in block.split("}\n        }")[0])
    case = re.search(r'case "' + grid_code + r'":\s*return (\{[^}]*\});', switch)
    style = case or re.search(r"default:\s*return (\{[^}]*\});", switch)
    return json.loads(style.group(1))["fillColor"]


def test_grid_fill_follows_its_household_class():
    html = rendered(layers_with([0, 120, 480]))
    assert grid_fill(html, "532329104001000") == EMPTY_FILL
    assert grid_fill(html, "532329104001001") == SEQUENTIAL[1]
    assert grid_fill(html, "532329104001002") == SEQUENTIAL[-1]


def test_names_reach_the_page_only_as_json_data():
    html = rendered(layers_with([5], village_name="<img src=x onerror=alert(1)>村"))
    assert "<img src=x" not in html
    assert "\\u003cimg src=x" in html


def test_few_grids_are_labelled_by_name_with_markup_escaped():
    html = rendered(layers_with([5, 6], grid_name="<b>第{}</b>网格"))
    assert html.count("gm-label gm-label-grid") == 2
    # Leaflet puts a DivIcon's html into innerHTML: the name arrives as &lt;b&gt; text.
    assert json.dumps("&lt;b&gt;第1&lt;/b&gt;网格").replace("&", "\\u0026") in html
    assert "<b>" not in html


def test_a_county_of_many_grids_is_labelled_by_village():
    html = rendered(layers_with([1] * 16))
    assert "gm-label-grid" not in html and html.count("gm-label gm-label-village") == 1


def test_classes_have_round_limits_up_to_the_largest_grid():
    classes = count_classes([0, 120, 480])
    assert [(c.lower, c.upper) for c in classes] == [
        (0, 0), (1, 100), (101, 200), (201, 300), (301, 400), (401, 500)]
    assert [c.color for c in classes[1:]] == list(SEQUENTIAL)
    assert class_of(100, classes).upper == 100
    assert class_of(101, classes).lower == 101
    assert class_of(480, classes).color == SEQUENTIAL[-1]


def test_few_classes_still_span_light_to_dark():
    classes = count_classes([3, 7])
    assert [(c.lower, c.upper) for c in classes] == [(1, 2), (3, 4), (5, 6), (7, 8)]
    assert classes[0].color == SEQUENTIAL[0] and classes[-1].color == SEQUENTIAL[-1]


def test_no_households_leaves_only_the_empty_class():
    assert [(c.lower, c.upper) for c in count_classes([0, 0])] == [(0, 0)]
    assert [(c.lower, c.upper) for c in count_classes([])] == [(0, 0)]
    with pytest.raises(ValueError):
        class_of(3, count_classes([0]))


def test_intranet_basemap_is_a_tile_layer_with_attribution():
    url = "http://10.1.2.3/tiles/{z}/{x}/{y}.png"
    html = rendered(layers_with([10]), Basemap.from_setting(url, "县自然资源局瓦片"))
    assert "L.tileLayer" in html and url in html
    assert json.dumps("县自然资源局瓦片") in html


@pytest.mark.parametrize("setting", ["https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}",
                                     "http://10.1.2.3/tiles/"])
def test_unusable_basemap_setting_is_refused_with_a_reason(setting):
    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP"):
        Basemap.from_setting(setting)


def test_basemap_none_is_the_default():
    assert Basemap.from_setting(None).url is None
    assert Basemap.from_setting(" None ").url is None


def test_plugins_are_pointed_at_local_copies():
    m = folium.Map(tiles=None, maxZoom=18)
    plugins.MarkerCluster().add_to(m)
    plugins.HeatMap([[25.5, 102.4, 1.0]]).add_to(m)
    folium.Marker([25.5, 102.4], icon=folium.Icon(icon="house", prefix="fa")).add_to(m)
    use_local_assets(m, vendor_url)
    m.get_root().render()
    header = assert_offline(m.get_root().header.render())
    for path in ("markercluster/leaflet.markercluster.js", "leaflet-heat/leaflet-heat.js",
                 "fontawesome/css/all.min.css"):
        assert vendor_url(path) in header
    assert "glyphicons" not in header and "rotate" not in header


def test_unvendored_plugin_is_refused_when_the_map_is_built():
    m = folium.Map(tiles=None, maxZoom=18)
    plugins.Fullscreen().add_to(m)
    with pytest.raises(AssetError, match="not vendored"):
        use_local_assets(m, vendor_url)


def test_every_linked_vendor_file_is_installed():
    missing = [p for p in referenced_vendor_files() if not (VENDOR / p).is_file()]
    assert not missing, f"run `make setup` (npm ci + scripts/vendor.py); missing {missing}"
    css = (VENDOR / "fontawesome/css/all.min.css").read_text()
    assert "../webfonts/fa-solid-900.woff2" in css
    assert (VENDOR / "fontawesome/webfonts/fa-solid-900.woff2").is_file()
    assert (VENDOR / "leaflet/images/layers.png").is_file()
