"""The map page in headless Chromium: polygons drawn, no console errors, nothing from outside.

Screenshots land in /tmp/gridmap-shots/ (GRIDMAP_SHOTS) for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

VIEWPORTS = {"1024x768": (1024, 768), "800x1280": (800, 1280)}
LAYERS = ("townships", "villages", "grids")


def open_map(open_page, base_url, login, size):
    watch = open_page(*VIEWPORTS[size], has_touch=True)
    watch.sign_in(base_url, login)
    watch.page.goto(f"{base_url}/")  # grid workers land on their field pages; the map is here
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    return watch


def features_in_scope(watch, base_url) -> int:
    """How many shapes the user's GeoJSON layers hold (same cookies as the page)."""
    return sum(len(watch.page.request.get(f"{base_url}/map/{layer}.geojson").json()["features"])
               for layer in LAYERS)


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("login", ["leader", "township_staff"])
def test_map_draws_every_shape_of_the_scope_offline(open_page, base_url, login, size):
    watch = open_map(open_page, base_url, login, size)
    page = watch.page
    # One tappable path per grid, village and township (region outlines are not tappable;
    # coverage gaps are drawn in a pane of their own).
    shapes = page.locator(".leaflet-overlay-pane path.leaflet-interactive,"
                          " .leaflet-gm-regions-pane path.leaflet-interactive")
    assert shapes.count() == features_in_scope(watch, base_url)
    assert page.locator(".gm-legend li").count() >= 3
    # Townships, villages, grids, the unresolved issues and the heatmaps the role may see.
    heats = page.evaluate(
        "JSON.parse(document.getElementById('gm-map-config').textContent).heats.length")
    assert heats == 3
    targets = page.evaluate(  # the 挂牌 layer, for the roles that view the ledgers
        "JSON.parse(document.getElementById('gm-map-config').textContent).targets_url ? 1 : 0")
    assert page.locator(".leaflet-control-layers-overlays label").count() == 4 + heats + targets
    assert page.locator(".gm-label").count() > 0
    name = page.locator(".gm-label:not(.gm-crowded) > span").first.bounding_box()
    assert name["width"] > 10 and name["height"] > 10  # names are drawn, not collapsed
    watch.screenshot(f"{login}-{size}")
    assert watch.sign_in_errors == []
    assert watch.errors == []
    assert watch.outside_requests() == []


def test_map_fills_the_viewport_under_the_top_bar(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", "1024x768")
    top_bar = watch.page.locator(".topbar").bounding_box()
    map_box = watch.page.locator(".folium-map").bounding_box()
    assert map_box["y"] == pytest.approx(top_bar["y"] + top_bar["height"], abs=1)
    assert map_box["width"] == 1024
    assert map_box["y"] + map_box["height"] == pytest.approx(768, abs=1)


@pytest.mark.parametrize("size", VIEWPORTS)
def test_grid_worker_taps_their_grid_and_sees_its_households(open_page, base_url, size):
    watch = open_map(open_page, base_url, "grid_worker", size)
    page = watch.page
    watch.screenshot(f"grid_worker-{size}")
    label = page.locator(".gm-label-grid").bounding_box()  # a point inside the grid
    page.mouse.click(label["x"] + label["width"] / 2, label["y"] + label["height"] / 2)
    popup = page.locator(".gm-popup")
    popup.wait_for()
    # Leaflet fades popups in. (No wait_for_function: the page's CSP forbids eval.)
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
    text = popup.inner_text()
    assert "532329104201001" in text and "户数" in text
    watch.screenshot(f"grid_worker-{size}-popup")
    assert watch.errors == []
    assert watch.outside_requests() == []


@pytest.mark.parametrize("size", [(800, 1280), (375, 667)])
def test_legends_fold_on_phones_and_unfold_by_keyboard(open_page, base_url, size):
    watch = open_page(*size, has_touch=True)
    watch.sign_in(base_url, "leader")
    page = watch.page
    page.wait_for_selector(".folium-map[data-layers=loaded][data-gap-counts=loaded]")
    legends = page.locator(".gm-legend")
    toggles = page.locator(".gm-legend-toggle")
    # Every legend (gaps, appeals, 挂牌, households) is a button naming it, folded.
    assert toggles.count() == legends.count() >= 4
    for i in range(toggles.count()):
        expect(toggles.nth(i)).to_have_attribute("aria-expanded", "false")
        expect(toggles.nth(i)).to_be_visible()
    expect(page.locator(".gm-legend li:visible")).to_have_count(0)
    gaps = page.locator(".gm-gap-legend")
    toggle = gaps.locator(".gm-legend-toggle")
    assert toggle.inner_text().strip().startswith("空白点")
    assert toggle.get_attribute("aria-controls") == gaps.get_attribute("id")
    # Reached by Tab like any button, opened and closed by Enter and Space.
    page.locator(".leaflet-control-zoom-in").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('gm-legend-toggle')"):
            break
    focused = page.evaluate("document.activeElement.getAttribute('aria-controls')")
    assert focused is not None
    opened = page.locator(f"#{focused}")
    page.keyboard.press("Enter")
    expect(opened.locator(".gm-legend-toggle")).to_have_attribute("aria-expanded", "true")
    expect(opened.locator("li").first).to_be_visible()
    watch.screenshot(f"legend-unfolded-{size[0]}x{size[1]}")
    page.keyboard.press(" ")
    expect(opened.locator(".gm-legend-toggle")).to_have_attribute("aria-expanded", "false")
    expect(opened.locator("li").first).to_be_hidden()
    toggle.click()
    expect(gaps.locator(".gm-gap-count").first).to_be_visible()
    watch.screenshot(f"legend-gaps-{size[0]}x{size[1]}")
    assert watch.errors == [] and watch.outside_requests() == []


def test_legends_stay_open_on_a_landscape_tablet(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", "1024x768")
    page = watch.page
    expect(page.locator(".gm-legend-toggle")).to_have_count(0)
    expect(page.locator(".gm-gap-legend .gm-gap-count").first).to_be_visible()
