"""The maps as their users read them, in Chromium over the demo county: a grid has one colour
for every role that sees it, the leaderless village is filled as its legend swatch shows and
not like the background, the place's name is over the map and clear of the controls, English
labels fit their controls, keyboard focus is seen where it is, and the traffic lights differ
by more than colour.

Codes come from data/demo (users.csv, deliberate_gaps.csv), never written here. Screenshots
go to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect
from support import ROOT

LOADED = 120_000  # ms: a loaded machine (agents sharing 2 cores)
BACKGROUND = (241, 239, 233)  # .leaflet-container's ground in map.css


def demo_scope(login: str) -> str:
    with (ROOT / "data" / "demo" / "users.csv").open(encoding="utf-8") as f:
        return next(row["scope_code"] for row in csv.DictReader(f) if row["login"] == login)


def deliberate(kind: str) -> list[str]:
    with (ROOT / "data" / "demo" / "deliberate_gaps.csv").open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f) if row["kind"] == kind]


def open_map(open_page, base_url, login, width, height, lang="zh_CN"):
    watch = open_page(width, height)
    watch.page.set_default_timeout(LOADED)
    watch.page.context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
    watch.sign_in(base_url, login)
    watch.page.goto(f"{base_url}/")  # grid workers land on their field pages; the map is here
    watch.page.wait_for_selector(".folium-map[data-layers=loaded]", timeout=LOADED)
    watch.page.wait_for_load_state("networkidle", timeout=LOADED)
    return watch


def rgb(page, css_colour: str, opacity: float = 1.0) -> tuple[float, ...]:
    """A CSS colour as Chromium parses it, laid over the map's ground at `opacity`."""
    parsed = page.evaluate("c => { const s = document.createElement('span'); s.style.color = c;"
                           " document.body.appendChild(s); const v = getComputedStyle(s).color;"
                           " s.remove(); return v; }", css_colour)
    parts = [float(x) for x in re.findall(r"[\d.]+", parsed)]
    alpha = (parts[3] if len(parts) == 4 else 1.0) * opacity
    return tuple(round(alpha * c + (1 - alpha) * g) for c, g in zip(parts[:3], BACKGROUND, strict=True))


def boxes_apart(a: dict, b: dict) -> bool:
    return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_a_grid_has_the_same_colour_for_leader_township_and_grid_worker(open_page, base_url):
    grid = demo_scope("grid_worker")
    fills = {}
    for login in ("leader", "township_staff", "grid_worker"):
        watch = open_map(open_page, base_url, login, 1024, 768)
        shape = watch.page.locator(f'path.gm-grid-shape[data-code="{grid}"]')
        expect(shape).to_have_count(1)
        fills[login] = (shape.get_attribute("fill"), shape.get_attribute("fill-opacity"))
        assert fills[login][0] not in (None, "none")
        assert watch.errors == [] and watch.outside_requests() == []
    assert fills["leader"] == fills["township_staff"] == fills["grid_worker"]


@pytest.mark.parametrize("login", ["leader", "township_staff"])
def test_the_leaderless_village_is_filled_as_its_swatch_and_unlike_the_ground(open_page, base_url, login):
    watch = open_map(open_page, base_url, login, 1024, 768)
    page = watch.page
    page.wait_for_selector(".folium-map[data-gaps=loaded]", timeout=LOADED)
    village = page.locator(f'path[data-gap="village"][data-code="{deliberate("village_without_leader")[0]}"]')
    expect(village).to_have_count(1)
    opacity = float(village.get_attribute("fill-opacity"))
    # Nearly opaque: the grids' colours under it do not show through and mix to a grey.
    assert opacity >= 0.8
    fill = rgb(page, village.get_attribute("fill"), opacity)
    swatch = page.locator(".gm-gap-legend .gm-gap-swatch.gm-gap-village")
    assert rgb(page, swatch.evaluate("s => getComputedStyle(s).backgroundColor")) == fill
    expect(swatch).to_have_css("border-top-style", "dashed")
    # Far from the ground (a pale tint would read as empty map, not as a gap).
    assert sum(abs(f - g) for f, g in zip(fill, BACKGROUND, strict=True)) > 150
    watch.screenshot(f"legibility-leaderless-village-{login}")


def test_the_grid_legend_swatches_are_drawn_as_the_grids_fills(open_page, base_url):
    watch = open_map(open_page, base_url, "township_staff", 1024, 768)
    page = watch.page
    swatches = page.locator(".gm-legend:not(.gm-gap-legend):not(.gm-appeals-legend)"
                            ":not(.gm-targets-legend) .gm-swatch.gm-fill")
    looks = {rgb(page, swatch.evaluate("s => getComputedStyle(s).backgroundColor")):
             float(swatch.evaluate("s => getComputedStyle(s).opacity")) for swatch in swatches.all()}
    shapes = page.locator("path.gm-grid-shape").all()
    assert shapes
    for shape in shapes:
        colour = rgb(page, shape.get_attribute("fill"))
        assert colour in looks, colour  # every fill is a class the legend shows
        assert float(shape.get_attribute("fill-opacity")) == looks[colour]  # as opaque


