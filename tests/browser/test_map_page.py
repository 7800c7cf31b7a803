"""The map page in headless Chromium: polygons drawn, no console errors, nothing from outside."""

from __future__ import annotations

import pytest

VIEWPORTS = {"1024x768": (1024, 768), "800x1280": (800, 1280)}


def open_map(open_page, base_url, login, size):
    watch = open_page(*VIEWPORTS[size], has_touch=True)
    watch.sign_in(base_url, login)
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    return watch


@pytest.mark.parametrize("size", VIEWPORTS)
def test_leader_sees_the_county_drawn_offline(open_page, base_url, size):
    watch = open_map(open_page, base_url, "leader", size)
    page = watch.page
    # 60 grids, plus a tap area per village (15) and township (3) under them.
    assert page.locator("path.leaflet-interactive").count() == 60 + 15 + 3
    assert page.locator(".gm-legend li").count() >= 3
    assert page.locator(".leaflet-control-layers-overlays label").count() == 3
    watch.screenshot(f"leader-{size}")
    assert watch.errors == []
    assert watch.outside_requests() == []


def test_map_fills_the_viewport_under_the_top_bar(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", "1024x768")
    top_bar = watch.page.locator(".topbar").bounding_box()
    map_box = watch.page.locator(".folium-map").bounding_box()
    assert map_box["y"] == pytest.approx(top_bar["y"] + top_bar["height"], abs=1)
    assert map_box["width"] == 1024
    assert map_box["y"] + map_box["height"] == pytest.approx(768, abs=1)


def test_tapping_a_grid_shows_its_name_code_and_households(open_page, base_url):
    watch = open_map(open_page, base_url, "gridworker", "800x1280")
    page = watch.page
    assert page.locator("path.leaflet-interactive").count() >= 1
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".gm-popup")
    popup.wait_for()
    page.wait_for_function(  # Leaflet fades popups in
        "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    assert "532329104003002" in popup.inner_text()
    assert "户数" in popup.inner_text()
    watch.screenshot("gridworker-800x1280-popup")
    assert watch.errors == []
    assert watch.outside_requests() == []


def test_grid_worker_map_at_tablet_landscape(open_page, base_url):
    watch = open_map(open_page, base_url, "gridworker", "1024x768")
    watch.screenshot("gridworker-1024x768")
    assert watch.errors == []
    assert watch.outside_requests() == []
