"""The grid worker's tablet in headless Chromium, at 800x1280 and 1024x768, geolocation granted
at a set position: the first screen lists exactly the grid's households with the due count of
the coverage rule; a visit is logged in at most 5 taps plus notes; an issue found on it is
reported and shows in "my reported issues". Screenshots go to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from gridmap import clock, coverage
from gridmap.db import make_engine
from gridmap.policy import Scope

VIEWPORTS = {"800x1280": (800, 1280), "1024x768": (1024, 768)}
GRID = "532329104201001"  # the demo grid worker's grid (README, data/demo/users.csv)
MIN_TARGET = 44  # px: the smallest touch target allowed


@pytest.fixture(scope="module")
def demo_db(base_url, committed_db_url):
    engine = make_engine(committed_db_url)
    yield engine
    engine.dispose()


def in_the_grid(engine) -> dict:
    """Where the tablet is at first: beside a household of the grid."""
    with engine.connect() as connection:
        lon, lat = connection.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM household WHERE county_code = '532329'"
            " AND grid_code = :g AND geom IS NOT NULL ORDER BY code LIMIT 1"), {"g": GRID}).one()
    return {"latitude": lat + 0.0001, "longitude": lon, "accuracy": 15}


def small_targets(page, selector: str) -> list[str]:
    """Visible controls under `selector` smaller than MIN_TARGET in either direction."""
    small = []
    for i in range(page.locator(selector).count()):
        element = page.locator(selector).nth(i)
        box = element.bounding_box()
        if box and (box["height"] < MIN_TARGET or box["width"] < MIN_TARGET):
            small.append(f"{element.inner_text()[:20]!r} {box['width']:.0f}x{box['height']:.0f}")
    return small


@pytest.mark.parametrize("size", VIEWPORTS)
def test_grid_worker_logs_a_visit_in_five_taps_and_reports_an_issue(open_page, base_url, demo_db, size):
    watch = open_page(*VIEWPORTS[size], has_touch=True, geolocation=in_the_grid(demo_db),
                      permissions=["geolocation"])
    page = watch.page
    watch.sign_in(base_url, "grid_worker")
    assert page.url == f"{base_url}/field"  # the grid worker's landing page
    page.wait_for_selector("#field-map path.leaflet-interactive")
    with demo_db.connect() as connection:
        in_grid = connection.execute(text(
            "SELECT count(*) FROM household WHERE county_code = '532329' AND grid_code = :g"),
            {"g": GRID}).scalar()
        intervals = coverage.VisitIntervals.of_county(connection, "532329")
        due = coverage.gap_counts(connection, Scope("532329", region_code=GRID), clock.now(),
                                  intervals)["visit"]
    rows = page.locator("li.household")
    assert rows.count() == in_grid == int(page.locator("#household-count").get_attribute("data-count"))
    assert int(page.locator("#due-count").get_attribute("data-count")) == due
    flags = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
    assert flags == sorted(flags, key=lambda c: "is-due" not in c)  # due ones first
    assert small_targets(page, ".field a.button, .field button, .topbar .nav a") == []
    watch.screenshot(f"field-home-{size}")

    taps = 0

    def tap(locator):
        nonlocal taps
        locator.tap()
        taps += 1

    household = rows.first
    code = household.locator(".household-code").inner_text()
    first = json.loads(page.locator("#field-data").text_content())["households"][0]
    lon, lat = first["lonlat"]
    page.context.set_geolocation({"latitude": lat + 0.0001, "longitude": lon, "accuracy": 15})
    tap(household.locator(".visit-button"))
    page.wait_for_selector("#visit-form")
    page.locator("#geo-status", has_text="15").wait_for()  # located, accuracy shown
    for group in ("look", "ask", "leave"):
        tap(page.locator(f'.toggle-all[data-group="{group}"]'))
    notes = f"老人身体好，屋顶有点漏 {uuid.uuid4()}"
    page.fill("#notes", notes)
    assert small_targets(page, "#visit-form button") == []
    watch.screenshot(f"field-visit-{size}")
    tap(page.locator("#save-visit"))
    page.wait_for_selector("#visit-saved:not([hidden])")
    assert taps <= 5
    watch.screenshot(f"field-visit-saved-{size}")
    with demo_db.connect() as connection:
        visit = connection.execute(text(
            "SELECT v.id, u.login, v.checklist, v.accuracy_m, ST_Distance(v.geom::geography,"
            " h.geom::geography) AS metres, h.code FROM visit v JOIN app_user u ON u.id = v.user_id"
            " JOIN household h ON h.id = v.household_id WHERE v.notes = :n"), {"n": notes}).one()
    assert (visit.login, visit.code, visit.accuracy_m) == ("grid_worker", code, 15)
    assert visit.metres < 20 and all(len(items) == 3 for items in visit.checklist.values())

    page.locator("#report-link").tap()
    page.wait_for_selector("#report-form")
    page.locator("#geo-status", has_text="15").wait_for()
    page.select_option("#category", index=1)
    title = f"屋顶漏雨 {size}"
    page.fill("#title", title)
    page.fill("#description", "东屋屋顶漏雨，需维修")
    watch.screenshot(f"field-report-{size}")
    with page.expect_navigation():
        page.locator("#send-report").tap()
    assert page.url == f"{base_url}/field/issues"
    mine = page.locator("#my-issues li", has_text=title)
    assert mine.count() == 1 and "已上报" in mine.inner_text()
    watch.screenshot(f"field-issues-{size}")
    with demo_db.connect() as connection:
        linked = connection.execute(text(
            "SELECT count(*) FROM issue i JOIN visit v ON v.issue_id = i.id"
            " WHERE v.id = :v AND i.title = :t AND i.source = 'visit'"), {"v": visit.id, "t": title}).scalar()
    assert linked == 1
    assert watch.errors == []
    assert watch.outside_requests() == []
