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
from gridmap.maps.county import (
    Basemap,
    BasemapError,
    TemplateTextError,
    appeals_legend,
    build_county_map,
    gap_legend,
    legend,
    map_config,
    render_parts,
    targets_legend,
    template_inert,
)
from gridmap.maps.layers import Bounds
from gridmap.maps.styles import (
    EMPTY_FILL,
    GRID_STYLE,
    SEQUENTIAL,
    TARGET_COLORS,
    class_of,
    count_classes,
)

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"


def vendor_url(path: str) -> str:
    return "/static/vendor/" + path


LAYER_URLS = {level: f"/map/{level}s.geojson" for level in ("township", "village", "grid")}


def rendered(basemap: Basemap | None = None) -> str:
    county_map = build_county_map(vendor_url=vendor_url, basemap=basemap,
                                  center_latlon=[25.55, 102.45])
    classes = count_classes([0, 120, 480])
    parts = render_parts(county_map, legend_markup=legend(classes),
                         config=map_config(LAYER_URLS, classes, Bounds(102.4, 25.5, 102.5, 25.6)))
    return "\n".join([parts.header, parts.html, parts.script])


def test_map_links_nothing_outside_the_server():
    html = rendered()
    assert not OUTSIDE_LINK.search(html)
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and all(link.startswith("/static/vendor/") for link in links)
    assert "bootstrap" not in html  # nothing on the page uses it; its reboot would restyle ours
    assert "jquery" not in html and "fontawesome" not in html  # nor Folium's popups and icons


def test_map_without_basemap_requests_no_tiles():
    html = rendered()
    assert "L.tileLayer" not in html
    assert '"maxZoom": 18' in html  # MarkerCluster and fitBounds need a max zoom without tiles


def test_building_a_map_leaves_folium_classes_alone():
    cdn_js = list(folium.Map.default_js)
    rendered()
    assert folium.Map.default_js == cdn_js


def test_folium_draws_a_skeleton_and_map_js_fills_it():
    html = rendered()
    # No shape, name or count passes through Folium (branca re-renders it as Jinja).
    assert "FeatureCollection" not in html and "geo_json" not in html
    assert "gridmap.mountCountyMap(map_county, {" in html
    # The layer switch is map.js's (collapsed on phones): its entries are in the config.
    assert "L.control.layers" not in html
    names = map_config(LAYER_URLS, [], None).as_json_data()["labels"]["layers"]
    assert set(names) == {"township", "village", "grid", "appeals", "targets"}


def test_gap_legend_has_a_switch_a_swatch_and_a_linked_count_per_rule():
    markup = str(gap_legend([{"kind": "village", "label": "无包村领导的村",
                              "list_url": "/coverage/village"},
                             {"kind": "grid_worker", "label": "<b>x</b>",
                              "list_url": "/coverage/grid_worker"}]))
    assert 'data-gap-kind="village" checked' in markup  # a place no one leads: shown at once
    assert 'data-gap-kind="grid_worker">' in markup
    # The number comes from /map/gaps.json once the page is up (map.js fills it in).
    assert 'href="/coverage/village"' in markup and 'data-gap-count="village"' in markup
    assert "<b>x</b>" not in markup and "&lt;b&gt;" in markup


def test_legend_swatches_have_the_fills_opacity():
    markup = str(legend(count_classes([10])))
    assert f"opacity:{GRID_STYLE['fillOpacity']:g}" in markup


def test_the_target_legend_shows_each_state_as_its_solid_badge():
    markup = str(targets_legend())
    for color in TARGET_COLORS.values():
        assert f'class="gm-swatch gm-target-swatch" style="background:{color}"' in markup
    assert "opacity" not in markup  # the badges on the map are solid


def test_the_overdue_legend_swatch_is_the_overdue_markers_square():
    swatch = re.search(r'<span class="([^"]*gm-appeal-red[^"]*)">!</span>', str(appeals_legend()))
    assert swatch and "gm-appeal-overdue" in swatch.group(1).split()


def test_legend_lists_each_class_with_its_colour():
    markup = str(legend(count_classes([0, 120, 480])))
    assert 'class="gm-legend"' in markup
    for label in ("0 户（无住户记录）", "1–100 户", "401–500 户", "乡镇（街道）界", "示意图"):
        assert label in markup
    assert EMPTY_FILL in markup and SEQUENTIAL[-1] in markup


def test_map_config_carries_classes_urls_and_the_scope_extent():
    config = map_config(LAYER_URLS, count_classes([0, 120, 480]), Bounds(102.4, 25.5, 102.5, 25.6))
    data = config.as_json_data()
    assert data["layer_urls"]["grid"] == "/map/grids.geojson"
    assert data["classes"][0] == {"lower": 0, "upper": 0, "color": EMPTY_FILL}
    assert data["classes"][-1]["color"] == SEQUENTIAL[-1]
    assert data["bounds"] == [[25.5, 102.4], [25.6, 102.5]]
    assert data["labels"]["households_n"] == "%(n)s 户"
    json.dumps(data)  # plain JSON: the page renders it with |tojson


@pytest.mark.parametrize("text", ["{{ 7*191 }}", "{% if true %}x{% endif %}", "第1网格{#备注",
                                  "a #} b", "50%} off"])
def test_text_with_template_syntax_never_reaches_folium(text):
    with pytest.raises(TemplateTextError, match="template syntax"):
        template_inert(text)
    assert template_inert("插甸村第1网格 {名称} 50% #1") == "插甸村第1网格 {名称} 50% #1"


def test_a_basemap_attribution_with_template_syntax_is_refused():
    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP_ATTRIBUTION"):
        Basemap.from_setting("http://10.1.2.3/tiles/{z}/{x}/{y}.png", "{{ config }}")


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
    html = rendered(Basemap.from_setting(url, "县自然资源局瓦片"))
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
