"""The grid worker's tablet in headless Chromium, at 800x1280 and 1024x768, geolocation granted
at a set position: the first screen lists exactly the grid's households with the due count of
the coverage rule; a visit is logged in at most 5 taps plus notes; an issue found on it is
reported and shows in "my reported issues". Screenshots go to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from sqlalchemy import text
from support import DEMO_USERS, photo_bytes

from gridmap import clock, coverage
from gridmap.db import make_engine
from gridmap.policy import Scope

CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
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
    page.set_input_files("#report-photo", files=[camera_photo("roof.jpg")])
    map_box = page.locator("#report-map").bounding_box()
    page.locator("#report-map").tap(position={"x": map_box["width"] * 0.8, "y": map_box["height"] * 0.8})
    expect(page.locator("#report-map")).to_have_attribute("data-picked", "true")
    on_spot = size == "1024x768"  # fixed there and then: straight to handled
    if on_spot:
        page.locator("#on-spot").check()
        page.fill("#resolution", "当场用防水布盖好")
    watch.screenshot(f"field-report-{size}")
    with page.expect_navigation():
        page.locator("#send-report").tap()
    assert page.url == f"{base_url}/field/issues"
    mine = page.locator("#my-issues li", has_text=title)
    assert mine.count() == 1 and ("已办结" if on_spot else "已上报") in mine.inner_text()
    watch.screenshot(f"field-issues-{size}")
    with demo_db.connect() as connection:
        issue = connection.execute(text(
            "SELECT i.id, i.status, ST_Distance(i.geom::geography, v.geom::geography) AS metres,"
            " (SELECT count(*) FROM issue_photo p WHERE p.issue_id = i.id) AS photos"
            " FROM issue i JOIN visit v ON v.issue_id = i.id"
            " WHERE v.id = :v AND i.title = :t AND i.source = 'visit'"), {"v": visit.id, "t": title}).one()
    assert issue.status == ("handled" if on_spot else "reported")
    assert issue.photos == 1
    assert issue.metres > 30  # where the map was tapped, not where the tablet stood
    assert watch.errors == []
    assert watch.outside_requests() == []


def camera_photo(name: str) -> dict:
    """A photo as the tablet's camera gives it: JPEG with EXIF (maker, time, GPS)."""
    return {"name": name, "mimeType": "image/jpeg",
            "buffer": photo_bytes(lonlat=(102.41, 25.52), size=(640, 480))}


