"""The county map: townships, villages and grids of one scope, grids coloured by households.

`build_county_map` makes the Folium map from layers already queried (gridmap.maps.layers);
`render_parts` cuts it into the pieces a page template places (head, body, script).
Both run at request time; nothing here touches the database or Flask.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import folium
from flask_babel import gettext as _
from folium.map import CustomPane
from folium.utilities import JsCode
from markupsafe import Markup, escape

from gridmap.maps.assets import assert_offline, use_local_assets
from gridmap.maps.layers import CountyLayers
from gridmap.maps.styles import (
    GRID_STYLE,
    REGION_HIT_AREA,
    TOWNSHIP_LINE,
    VILLAGE_LINE,
    CountClass,
    LegendRow,
    class_of,
    count_classes,
    legend_html,
)

MAX_ZOOM = 18
# Names are drawn for the most detailed level that has at most this many shapes in scope,
# so a county leader reads townships, township staff villages, a village or grid worker
# grids. Grid names are long ("插甸村第1网格（下龙潭）"): more would overlap.
LABEL_LIMIT = 15
# Nothing on this page uses Bootstrap (Folium's popups need only jQuery), and its reboot
# would restyle the app's own top bar and buttons.
OMITTED_ASSETS = ("bootstrap", "bootstrap_css")
# Hosts of GCJ-02 basemaps: our data is WGS84 and would sit 300–600 m off on them.
GCJ02_HOSTS = ("autonavi.com", "amap.com", "gtimg.com", "map.qq.com", "map.baidu.com",
               "bdimg.com")


class BasemapError(ValueError):
    """GRIDMAP_BASEMAP is neither "none" nor a usable tile URL template."""


@dataclass(frozen=True)
class Basemap:
    """A tile layer from a local or intranet tile server, or none at all (the default).

    With "none" the polygons themselves are the map, on a plain light background, and
    the page needs no network beyond this server.
    """

    url: str | None = None
    attribution: str = ""

    @classmethod
    def from_setting(cls, setting: str | None, attribution: str | None = None) -> Basemap:
        setting = (setting or "none").strip()
        if setting.lower() == "none":
            return cls()
        if not all(part in setting for part in ("{z}", "{x}", "{y}")):
            raise BasemapError(
                f"GRIDMAP_BASEMAP={setting!r}: give a tile URL template with {{z}}, {{x}} and "
                "{y} (e.g. http://10.0.0.5/tiles/{z}/{x}/{y}.png) or none")
        host = urlsplit(setting).hostname or ""
        if any(host == h or host.endswith("." + h) for h in GCJ02_HOSTS):
            raise BasemapError(
                f"GRIDMAP_BASEMAP host {host} serves GCJ-02/BD-09 tiles; gridmap stores WGS84, "
                "so every shape would sit 300–900 m off. Use a WGS84/CGCS2000 tile server "
                "(e.g. a local Tianditu mirror) until coordinate conversion for display lands.")
        return cls(url=setting, attribution=attribution or _("底图: 本地瓦片服务"))


@dataclass(frozen=True)
class MapParts:
    """A rendered map, cut for a Jinja page: `header` in <head>, `html` in <body>, `script`."""

    header: Markup
    html: Markup
    script: Markup
    classes: list[CountClass] = field(default_factory=list)


def _popup_js(labels: dict[str, str]) -> JsCode:
    # static/map.js builds the popup with textContent: names never reach innerHTML.
    payload = json.dumps(labels, ensure_ascii=True).replace("<", "\\u003c")
    return JsCode(f"gridmap.popup({payload})")


def _popup_labels() -> dict[str, str]:
    return {
        "code": _("编码"), "households": _("户数"), "grids": _("网格数"),
        "household_target": _("目标户数"), "context": _("不在您的范围内，仅作位置参考"),
        "township": _("乡镇(街道)"), "village": _("村(社区)"), "grid": _("网格"),
        # Whole phrases with the number's place marked: static/map.js puts the number in.
        # TRANSLATORS: a count in the popup, under the label 户数 (households).
        "households_n": _("%(n)s 户"),
        # TRANSLATORS: a count in the popup, under the label 网格数 (grids).
        "grids_n": _("%(n)s 个网格"),
    }


def _region_group(name: str, collection: dict, line: dict, popup: JsCode) -> folium.FeatureGroup:
    """One layer-control entry: a tap target under the grids, the outline above them."""
    group = folium.FeatureGroup(name=name, overlay=True, control=True)
    folium.GeoJson(collection, control=False, pane="gm-regions", on_each_feature=popup,
                   style_function=lambda _feature: REGION_HIT_AREA).add_to(group)
    folium.GeoJson(collection, control=False, pane="gm-boundaries", interactive=False,
                   style_function=lambda _feature: line).add_to(group)
    return group


def _legend(classes: list[CountClass]) -> Markup:
    rows = [LegendRow(_("%(lower)s–%(upper)s 户", lower=c.lower, upper=c.upper)
                      if c.lower else _("0 户(无住户记录)"), "gm-fill", c.color)
            for c in classes]
    rows += [LegendRow(_("乡镇(街道)界"), "gm-line-township"),
             LegendRow(_("村(社区)界"), "gm-line-village")]
    return legend_html(_("网格户数"), _("示意图 · 不作为权属依据"), rows)


class Legend(folium.MacroElement):
    """Our HTML legend in a Leaflet control (so controls never overlap), and a metric scale."""

    _template = folium.template.Template("""
        {% macro html(this, kwargs) %}<template id="{{ this.get_name() }}">{{ this.markup }}</template>{% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            L.control.scale({imperial: false, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var box = document.getElementById({{ this.get_name()|tojson }}).content.firstElementChild;
                L.DomEvent.disableClickPropagation(box);
                return box;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, markup: Markup):
        super().__init__()
        self._name = "Legend"
        self.markup = markup


class FitScope(folium.MacroElement):
    """Fit the map to the scope once the controls exist, keeping shapes clear of them."""

    _template = folium.template.Template("""
        {% macro script(this, kwargs) %}
        gridmap.fitScope({{ this._parent.get_name() }}, {{ this.corners|tojson }});
        {% endmacro %}
    """)

    def __init__(self, corners: list[list[float]]):
        super().__init__()
        self._name = "FitScope"
        self.corners = corners


def _labels(collection: dict) -> folium.FeatureGroup:
    """Names at a point inside each shape; taps go through them to the shapes below."""
    labels = folium.FeatureGroup(control=False)
    for feature in collection["features"]:
        properties = feature["properties"]
        lon, lat = properties["label_lonlat"]
        folium.Marker(
            [lat, lon], interactive=False, keyboard=False,
            icon=folium.DivIcon(html=str(escape(properties["name"])), icon_size=(0, 0),
                                class_name=f"gm-label gm-label-{properties['level']}"),
        ).add_to(labels)
    return labels


def _labelled_level(layers: CountyLayers) -> str | None:
    """The most detailed layer with at most LABEL_LIMIT shapes of the scope's own."""
    for level, collection in (("grid", layers.grids), ("village", layers.villages),
                              ("township", layers.townships)):
        own = [f for f in collection["features"] if not f["properties"]["context"]]
        if 0 < len(own) <= LABEL_LIMIT:
            return level
    return None


def build_county_map(layers: CountyLayers, *, vendor_url: Callable[[str], str],
                     basemap: Basemap | None = None) -> tuple[folium.Map, list[CountClass]]:
    """The Folium map of one scope's layers; every asset it links is under static/vendor/."""
    basemap = basemap or Basemap()
    if layers.bounds is not None:
        b = layers.bounds
        center = [(b.south + b.north) / 2, (b.west + b.east) / 2]
    else:
        center = None  # nothing in scope yet: the page says so
    county_map = folium.Map(location=center, zoom_start=11, tiles=None, maxZoom=MAX_ZOOM,
                            zoomSnap=0.25, zoomDelta=1)
    county_map._id = "county"  # a stable element id for the page's css and tests
    if basemap.url:
        folium.TileLayer(basemap.url, attr=basemap.attribution, name=_("底图"),
                         max_zoom=MAX_ZOOM, overlay=False, control=False).add_to(county_map)
    CustomPane("gm-regions", z_index=350, pointer_events=True).add_to(county_map)
    CustomPane("gm-boundaries", z_index=450, pointer_events=False).add_to(county_map)

    popup = _popup_js(_popup_labels())
    labelled = _labelled_level(layers)
    townships = _region_group(_("乡镇(街道)"), layers.townships, TOWNSHIP_LINE, popup)
    villages = _region_group(_("村(社区)"), layers.villages, VILLAGE_LINE, popup)
    for level, group, collection in (("township", townships, layers.townships),
                                     ("village", villages, layers.villages)):
        if level == labelled:
            _labels(collection).add_to(group)
        group.add_to(county_map)

    counts = [f["properties"]["households"] for f in layers.grids["features"]]
    classes = count_classes(counts)
    grids = folium.FeatureGroup(name=_("网格(按户数着色)"), overlay=True, control=True)
    if counts:
        folium.GeoJson(
            layers.grids, control=False, on_each_feature=popup,
            style_function=lambda feature: {
                **GRID_STYLE,
                "fillColor": class_of(feature["properties"]["households"], classes).color},
        ).add_to(grids)
    if labelled == "grid":
        _labels(layers.grids).add_to(grids)
    grids.add_to(county_map)

    folium.LayerControl(position="topright", collapsed=False).add_to(county_map)
    Legend(_legend(classes)).add_to(county_map)
    if layers.bounds is not None:
        FitScope(layers.bounds.latlon_corners()).add_to(county_map)
    use_local_assets(county_map, vendor_url, omit=OMITTED_ASSETS)
    return county_map, classes


def render_parts(county_map: folium.Map, classes: list[CountClass] | None = None) -> MapParts:
    """Render the map and cut it into head, body and script for a Jinja page."""
    figure = county_map.get_root()
    figure.render()
    # The page has its own <meta charset> and viewport (one that still lets people zoom)
    # and sizes the map in static/map.css: drop Folium's page-level header bits.
    figure.header._children.pop("meta_http", None)
    figure.header._children.pop(county_map.get_name(), None)
    header = assert_offline(figure.header.render())
    return MapParts(header=Markup(header), html=Markup(figure.html.render()),
                    script=Markup(figure.script.render()), classes=classes or [])
