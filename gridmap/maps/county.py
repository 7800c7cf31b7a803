"""The county map: townships, villages and grids of one scope, grids coloured by households.

**Text from the database or from users never passes through a template engine as
template source.** Branca renders each Folium element's output as a *new* Jinja template
(`figure.script.render()` re-reads what the first pass wrote), so a grid named
``{{ lipsum.__globals__ }}`` embedded in a Folium layer would run on the server. Hence:

* Folium draws only the map's skeleton: panes, empty layer groups, the layer switch and
  an optional basemap. What goes into it is our own code, our translated labels and
  numbers, each checked by `template_inert` before it is handed over.
* The shapes and their names come from the layer endpoints (`/map/<layer>.geojson`) and
  are drawn in the browser by static/map.js, which puts every name in with `textContent`.
* The legend, popup labels, colour classes and layer URLs are rendered once by the page's
  own Jinja template (values, never source) into a JSON block that map.js reads.

`build_county_map` makes the Folium skeleton; `render_parts` cuts it into the pieces a
page template places (head, body, script). Nothing here touches the database or Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import folium
from flask_babel import gettext as _
from folium.map import CustomPane
from markupsafe import Markup, escape

from gridmap import lifecycle, targets
from gridmap.categories import APPEAL_LABELS
from gridmap.maps.assets import assert_offline, use_local_assets
from gridmap.maps.layers import Bounds
from gridmap.maps.styles import (
    APPEAL_COLORS,
    COUNTY_LINE,
    GAP_DEFAULT_ON,
    GAP_STYLES,
    GRID_STYLE,
    REGION_HIT_AREA,
    SELECTED,
    TARGET_COLORS,
    TARGET_STYLES,
    TOWNSHIP_LINE,
    UNVISITED_STYLE,
    VILLAGE_LINE,
    CountClass,
    LegendRow,
    gap_fill_css,
    legend_html,
)

MAX_ZOOM = 18
# Names are drawn by zoom level, whatever the scope holds: townships below the first
# threshold, villages up to the second, grids beyond (a county leader who zooms into a
# township reads its villages, as its staff do).
LABEL_ZOOMS = {"village": 10.5, "grid": 12.75}
# Folium links these for its own popups and marker icons; this page uses neither (map.js
# builds popups, labels are plain spans), so they would only add weight. Bootstrap's reboot
# would also restyle the app's own top bar and buttons.
OMITTED_ASSETS = ("bootstrap", "bootstrap_css", "jquery", "awesome_markers",
                  "awesome_markers_css", "awesome_markers_font_css")
# Hosts of GCJ-02 basemaps: our WGS84 data is shifted for them (GRIDMAP_BASEMAP_CRS=gcj02).
GCJ02_HOSTS = ("autonavi.com", "amap.com", "gtimg.com", "map.qq.com")
# Baidu's tiles are BD-09 in a tile grid of Baidu's own: not an XYZ layer Leaflet can place.
BD09_HOSTS = ("map.baidu.com", "bdimg.com", "bdstatic.com")
DISPLAY_CRS = ("wgs84", "gcj02")
# What opens a Jinja block, expression or comment. Text handed to Folium may hold none.
TEMPLATE_SYNTAX = ("{{", "{%", "{#", "}}", "%}", "#}")
LEVELS = ("township", "village", "grid")


class BasemapError(ValueError):
    """GRIDMAP_BASEMAP is neither "none" nor a usable tile URL template."""


class TemplateTextError(ValueError):
    """Text about to reach Folium (and so branca's Jinja) holds template syntax."""


def template_inert(text: str) -> str:
    """Return `text` if branca may safely re-render it as a template, else raise.

    Only our own labels and configuration reach Folium; this is the guard that keeps a
    translation or setting with ``{{`` from ever being evaluated.
    """
    found = [token for token in TEMPLATE_SYNTAX if token in text]
    if found:
        raise TemplateTextError(f"{text[:80]!r} holds template syntax {found}: it may not "
                                "reach Folium; send it as data (GeoJSON or the page's JSON)")
    return text


@dataclass(frozen=True)
class Basemap:
    """A tile layer (a local or intranet tile server, Tianditu with its `tk` key, a GCJ-02
    server such as Gaode), or none at all (the default).

    With "none" the polygons themselves are the map, on a plain light background, and
    the page needs no network beyond this server. `crs` is the datum the tiles are drawn
    in: "wgs84" (also CGCS2000: Tianditu, most local servers) or "gcj02" (Gaode, Tencent),
    for which every shape is shifted on display (gridmap.geo); stored data stays WGS84.
    """

    url: str | None = None
    attribution: str = ""
    crs: str = "wgs84"
    subdomains: str = "abc"

    @classmethod
    def from_setting(cls, setting: str | None, attribution: str | None = None,
                     crs: str | None = None, subdomains: str | None = None) -> Basemap:
        """Parse GRIDMAP_BASEMAP (its attribution, GRIDMAP_BASEMAP_CRS and _SUBDOMAINS),
        refusing what cannot work."""
        setting, crs = (setting or "none").strip(), (crs or "wgs84").strip().lower()
        subdomains = (subdomains or "abc").strip()
        if setting.lower() == "none":
            return cls()
        if not all(part in setting for part in ("{z}", "{x}", "{y}")):
            raise BasemapError(
                f"GRIDMAP_BASEMAP={setting!r}: give a tile URL template with {{z}}, {{x}} and "
                "{y} (e.g. http://10.0.0.5/tiles/{z}/{x}/{y}.png) or none")
        if crs not in DISPLAY_CRS:
            raise BasemapError(f"GRIDMAP_BASEMAP_CRS={crs!r}: use one of {', '.join(DISPLAY_CRS)}")
        if not subdomains.isalnum():
            raise BasemapError(f"GRIDMAP_BASEMAP_SUBDOMAINS={subdomains!r}: letters or digits "
                               "only, one per subdomain (e.g. 01234567 for Tianditu)")
        host = urlsplit(setting.replace("{s}", subdomains[0])).hostname or ""
        if any(host == h or host.endswith("." + h) for h in BD09_HOSTS):
            raise BasemapError(
                f"GRIDMAP_BASEMAP host {host} serves Baidu tiles (BD-09 in Baidu's own tile "
                "grid), which Leaflet cannot place: use a WGS84/CGCS2000 server (Tianditu, a "
                "local one) or a GCJ-02 one (Gaode) with GRIDMAP_BASEMAP_CRS=gcj02")
        if crs != "gcj02" and any(host == h or host.endswith("." + h) for h in GCJ02_HOSTS):
            raise BasemapError(
                f"GRIDMAP_BASEMAP host {host} serves GCJ-02 tiles; gridmap stores WGS84, so "
                "every shape would sit 300–600 m off. Set GRIDMAP_BASEMAP_CRS=gcj02 and the "
                "shapes are shifted to match when drawn.")
        for name, text in (("GRIDMAP_BASEMAP", setting),
                           ("GRIDMAP_BASEMAP_ATTRIBUTION", attribution or "")):
            try:
                template_inert(text.replace("{z}", "").replace("{x}", "").replace("{y}", ""))
            except TemplateTextError:
                raise BasemapError(f"{name}={text!r}: remove the {{{{ }}}}, {{% %}} or {{# #}} "
                                   "characters; the map page cannot show them") from None
        return cls(url=setting, attribution=attribution or _("底图: 本地瓦片服务"), crs=crs,
                   subdomains=subdomains)

    @classmethod
    def from_config(cls, config) -> Basemap:
        """From the Flask config's GRIDMAP_BASEMAP* keys (the one place they are read)."""
        return cls.from_setting(config.get("GRIDMAP_BASEMAP"),
                                config.get("GRIDMAP_BASEMAP_ATTRIBUTION"),
                                config.get("GRIDMAP_BASEMAP_CRS"),
                                config.get("GRIDMAP_BASEMAP_SUBDOMAINS"))

    def hosts(self) -> list[str]:
        """scheme://host[:port] of every tile server the page may load images from (CSP)."""
        if not self.url:
            return []
        urls = ([self.url.replace("{s}", s) for s in self.subdomains] if "{s}" in self.url
                else [self.url])
        origins = []
        for url in urls:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if parts.netloc and origin not in origins:
                origins.append(origin)
        return origins


@dataclass(frozen=True)
class MapConfig:
    """What static/map.js needs to draw the layers; the page renders it as JSON data."""

    layer_urls: dict[str, str]
    classes: list[dict]
    labels: dict[str, str]
    styles: dict[str, dict]
    bounds: list[list[float]] | None
    label_zooms: dict[str, float] = field(default_factory=lambda: dict(LABEL_ZOOMS))
    gaps: list[dict] | None = None
    gap_counts_url: str | None = None
    unvisited_url: str | None = None  # the grids longest unvisited, ranked (a leader's list)
    gap_styles: dict[str, dict] = field(default_factory=dict)
    unvisited_style: dict = field(default_factory=dict)
    appeals_url: str | None = None
    issue_url: str | None = None
    issue_api_url: str | None = None
    appeal_colors: dict[str, str] = field(default_factory=dict)
    measures: list[dict] = field(default_factory=list)
    heats: list[dict] = field(default_factory=list)
    rollup_url: str | None = None
    search_url: str | None = None
    trend_url: str | None = None
    targets_url: str | None = None  # the 挂牌 layer, for roles that view the ledgers
    target_url: str | None = None  # a target's page, its id as the trailing 0
    target_styles: dict[str, dict] = field(default_factory=dict)

    def as_json_data(self) -> dict:
        """Plain JSON-able data for the page's `gm-map-config` block."""
        return asdict(self)


@dataclass(frozen=True)
class MapParts:
    """A rendered map for a Jinja page.

    `header` goes in <head>, `html` in <body>, `script` after map.js; `legend` and
    `config` are rendered by the page template itself (escaped values, never source).
    """

    header: Markup
    html: Markup
    script: Markup
    legend: Markup
    config: dict = field(default_factory=dict)


def popup_labels() -> dict[str, str]:
    """Every text map.js shows, translated: it builds popups from these and the GeoJSON."""
    return {
        "code": _("编码"), "full_name": _("全称"), "households": _("户数"), "grids": _("网格数"),
        "household_target": _("目标户数"), "context": _("不在您的范围内，仅作位置参考"),
        "township": _("乡镇（街道）"), "village": _("村（社区）"), "grid": _("网格"),
        # Whole phrases with the number's place marked: static/map.js puts the number in.
        # TRANSLATORS: a count in the popup, under the label 户数 (households).
        "households_n": _("%(n)s 户"),
        # TRANSLATORS: a count in the popup, under the label 网格数 (grids).
        "grids_n": _("%(n)s 个网格"),
        "load_failed": _("地图数据没有加载成功。请检查网络后刷新页面；如已退出登录，请重新登录。"),
        "layers": {"township": _("乡镇（街道）"), "village": _("村（社区）"),
                   "grid": _("网格（按户数着色）"), "appeals": _("未办结事项"),
                   "targets": _("挂牌整改对象")},
        "targets": {"statuses": {status: label.translate(_) for status, label
                                 in targets.STATUS_LABELS.items()},
                    "kinds": {kind: label.translate(_) for kind, label in targets.KIND_LABELS.items()},
                    "due_on": _("整改期限"), "overdue": _("超期"), "open": _("查看挂牌详情"),
                    "tagged": _("挂牌")},
        # TRANSLATORS: households in an uncovered part of a village, in its popup.
        "area_households_n": _("其中 %(n)s 户不在任何网格内"),
        "uncovered_area": _("未划入网格的区域"),
        "gap": _("空白点"), "branch": _("支部"),
        # In words on the map, under the name of a place no one answers for (by gap rule).
        # TRANSLATORS: on a village no county leader is paired with (包村), over its red outline.
        "gap_flags": {"village": _("无包村领导")},
        # TRANSLATORS: days a grid's households have waited for a visit (median), on its badge.
        "days_n": _("%(n)s 天"), "unvisited": _("最久未走访的网格"),
        "unvisited_days": _("距上次走访天数（中位数）"),
        "stages": {status: lifecycle.STATUS_LABELS[status].translate(_) for status in lifecycle.OPEN},
        # One character on each appeal's marker: its stage.
        "stage_marks": {"reported": _("报"), "triaged": _("派"), "in_progress": _("办"),
                        "handled": _("结"), "feedback": _("访"), "long_term": _("挂")},
        "lights": {"red": _("已超期"), "yellow": _("临期"), "green": _("正常"), "none": _("无时限")},
        "overdue": _("超期"), "stage": _("阶段"), "due": _("本阶段期限"), "status": _("状态"),
        "open_issue": _("查看办理过程"), "loading": _("正在加载…"),
        "issues_n": _("%(n)s 件"),
        "colour_by": _("着色"), "measure_value": _("数值"), "no_value": _("无数据"),
        "zoom_in": _("点击区域放大到下一级"), "heat": _("热力图"),
        "search": _("找村、网格或事项编码"), "search_button": _("搜索"),
        "search_none": _("没有找到"), "search_failed": _("搜索没有成功，请稍后再试。"),
        "hit_kinds": {"region": _("区划"), "grid": _("网格"), "issue": _("事项"),
                      "household": _("住户"), "address": _("住址"), "cadre": _("干部")},
        "trend": _("近 12 周三率"), "print": _("打印"), "locate": _("我的位置"),
        "locate_failed": _("无法获取您的位置"),
        "percent_range": _("%(lower)s–%(upper)s%%"), "days_range": _("%(lower)s–%(upper)s 天"),
        "count_range": _("%(lower)s–%(upper)s"), "zero": _("0（无）"),
        # A care count of 1–4 withheld from aggregate readers (privacy.suppress_small).
        "suppressed": _("<5"), "suppressed_class": _("1–4（不公开）"),
    }


def legend(classes: list[CountClass]) -> Markup:
    """The legend's markup: one row per household class, then the boundary lines."""
    rows = [LegendRow(_("%(lower)s–%(upper)s 户", lower=c.lower, upper=c.upper)
                      if c.lower else _("0 户（无住户记录）"), "gm-fill", c.color,
                      GRID_STYLE["fillOpacity"])
            for c in classes]
    rows += [LegendRow(_("乡镇（街道）界"), "gm-line-township"),
             LegendRow(_("村（社区）界"), "gm-line-village")]
    return legend_html(_("网格户数"), _("示意图 · 不作为权属依据"), rows)


def gap_legend(gaps: list[dict]) -> Markup:
    """The coverage-gap legend: per rule a switch for its layer, a swatch drawn as the layer
    is, its name and its count (filled in by map.js from /map/gaps.json), which links to the
    list behind it. Every text escaped."""
    items, to_list = [], escape(_("查看清单"))
    for gap in gaps:
        kind = escape(gap["kind"])
        checked = " checked" if gap["kind"] in GAP_DEFAULT_ON else ""
        fill = f' style="{gap_fill_css(gap["kind"])}"' if gap_fill_css(gap["kind"]) else ""
        items.append(
            f'<li class="gm-gap-row" data-gap-kind="{kind}"><label>'
            f'<input type="checkbox" data-gap-kind="{kind}"{checked}>'
            f'<span class="gm-swatch gm-gap-swatch gm-gap-{kind}"{fill}></span>'
            f'<span class="gm-gap-label">{escape(gap["label"])}</span></label>'
            f'<a class="gm-gap-count" data-gap-count="{kind}" href="{escape(gap["list_url"])}"'
            f' title="{to_list}">…</a></li>')
    # The grids longest unvisited, ranked: map.js fills the list from /map/unvisited.geojson.
    unvisited = Markup(
        '<div class="gm-unvisited" data-unvisited="loading" title="{note}">'
        '<div class="gm-unvisited-title"><span class="gm-swatch gm-unvisited-swatch"></span>'
        '{title}</div><ol class="gm-unvisited-list"></ol>'
        '<div class="gm-legend-note">{note}</div></div>'
    ).format(title=_("最久未走访的网格"), note=_("按户距上次走访天数的中位数；点名称定位"))
    return Markup(
        '<div class="gm-legend gm-gap-legend" role="region" aria-label="{title}">'
        '<div class="gm-legend-title">{title}</div><ul>{items}</ul>'
        '<div class="gm-legend-note">{note}</div>{unvisited}</div>'
    ).format(title=_("空白点"), note=_("点数字看清单"), items=Markup("".join(items)),
             unvisited=unvisited)


def _options(choices) -> Markup:
    return Markup("".join(f'<option value="{escape(value)}">{escape(name)}</option>'
                          for value, name in choices))


def _select(name: str, label: str, choices) -> Markup:
    return Markup('<label>{label} <select data-appeals-filter="{name}"><option value="">{all}'
                  '</option>{options}</select></label>').format(
        label=label, name=name, all=_("全部"), options=_options(choices))


def appeal_filter_fields(choices: dict | None = None) -> list[tuple[str, str, list]]:
    """(parameter, label, [(value, name)]) of each choice an AppealFilter reads, in the order
    the appeals map and the issue queue show them. `choices`: filter_choices' category and
    unit lists."""
    choices = choices or {}
    return [
        ("stage", _("阶段"),
         [(status, lifecycle.STATUS_LABELS[status].translate(_)) for status in lifecycle.OPEN]),
        ("category", _("类别"), list(choices.get("category", ()))),
        ("appeal_type", _("诉求类型"),
         [(key, label.translate(_)) for key, label in APPEAL_LABELS.items()]),
        ("urgency", _("紧急程度"), [("urgent", _("紧急")), ("normal", _("一般"))]),
        ("level", _("办理层级"),
         [(key, label.translate(_)) for key, label in lifecycle.LEVEL_LABELS.items()]),
        ("unit", _("承办单位"), list(choices.get("unit", ()))),
    ]


def appeals_legend(choices: dict | None = None) -> Markup:
    """The appeals legend: the marker colours by traffic light, the overdue mark, and the
    filters (stage, category, appeal type, urgency, handling level, unit, report dates) the
    layer endpoint applies. `choices`: the category and unit (value, name) lists."""
    rows = [("red", _("已超期（红色方块，带“!”）")), ("yellow", _("临期（虚线圈）")), ("green", _("正常"))]
    items = "".join(
        f'<li><span class="gm-appeal-swatch gm-appeal gm-appeal-{light}'
        f'{" gm-appeal-overdue" if light == "red" else ""}">'
        f'{"!" if light == "red" else ""}</span><span>{escape(label)}</span></li>'
        for light, label in rows)
    selects = [_select(name, label, options)
               for name, label, options in appeal_filter_fields(choices)]
    filters = Markup(
        '<div class="gm-appeals-filters">'
        '<label><input type="checkbox" data-appeals-filter="overdue"> {overdue}</label>{stage}'
        '<details><summary>{more}</summary>{selects}'
        '<label>{start} <input type="date" data-appeals-filter="from"></label>'
        '<label>{end} <input type="date" data-appeals-filter="to"></label></details></div>'
    ).format(more=_("更多筛选"), overdue=_("只看超期"), stage=selects[0],
             selects=Markup("".join(selects[1:])),
             start=_("上报自"), end=_("上报至"))
    return Markup(
        '<div class="gm-legend gm-appeals-legend" role="region" aria-label="{title}">'
        '<div class="gm-legend-title">{title}</div><ul>{items}</ul>{filters}'
        '<div class="gm-legend-note">{note}</div></div>'
    ).format(title=_("未办结事项"), note=_("标记上的字是所处阶段"), items=Markup(items),
             filters=filters)


def map_config(layer_urls: dict[str, str], classes: list[CountClass],
               bounds: Bounds | None, *, gaps: list[dict] | None = None,
               appeals_url: str | None = None, issue_url: str | None = None,
               issue_api_url: str | None = None,
               gap_counts_url: str | None = None, unvisited_url: str | None = None,
               measures: list[dict] | None = None,
               heats: list[dict] | None = None, rollup_url: str | None = None,
               search_url: str | None = None, trend_url: str | None = None,
               targets_url: str | None = None, target_url: str | None = None) -> MapConfig:
    """The data map.js draws from: where the layers are, how to colour and label them."""
    return MapConfig(
        targets_url=targets_url, target_url=target_url,
        target_styles=TARGET_STYLES if targets_url else {},
        gaps=gaps, gap_counts_url=gap_counts_url, gap_styles=GAP_STYLES,
        unvisited_url=unvisited_url, unvisited_style=UNVISITED_STYLE if unvisited_url else {},
        measures=measures or [], heats=heats or [], rollup_url=rollup_url,
        search_url=search_url, trend_url=trend_url,
        appeals_url=appeals_url, issue_url=issue_url,
        issue_api_url=issue_api_url, appeal_colors=APPEAL_COLORS,
        layer_urls=layer_urls,
        classes=[{"lower": c.lower, "upper": c.upper, "color": c.color} for c in classes],
        labels=popup_labels(),
        styles={"county": COUNTY_LINE, "township": TOWNSHIP_LINE, "village": VILLAGE_LINE, "grid": GRID_STYLE,
                "hit_area": REGION_HIT_AREA, "selected": SELECTED},
        bounds=bounds.latlon_corners() if bounds is not None else None,
    )


class CountyLayers(folium.MacroElement):
    """Hands the map and its three empty layer groups to static/map.js, which fills them."""

    _template = folium.template.Template("""
        {% macro script(this, kwargs) %}
        gridmap.mountCountyMap({{ this._parent.get_name() }}, {
            township: {{ this.groups.township.get_name() }},
            village: {{ this.groups.village.get_name() }},
            grid: {{ this.groups.grid.get_name() }}
        });
        {% endmacro %}
    """)

    def __init__(self, groups: dict[str, folium.FeatureGroup]):
        super().__init__()
        self._name = "CountyLayers"
        self.groups = groups


def build_county_map(*, vendor_url: Callable[[str], str], basemap: Basemap | None = None,
                     center_latlon: list[float] | None = None) -> folium.Map:
    """The Folium skeleton of the county map; every asset it links is under static/vendor/."""
    basemap = basemap or Basemap()
    county_map = folium.Map(location=center_latlon, zoom_start=11, tiles=None,
                            maxZoom=MAX_ZOOM, zoomSnap=0.25, zoomDelta=1)
    county_map._id = "county"  # a stable element id for the page's css and tests
    if basemap.url:
        folium.TileLayer(template_inert(basemap.url), attr=template_inert(basemap.attribution),
                         name=template_inert(_("底图")), max_zoom=MAX_ZOOM, overlay=False,
                         control=False, subdomains=basemap.subdomains).add_to(county_map)
    CustomPane("gm-regions", z_index=350, pointer_events=True).add_to(county_map)
    CustomPane("gm-boundaries", z_index=450, pointer_events=False).add_to(county_map)
    groups = {level: folium.FeatureGroup(name=level, overlay=True, control=False)
              for level in LEVELS}
    for group in groups.values():
        group.add_to(county_map)
    # The layer switch is made by static/map.js: collapsed on phones, open on tablets.
    CountyLayers(groups).add_to(county_map)
    use_local_assets(county_map, vendor_url, omit=OMITTED_ASSETS)
    return county_map


def render_parts(county_map: folium.Map, *, legend_markup: Markup,
                 config: MapConfig) -> MapParts:
    """Render the skeleton and cut it into head, body and script for a Jinja page."""
    figure = county_map.get_root()
    figure.render()
    # The page has its own <meta charset> and viewport (one that still lets people zoom)
    # and sizes the map in static/map.css: drop Folium's page-level header bits.
    figure.header._children.pop("meta_http", None)
    figure.header._children.pop(county_map.get_name(), None)
    header = assert_offline(figure.header.render())
    return MapParts(header=Markup(header), html=Markup(figure.html.render()),
                    script=Markup(figure.script.render()), legend=legend_markup,
                    config=config.as_json_data())


def targets_legend() -> Markup:
    """The 挂牌 layer's legend: a swatch for each state and the overdue pattern, in words.
    Each swatch is drawn as the state's badge on the map is (solid, flag-shaped): the badge is
    what the eye finds there, the outline beside it has the same colour."""
    rows = [LegendRow(targets.STATUS_LABELS[status].translate(_), "gm-target-swatch", color)
            for status, color in TARGET_COLORS.items()]
    rows.append(LegendRow(_("超期（虚线，标“超期”）"), "gm-target-overdue-swatch"))
    return legend_html(_("挂牌整改对象"), "", rows, css_class="gm-targets-legend")  # the badges say the rest