def opened_offline(page, selector: str) -> None:
    """Wait for `selector` on a page the service worker answers offline; if it never comes,
    fail saying what the tablet showed instead (a kept copy missing, the worker not running)."""
    try:
        page.wait_for_selector(selector, timeout=30_000)
    except PlaywrightTimeout:
        shown = page.evaluate("""() => ({url: location.href, text: document.body ? document.body.innerText.slice(0, 300) : '',
            controlled: Boolean(navigator.serviceWorker && navigator.serviceWorker.controller)})""")
        raise AssertionError(f"offline, {selector} never showed: {shown}") from None


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
    taps = 0

    def tap(locator):
        nonlocal taps
        locator.tap()
        taps += 1

    row = page.locator("li.household").nth(1)
    household = int(row.get_attribute("data-household"))
    tap(row.locator(".visit-button"))
    opened_offline(page, "#visit-form")  # the cached form
    for group in ("look", "ask", "leave"):
        tap(page.locator(f'.toggle-all[data-group="{group}"]'))
    first_notes = f"离线走访 {uuid.uuid4()}"
    page.fill("#notes", first_notes)
    tap(page.locator("#save-visit"))  # offline too: at most 5 taps plus notes
    page.wait_for_selector("#visit-queued:not([hidden])")
    assert taps <= 5
    # …and a photo of the house, queued behind its visit
    page.goto(f"{base_url}/field/households/{household}/visit")
    page.wait_for_selector("#visit-form")
    notes = f"离线走访 {uuid.uuid4()}"
    page.fill("#notes", notes)
    page.set_input_files("#visit-photo", files=[camera_photo("house.jpg")])
    page.locator("#save-visit").tap()
    page.wait_for_selector("#visit-queued:not([hidden])")
    assert page.locator("#outbox-count").get_attribute("data-count") == "3"  # 2 visits, a photo
    client_uuid = page.locator("#outbox-items li").nth(1).get_attribute("data-uuid")
    watch.screenshot("field-offline-queued-800x1280")
    page.locator("#queued-report-link").tap()  # an issue found on it, reported offline too
    page.wait_for_selector("#report-form")
    page.select_option("#category", index=1)
    title = f"离线上报 {uuid.uuid4()}"
    page.fill("#title", title)
    page.set_input_files("#report-photo", files=[camera_photo("leak.jpg")])
    page.locator("#send-report").tap()
    page.wait_for_selector("#report-queued:not([hidden])")
    assert page.locator("#outbox-count").get_attribute("data-count") == "5"
    watch.screenshot("field-offline-report-queued-800x1280")
    assert visits_with_notes(demo_db, notes) == 0

    # The tab is closed and opened again, still offline: the worker's copy, the queue kept.
    page.close()
    page = context.new_page()
    watch.page = page
    page.goto(f"{base_url}/field")
    expect(page.locator("#outbox-count")).to_have_attribute("data-count", "5")
    context.unroute("**/*")
    context.set_offline(False)
    # Resend explicitly ("online" may have started it already: a second start joins the first).
    page.locator("#outbox-send").dispatch_event("click")
    page.wait_for_selector("#outbox", state="hidden")
    assert visits_with_notes(demo_db, notes) == visits_with_notes(demo_db, first_notes) == 1
    with demo_db.connect() as connection:
        linked = connection.execute(text(
            "SELECT count(*) FROM issue i JOIN visit v ON v.issue_id = i.id"
            " WHERE v.notes = :n AND i.title = :t"), {"n": notes, "t": title}).scalar()
        reported = connection.execute(text("SELECT count(*) FROM issue WHERE title = :t"),
                                      {"t": title}).scalar()
        photos = connection.execute(text(
            "SELECT (SELECT count(*) FROM visit_photo p JOIN visit v ON v.id = p.visit_id"
            "        WHERE v.notes = :n),"
            " (SELECT count(*) FROM issue_photo p JOIN issue i ON i.id = p.issue_id"
            "  WHERE i.title = :t)"), {"n": notes, "t": title}).one()
    assert linked == reported == 1
    assert tuple(photos) == (1, 1)  # each photo sent once, after the row it shows

    # A forced retry of the same visit: the one already recorded comes back, no second row.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    again = page.request.post(f"{base_url}/api/visits", headers={"X-CSRFToken": token},
                              data={"household_id": household, "client_uuid": client_uuid,
                                    "notes": notes})
    assert again.status == 200 and again.json()["created"] is False
    assert visits_with_notes(demo_db, notes) == 1


def queue_in_indexeddb(page) -> int:
    """How many items the tablet's IndexedDB queue holds, for every user."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open("gridmap-field", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("outbox", {keyPath: "client_uuid"});
        open.onsuccess = () => {
          const all = open.result.transaction("outbox").objectStore("outbox").count();
          all.onsuccess = () => { open.result.close(); resolve(all.result); };
        };
        open.onerror = () => reject(open.error);
    })""")


def field_caches(page) -> list[str]:
    return [n for n in page.evaluate("caches.keys()") if n.startswith("gridmap-field")]


