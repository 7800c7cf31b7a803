"""Colours, classes and line styles of the maps, and the legend that explains them.

The legend is our own HTML/CSS (static/map.css): branca's colormap legend loads d3 from
a CDN. Colours are ColorBrewer's sequential YlGnBu, readable by people with the common
colour-vision deficiencies and in sunlight; red stays free for alarms and gaps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

# ColorBrewer YlGnBu, light → dark, without its palest yellow: at the grids' fill opacity
# it could not be told from the plain background.
SEQUENTIAL = ("#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
# ColorBrewer YlOrRd without its palest yellow, for figures where more is worse (gaps,
# overdue issues, days since a visit; a rate's lowest class): light → dark.
WORSE = ("#fed976", "#feb24c", "#fd8d3c", "#e31a1c", "#800026")
EMPTY_FILL = "#d9d9d9"  # grids with no household on record
NICE_STEPS = (1, 2, 5, 10)


@dataclass(frozen=True)
class CountClass:
    """One legend class: counts from `lower` to `upper`, inclusive."""

    lower: int
    upper: int
    color: str

    def __contains__(self, count: int) -> bool:
        return self.lower <= count <= self.upper


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5 × 10^k that is at least `raw` (and at least 1)."""
    if raw <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(n * magnitude for n in NICE_STEPS if n * magnitude >= raw)


def count_classes(counts: Iterable[int], max_classes: int = len(SEQUENTIAL),
                  ramp: tuple[str, ...] | None = None) -> list[CountClass]:
    """Equal classes with round limits covering 1 … max(counts); 0 has a class of its own.

    Round limits (1–100, 101–200 …) read at a glance and stay put when one grid gains a
    household, which quantile classes would not.
    """
    counts, ramp = list(counts), ramp or SEQUENTIAL
    classes = [CountClass(0, 0, EMPTY_FILL)] if 0 in counts or not counts else []
    top = max(counts, default=0)
    if top <= 0:
        return classes
    step = _nice_step(top / max_classes)
    n = math.ceil(top / step)
    for i in range(n):
        # Spread fewer classes over the whole ramp, so the darkest always means "most".
        shade = ramp[round(i * (len(ramp) - 1) / (n - 1))] if n > 1 else ramp[-1]
        classes.append(CountClass(i * step + 1, (i + 1) * step, shade))
    return classes


def class_of(count: int, classes: list[CountClass]) -> CountClass:
    """The class `count` falls in (ValueError when none holds it)."""
    for count_class in classes:
        if count in count_class:
            return count_class
    raise ValueError(f"{count} is in none of the classes {classes}")


# Line styles (Leaflet path options). Township lines are the strongest: leaders read the
# county by them; grid lines stay thin so the colours carry the grid layer.
COUNTY_LINE = {"color": "#1b1f24", "weight": 6, "opacity": 1, "fill": False}
TOWNSHIP_LINE = {"color": "#1b1f24", "weight": 3.5, "opacity": 1, "fill": False}
VILLAGE_LINE = {"color": "#3c4043", "weight": 1.8, "opacity": 0.95, "dashArray": "6 4",
                "fill": False}
GRID_STYLE = {"color": "#5f6368", "weight": 0.8, "opacity": 0.9, "fillOpacity": 0.78}
# Regions also get an invisible fill under the grids, so a tap inside a village opens its
# popup when the grid layer is hidden (see gridmap.maps.county).
REGION_HIT_AREA = {"stroke": False, "fill": True, "fillColor": "#000000", "fillOpacity": 0}
SELECTED = {"weight": 3, "color": "#b3261e"}


@dataclass(frozen=True)
class LegendRow:
    """One legend row: its label, the swatch's css class and colour."""
    label: str
    swatch: str  # css class of the swatch
    color: str | None = None
    opacity: float | None = None  # the fill's opacity, so the swatch looks as the fill does


def legend_html(title: str, note: str, rows: list[LegendRow], css_class: str = "") -> Markup:
    """The legend's markup; every text is escaped (names may come from imported files)."""
    items = []
    for row in rows:
        style = f' style="background:{escape(row.color)}' if row.color else ""
        if row.color and row.opacity is not None:
            style += f";opacity:{float(row.opacity):g}"
        style += '"' if row.color else ""
        items.append(
            f'<li><span class="gm-swatch {escape(row.swatch)}"{style}></span>'
            f"<span>{escape(row.label)}</span></li>")
    return Markup(
        '<div class="gm-legend{extra}" role="region" aria-label="{title}">'
        '<div class="gm-legend-title">{title}</div><ul>{items}</ul>'
        '<div class="gm-legend-note">{note}</div></div>'
    ).format(title=title, note=note, items=Markup("".join(items)),
             extra=" " + css_class if css_class else "")


