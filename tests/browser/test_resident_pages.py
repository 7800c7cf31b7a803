"""A resident in Chromium, without an account: opens the village's page (its QR code), taps the
place on the map, reports by name and phone, gets a code and looks up the progress with it.
Then the office sees the controls on the issue, the ledger and the QR sheet. Screenshots go
to GRIDMAP_SHOTS at 1024x768 and 800x1280."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

from gridmap.db import make_engine

VIEWPORTS = {"800x1280": (800, 1280), "1024x768": (1024, 768)}
VILLAGE = "532329104201"  # 插甸村, the demo grid worker's village


@pytest.fixture(scope="module")
def inside(base_url, committed_db_url) -> tuple[float, float]:
    """(lat, lon) of a point inside the village."""
    engine = make_engine(committed_db_url)
    with engine.connect() as connection:
        lon, lat = connection.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM region"
            " WHERE code = :v AND valid_to IS NULL) s"), {"v": VILLAGE}).one()
    engine.dispose()
    return lat, lon


@pytest.mark.parametrize("size", VIEWPORTS)
def test_a_resident_reports_by_tapping_the_map_and_looks_up_the_progress(open_page, base_url,
                                                                          inside, size):
    watch = open_page(*VIEWPORTS[size], has_touch=True)
    page = watch.page
    page.goto(f"{base_url}/r/{VILLAGE}")
    page.wait_for_selector("#resident-map path.leaflet-interactive")
    expect(page.locator("h1")).to_have_text("我要反映")
    page.locator("#resident-map").scroll_into_view_if_needed()
    x, y = page.evaluate("([lat, lon]) => { const box = document.getElementById('resident-map');"
                         " const p = box.gmMap.latLngToContainerPoint([lat, lon]);"
                         " const r = box.getBoundingClientRect();"
                         " return [r.left + p.x, r.top + p.y]; }", list(inside))
    page.mouse.click(x, y)
    assert page.input_value("#lat") and page.input_value("#lon")
    page.fill("#title", "三组路灯不亮")
    page.select_option("#category", index=1)
    page.fill("#reporter_name", "王五")
    page.fill("#reporter_phone", "13800005678")
    watch.screenshot(f"resident-report-{size}")
    with page.expect_navigation():
        page.click("button.gm-primary")
    expect(page.locator("h1")).to_have_text("已收到您的反映")
    code = page.locator(".gm-issue-code").inner_text().strip()
    assert re.fullmatch(r"MQ\d+", code)
    watch.screenshot(f"resident-reported-{size}")
    page.click("text=查询进度")
    page.fill("#tail", "5678")
    with page.expect_navigation():
        page.click("button.gm-primary")
    expect(page.locator(".gm-facts")).to_contain_text("已上报")
    assert "王五" not in page.content() and "13800005678" not in page.content()
    watch.screenshot(f"resident-progress-{size}")
    assert watch.errors == [] and watch.outside_requests() == []


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_office_sees_the_controls_the_ledger_and_the_qr_sheet(open_page, base_url, size):
    watch = open_page(*VIEWPORTS[size])
    page = watch.page
    watch.sign_in(base_url, "leader")
    page.goto(f"{base_url}/issues/194")
    expect(page.locator(".gm-control-actions")).to_contain_text("督办")
    page.locator(".gm-control-actions").scroll_into_view_if_needed()
    watch.screenshot(f"issue-controls-{size}")
    page.goto(f"{base_url}/issues/ledger")
    expect(page.locator("h1")).to_have_text("挂账与作废台账")
    watch.screenshot(f"ledger-{size}")
    assert watch.errors == [] and watch.outside_requests() == []
    watch = open_page(*VIEWPORTS[size])
    page = watch.page
    watch.sign_in(base_url, "village_staff")
    page.goto(f"{base_url}/issues/report-codes")
    assert watch.image_width(".gm-qr img") > 0  # loaded and decoded, not merely in the DOM
    watch.screenshot(f"qr-codes-{size}")
    assert watch.errors == [] and watch.outside_requests() == []