def test_signing_out_on_a_shared_tablet_clears_its_pages_and_the_queue_waits_for_its_user(
        browser, base_url, demo_db, tmp_path):
    profile = tmp_path / "tablet-profile"

    def open_tablet():  # a real browser profile on disk: closing it is closing the browser
        return browser.browser_type.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, viewport={"width": 800, "height": 1280},
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
            has_touch=True, locale="zh-CN", geolocation=in_the_grid(demo_db),
            permissions=["geolocation"], service_workers="allow")

    def sign_in(page, login):
        page.goto(f"{base_url}/sign-in")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", DEMO_USERS[login])
        with page.expect_navigation():
            page.click("button[type=submit].primary")

    def sign_out(page):
        with page.expect_navigation(url=f"{base_url}/sign-in"):
            page.locator("form.account button[type=submit]").tap()

    tablet = open_tablet()
    page = tablet.pages[0] if tablet.pages else tablet.new_page()
    sign_in(page, "grid_worker")
    page.wait_for_selector("html[data-offline-ready]")
    tablet.route("**/api/visits", lambda route: route.abort())  # the network drops as it is sent
    page.locator("li.household").nth(2).locator(".visit-button").tap()
    page.wait_for_selector("#visit-form")
    notes = f"退出前未发送 {uuid.uuid4()}"
    page.fill("#notes", notes)
    page.locator("#save-visit").tap()
    page.wait_for_selector("#visit-queued:not([hidden])")
    assert field_caches(page) != []
    sign_out(page)
    assert field_caches(page) == []  # no page of this user is left on the tablet
    assert queue_in_indexeddb(page) == 1  # but the unsent visit is
    tablet.close()

    tablet = open_tablet()  # the browser opened again; someone else signs in first
    page = tablet.pages[0] if tablet.pages else tablet.new_page()
    sign_in(page, "cadre")
    page.goto(f"{base_url}/field")
    assert page.locator("#outbox").is_hidden()  # not theirs: neither shown nor sent
    assert visits_with_notes(demo_db, notes) == 0
    sign_out(page)
    sign_in(page, "grid_worker")
    page.wait_for_selector("#outbox", state="hidden")  # sent on sign-in, the network back
    assert visits_with_notes(demo_db, notes) == 1
    assert queue_in_indexeddb(page) == 0
    tablet.close()


def test_a_queued_visit_refused_when_sent_stays_listed_with_its_reason(open_page, base_url, demo_db):
    watch = open_page(800, 1280, has_touch=True, geolocation=in_the_grid(demo_db),
                      permissions=["geolocation"], service_workers="allow")
    page, context = watch.page, watch.page.context
    watch.sign_in(base_url, "grid_worker")
    page.wait_for_selector("html[data-offline-ready]")
    row = page.locator("li.household").nth(3)
    household = int(row.get_attribute("data-household"))
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort())
    row.locator(".visit-button").tap()
    opened_offline(page, "#visit-form")
    notes = f"户已迁走 {uuid.uuid4()}"
    page.fill("#notes", notes)
    page.locator("#save-visit").tap()
    page.wait_for_selector("#visit-queued:not([hidden])")
    with demo_db.begin() as connection:  # meanwhile the household moved to another grid
        elsewhere = connection.execute(text(
            "SELECT code FROM grid WHERE county_code = '532329' AND code <> :g ORDER BY code LIMIT 1"),
            {"g": GRID}).scalar()
        connection.execute(text("UPDATE household SET grid_code = :g WHERE id = :h"),
                           {"g": elsewhere, "h": household})
    try:
        context.unroute("**/*")
        context.set_offline(False)
        page.locator("#outbox-send").dispatch_event("click")
        refused = page.locator("#outbox-items li.problem")
        expect(refused).to_have_count(1)
        assert "未被接收" in refused.inner_text() and "范围" in refused.inner_text()
        assert page.locator("#outbox-count").get_attribute("data-count") == "0"
        watch.screenshot("field-offline-refused-800x1280")
        assert visits_with_notes(demo_db, notes) == 0
        refused.locator("button").tap()  # the user, having read it, lets it go
        page.wait_for_selector("#outbox", state="hidden")
    finally:
        with demo_db.begin() as connection:
            connection.execute(text("UPDATE household SET grid_code = :g WHERE id = :h"),
                               {"g": GRID, "h": household})


def test_the_report_page_opened_without_a_visit_offers_the_way_back_not_a_form(open_page, base_url):
    watch = open_page(800, 1280, has_touch=True)
    watch.sign_in(base_url, "grid_worker")
    watch.page.goto(f"{base_url}/field/report")
    alert = watch.page.locator("#report-no-visit p.field-error[role=alert]")
    expect(alert).to_have_text("请从一次走访进入上报")
    assert watch.page.locator("#report-form").is_hidden()
    assert watch.page.locator("#back-to-household").is_hidden()  # no household to go back to
    back = watch.page.locator("#report-no-visit .saved-actions a")
    assert back.get_attribute("href").endswith("/field")
    assert not watch.errors