@pytest.mark.parametrize(("login", "size"), [
    ("township_staff", (1024, 768)), ("township_staff", (800, 1280)),
    ("grid_worker", (1024, 768)), ("grid_worker", (1920, 1080)),
])
def test_the_map_names_its_place_clear_of_the_controls(open_page, base_url, login, size):
    watch = open_map(open_page, base_url, login, *size)
    page = watch.page
    title = page.locator("#gm-county-name")
    expect(title).to_be_visible()
    # The county, then the township (and for a grid worker, the grid) the map is of.
    assert re.match(r"^\S+县 · \S+镇", title.inner_text())
    box = title.bounding_box()
    for control in (".leaflet-control-zoom", ".gm-search", ".gm-tools", ".leaflet-control-layers"):
        assert boxes_apart(box, page.locator(control).first.bounding_box()), control
    watch.screenshot(f"legibility-title-{login}-{size[0]}x{size[1]}")


def test_english_labels_fit_the_search_and_colour_by_controls(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", 1024, 768, lang="en")
    page = watch.page
    field, button = page.locator(".gm-search input[name=q]"), page.locator(".gm-search button[type=submit]")
    expect(button).to_have_text("Search")
    # The button sits beside the field on one line (it used to wrap under it).
    assert abs(button.bounding_box()["y"] - field.bounding_box()["y"]) < 2
    assert button.evaluate("b => b.scrollWidth <= b.clientWidth && b.getClientRects().length === 1")
    # Every figure of the "colour by" choice shows whole in the closed select.
    select = page.locator("[data-measure]")
    cut = select.evaluate("""s => {
      const probe = document.createElement('span'), style = getComputedStyle(s);
      probe.style.font = style.font; probe.style.position = 'absolute'; probe.style.whiteSpace = 'pre';
      document.body.appendChild(probe);
      const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
      const cut = [...s.options].filter(o => { probe.textContent = o.text; return probe.offsetWidth > room; })
        .map(o => o.text);
      probe.remove();
      return cut;
    }""")
    assert cut == []
    watch.screenshot("legibility-english-1024x768")
    assert watch.errors == []


# Focus that the eye can follow: a ring of at least 2 px on the element focused or, for a
# mark on the map, on its badge (the icon is an anchor the badge is shifted from).
FOCUS_RING = """() => {
  const e = document.activeElement;
  const ringed = e.classList.contains('leaflet-marker-icon') ? e.firstElementChild : e;
  const own = getComputedStyle(e), style = getComputedStyle(ringed), r = ringed.getBoundingClientRect();
  return {cls: String(e.className), ringed: ringed === e, own: own.outlineStyle,
          style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          offset: parseFloat(style.outlineOffset),
          inside: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
                  && r.right <= innerWidth && r.bottom <= innerHeight};
}"""


def test_keyboard_focus_is_seen_on_every_control_and_mark_of_the_map(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", 1024, 768)
    page = watch.page
    page.wait_for_selector(".folium-map[data-appeals]:not([data-appeals=loading])", timeout=LOADED)
    page.wait_for_selector(".folium-map[data-gap-counts=loaded]", timeout=LOADED)
    page.locator(".folium-map").focus()
    seen, marks = [], 0
    for _ in range(60):
        ring = page.evaluate(FOCUS_RING)
        if "folium-map" in ring["cls"]:
            # The map's own ring is drawn inside its edge: outside it, the page clips it.
            assert ring["offset"] < 0, ring
        if not ring["ringed"]:
            marks += 1
            assert ring["own"] == "none", ring  # no second ring circling empty map
        assert ring["style"] not in ("none", "hidden") and ring["width"] >= 2, ring
        assert ring["inside"], ring
        seen.append(ring["cls"])
        page.keyboard.press("Tab")
        if page.evaluate("() => !document.activeElement.closest('.folium-map')"):
            break
    assert marks >= 3  # appeals' clusters, 挂牌 badges, the no-leader flags
    assert any("gm-gap-count" in cls for cls in seen) and any("gm-unvisited-go" in cls for cls in seen)
    page.locator(".leaflet-marker-icon.gm-cluster").first.focus()
    watch.screenshot("legibility-focus-on-a-mark")


def test_the_traffic_lights_differ_by_more_than_colour(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", 1024, 768)
    looks = {}
    for light in ("red", "yellow", "green"):
        swatch = watch.page.locator(f".gm-appeals-legend .gm-appeal-swatch.gm-appeal-{light}")
        looks[light] = swatch.evaluate(
            "s => { const c = getComputedStyle(s); return [c.borderTopStyle, c.borderTopColor,"
            " c.borderTopLeftRadius, s.textContent]; }")
        # The legend says it in words too.
        assert swatch.locator("xpath=following-sibling::span").inner_text().strip()
    # Pairwise, each differs in its ring, its shape or its mark: not only in its fill.
    assert len({tuple(look) for look in looks.values()}) == 3, looks
    assert "（" in watch.page.locator(".gm-appeals-legend li").nth(1).inner_text()
