"""The grid worker's tablet in headless Chromium, at 800x1280 and 1024x768, geolocation granted
at a set position: the first screen lists exactly the grid's households with the due count of
the coverage rule; a visit is logged in at most 5 taps plus notes; an issue found on it is
reported and shows in "my reported issues". Screenshots go to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import expect
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


def visits_with_notes(engine, notes: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM visit WHERE notes = :n"),
                                  {"n": notes}).scalar()


def test_a_visit_and_a_report_entered_offline_are_sent_exactly_once_when_the_network_returns(
        open_page, base_url, demo_db):
    watch = open_page(800, 1280, has_touch=True, geolocation=in_the_grid(demo_db),
                      permissions=["geolocation"], service_workers="allow")
    page, context = watch.page, watch.page.context
    watch.sign_in(base_url, "grid_worker")
    assert page.locator('link[rel="manifest"]').count() == 1
    page.wait_for_selector("html[data-offline-ready]")  # worker active, visit forms cached
    page.reload()
    assert page.locator("#outbox").is_hidden()

    context.set_offline(True)
    context.route("**/*", lambda route: route.abort())  # the worker's own requests too
    row = page.locator("li.household").nth(1)
    household = int(row.get_attribute("data-household"))
    row.locator(".visit-button").tap()
    page.wait_for_selector("#visit-form")  # the cached form
    for group in ("look", "ask", "leave"):
        page.locator(f'.toggle-all[data-group="{group}"]').tap()
    notes = f"离线走访 {uuid.uuid4()}"
    page.fill("#notes", notes)
    page.locator("#save-visit").tap()
    page.wait_for_selector("#visit-queued:not([hidden])")
    assert page.locator("#outbox-count").get_attribute("data-count") == "1"
    client_uuid = page.locator("#outbox-items li").first.get_attribute("data-uuid")
    watch.screenshot("field-offline-queued-800x1280")
    page.locator("#queued-report-link").tap()  # an issue found on it, reported offline too
    page.wait_for_selector("#report-form")
    page.select_option("#category", index=1)
    title = f"离线上报 {uuid.uuid4()}"
    page.fill("#title", title)
    page.locator("#send-report").tap()
    page.wait_for_selector("#report-queued:not([hidden])")
    assert page.locator("#outbox-count").get_attribute("data-count") == "2"
    watch.screenshot("field-offline-report-queued-800x1280")
    assert visits_with_notes(demo_db, notes) == 0

    # The tab is closed and opened again, still offline: the worker's copy, the queue kept.
    page.close()
    page = context.new_page()
    watch.page = page
    page.goto(f"{base_url}/field")
    expect(page.locator("#outbox-count")).to_have_attribute("data-count", "2")
    context.unroute("**/*")
    context.set_offline(False)
    # Resend explicitly ("online" may have started it already: a second start joins the first).
    page.locator("#outbox-send").dispatch_event("click")
    page.wait_for_selector("#outbox", state="hidden")
    assert visits_with_notes(demo_db, notes) == 1
    with demo_db.connect() as connection:
        linked = connection.execute(text(
            "SELECT count(*) FROM issue i JOIN visit v ON v.issue_id = i.id"
            " WHERE v.notes = :n AND i.title = :t"), {"n": notes, "t": title}).scalar()
        reported = connection.execute(text("SELECT count(*) FROM issue WHERE title = :t"),
                                      {"t": title}).scalar()
    assert linked == reported == 1

    # A forced retry of the same visit: the one already recorded comes back, no second row.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    again = page.request.post(f"{base_url}/api/visits", headers={"X-CSRFToken": token},
                              data={"household_id": household, "client_uuid": client_uuid,
                                    "notes": notes})
    assert again.status == 200 and again.json()["created"] is False
    assert visits_with_notes(demo_db, notes) == 1
