"""The 挂牌 layer on the main map in Chromium over the demo county: a leader sees each target
badged with its state in words (the overdue one dashed and marked 超期), opens its popup and
follows the link to the target; a grid worker's map has no such layer. Screenshots go to
GRIDMAP_SHOTS."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

SIZES = {"1024x768": (1024, 768), "800x1280": (800, 1280)}


def open_map(open_page, base_url, login, size):
    watch = open_page(*SIZES[size], has_touch=True)
    watch.sign_in(base_url, login)
    watch.page.goto(f"{base_url}/")
    watch.page.wait_for_selector("path.leaflet-interactive")
    watch.page.wait_for_load_state("networkidle")
    return watch


@pytest.mark.parametrize("size", SIZES)
def test_the_leader_sees_tagged_places_by_state_and_opens_one(open_page, base_url, size):
    watch = open_map(open_page, base_url, "leader", size)
    page = watch.page
    layer = page.request.get(f"{base_url}/map/targets.geojson").json()["features"]
    overdue = [f for f in layer if f["properties"]["overdue"]]
    assert len(layer) >= 6 and len(overdue) == 1
    container = page.locator(".folium-map")
    expect(container).to_have_attribute("data-targets", str(len(layer)))
    assert container.get_attribute("data-targets-overdue") == "1"
    assert page.locator(".leaflet-control-layers-overlays label", has_text="挂牌整改对象").count() == 1
    badges = page.locator(".gm-target")
    assert badges.count() == len(layer)
    for status, words in (("listed", "挂牌整改中"), ("close_requested", "申请销号"), ("closed", "已销号")):
        assert page.locator(f".gm-target-{status}:not(.gm-target-overdue)", has_text=words).count() \
            == sum(1 for f in layer if f["properties"]["status"] == status and not f["properties"]["overdue"])
    late = page.locator(".gm-target-overdue")
    expect(late).to_have_text("! 超期")  # in words, not by colour alone
    assert page.locator("path.gm-target-shape-overdue").get_attribute("stroke-dasharray")
    assert page.locator(".gm-legend", has_text="超期（虚线").count() == 1
    watch.screenshot(f"target-layer-leader-{size}")
    late.click()
    popup = page.locator(".gm-popup")
    popup.wait_for()
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")
    target = overdue[0]["properties"]
    assert target["name"] in popup.inner_text() and target["due_on"] in popup.inner_text()
    assert "超期" in popup.inner_text()
    watch.screenshot(f"target-layer-popup-{size}")
    with page.expect_navigation():
        popup.locator("a.gm-popup-link").click()
    assert page.url.endswith(f"/targets/{target['id']}")
    expect(page.locator(".gm-page-head")).to_contain_text("挂牌整改中")
    assert watch.errors == [] and watch.outside_requests() == []


def test_a_grid_workers_map_has_no_target_layer(open_page, base_url):
    watch = open_map(open_page, base_url, "grid_worker", "800x1280")
    page = watch.page
    assert page.locator(".gm-target").count() == 0
    assert page.locator(".folium-map").get_attribute("data-targets") is None
    assert page.locator("#gm-targets-legend").count() == 0
    assert page.request.get(f"{base_url}/map/targets.geojson").status == 403
    assert watch.errors == [] and watch.outside_requests() == []