# Coverage gaps (gridmap.coverage rules) as map.js draws them. Red is for places no one
# answers for; each kind also differs by line pattern or shape, never by colour alone.
GAP_COLOR = "#b3261e"
GAP_STYLES = {
    # Nearly opaque: a light red over the grids' blues would mix to a grey close to the
    # background; this covers them, so the village reads as a hole in the responsibility map.
    "village": {"color": GAP_COLOR, "weight": 4, "dashArray": "10 6", "opacity": 1,
                "fillColor": "#f28b82", "fillOpacity": 0.88},
    "uncovered_area": {"color": GAP_COLOR, "weight": 2.5, "opacity": 1, "fillOpacity": 1,
                       "className": "gm-hatched"},
    "group": {"color": "#e8710a", "weight": 3, "dashArray": "2 5", "fill": False, "opacity": 1},
    "area": {"color": "#7b1fa2", "weight": 3, "dashArray": "8 4 2 4", "fill": False,
             "opacity": 1},
    "grid_worker": {"color": "#5f6368", "weight": 2.5, "dashArray": "4 4", "fill": False,
                    "opacity": 1},
    "branch": {"color": "#ffffff", "weight": 2, "fillColor": "#7b1fa2", "fillOpacity": 1,
               "radius": 8},
    # A weak (软弱涣散) branch no one answers for: larger, red, with a dark ring.
    "weak_branch": {"color": "#1b1f24", "weight": 3, "fillColor": GAP_COLOR, "fillOpacity": 1,
                    "radius": 11},
    # Households are counted per village and grid: a badge with the number.
    "household": {"color": "#6a1b9a"},
    "visit": {"color": "#c26401"},
    "uncovered": {"color": GAP_COLOR},
}


def gap_fill_css(kind: str) -> str:
    """The CSS background of a gap's legend swatch: its shape's fill at the same opacity
    (empty for gaps drawn without a plain fill, whose swatch is in map.css)."""
    style = GAP_STYLES.get(kind, {})
    if style.get("fill") is False or "fillColor" not in style or "className" in style:
        return ""
    red, green, blue = (int(style["fillColor"][i:i + 2], 16) for i in (1, 3, 5))
    return f"background:rgba({red},{green},{blue},{style.get('fillOpacity', 0.2):g})"


# Switched on when the page opens: where no one answers for a place or a household. The
# others are a tap away (a county in its first year has many grids without a worker account,
# and overdue visits are scattered one or two per grid).
GAP_DEFAULT_ON = frozenset({"village", "uncovered_area", "uncovered", "group", "branch",
                            "weak_branch"})
# Appeals by traffic light; overdue ones are also square and marked "!".
APPEAL_COLORS = {"red": GAP_COLOR, "yellow": "#f9ab00", "green": "#1e8e3e", "none": "#5f6368"}
# 挂牌 targets (gridmap.targets.layer) by state: outlined, lightly filled, each with a badge
# naming its state in words; an overdue one is drawn dashed and thick and its badge says 超期.
TARGET_COLORS = {"listed": "#e8710a", "close_requested": "#1967d2", "closed": "#1e8e3e"}
TARGET_STYLES = {
    **{status: {"color": color, "weight": 3, "opacity": 1, "fillColor": color, "fillOpacity": 0.12,
                "interactive": False}
       for status, color in TARGET_COLORS.items()},
    "overdue": {"color": GAP_COLOR, "weight": 5, "dashArray": "10 6", "opacity": 1,
                "fillColor": GAP_COLOR, "fillOpacity": 0.16, "interactive": False},
}
# The grids longest unvisited (maps.rollup.longest_unvisited): a thick solid brown outline
# (the hue of the `visit` gap's badges; solid, so it is not the dotted `group` gap) and a
# badge with the rank and the days.
UNVISITED_COLOR = "#7a3e00"
UNVISITED_STYLE = {"color": UNVISITED_COLOR, "weight": 5, "opacity": 1, "fill": False,
                   "className": "gm-unvisited-shape"}
