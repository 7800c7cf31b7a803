"""The leader's first look at the demo county: the deliberate gaps and the overdue appeals
are on screen without panning, drawn as gaps, and the legend says what the SQL says.

Expected gaps come from data/demo/deliberate_gaps.csv and counts from SQL, never from
names or numbers written here. Screenshots go to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import ROOT

from gridmap import clock
from gridmap.coverage import gap_counts
from gridmap.db import make_engine
from gridmap.maps.appeals import appeals_layer_json
from gridmap.maps.rollup import LONGEST_UNVISITED as LONGEST
from gridmap.policy import Scope

LEADER = Scope("532329", region_code="532329")
SIZES = {"1024x768": (1024, 768), "800x1280": (800, 1280), "1920x1080": (1920, 1080)}
GAP_RED = "rgb(179, 38, 30)"
# The grids longest unvisited, by hand: per grid, the median of its households' days since
# their last visit (never-visited households have no such day), highest first.
LONGEST_UNVISITED = """
WITH last AS (
    SELECT h.grid_code, extract(epoch FROM CAST(:now AS timestamptz) - max(v.visited_at)) / 86400 AS days
    FROM household h LEFT JOIN visit v ON v.county_code = h.county_code AND v.household_id = h.id
    WHERE h.county_code = :c AND h.status = 'active' AND h.grid_code IS NOT NULL
    GROUP BY h.id, h.grid_code
)
SELECT l.grid_code, g.name, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l.days)) AS days
FROM last l JOIN grid g ON g.county_code = :c AND g.code = l.grid_code AND g.valid_to IS NULL
GROUP BY l.grid_code, g.name HAVING count(l.days) > 0
ORDER BY days DESC, l.grid_code LIMIT :n
"""


def deliberate(kind: str) -> list[str]:
    with (ROOT / "data" / "demo" / "deliberate_gaps.csv").open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f) if row["kind"] == kind]


@pytest.fixture
def sql(base_url, committed_db_url):
    """What the SQL says for the leader: gap counts and the overdue appeals with a place."""
    engine = make_engine(committed_db_url)
    with Session(engine) as session:
        counts = gap_counts(session.connection(), LEADER, clock.now())
        appeals = json.loads(appeals_layer_json(session, LEADER))["features"]
        area = deliberate("uncovered_area")[0]
        name = session.execute(text(
            "SELECT name FROM region WHERE county_code = :c AND code = :v AND valid_to IS NULL"),
            {"c": LEADER.county_code, "v": area}).scalar_one()
        unvisited = session.execute(text(LONGEST_UNVISITED), {
            "c": LEADER.county_code, "now": clock.now(), "n": LONGEST}).all()
        households = session.execute(text(
            "SELECT count(*) FROM household h WHERE h.county_code = :c AND h.village_code = :v"
            " AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.county_code = :c"
            " AND g.valid_to IS NULL AND g.village_code = :v AND ST_Covers(g.geom, h.geom))"),
            {"c": LEADER.county_code, "v": area}).scalar_one()
    engine.dispose()
    return {"counts": counts, "appeals": len(appeals), "area_name": name, "unvisited": unvisited,
            "area_households": households,
            "overdue": sum(1 for f in appeals if f["properties"]["overdue"])}


def open_map(open_page, base_url, size):
    watch = open_page(*SIZES[size], has_touch=True)
    watch.sign_in(base_url, "leader")
    page = watch.page
    page.wait_for_selector(".folium-map[data-layers=loaded][data-gaps=loaded]"
                           "[data-gap-counts=loaded]")
    page.wait_for_selector(".folium-map[data-appeals]:not([data-appeals=loading])")
    page.wait_for_selector(".folium-map[data-unvisited]:not([data-unvisited=loading])")
    page.wait_for_load_state("networkidle")
    return watch


def settle(page) -> None:
    """Wait out Leaflet's zoom and the clusters' animation. Both start a frame after the
    click that asks for them, so let two frames pass, then wait for their classes to go."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    expect(page.locator(".leaflet-zoom-anim, .leaflet-cluster-anim")).to_have_count(0)


def on_screen(page, locator) -> bool:
    box = locator.bounding_box()
    map_box = page.locator(".folium-map").bounding_box()
    return (box is not None and box["width"] > 0 and box["height"] > 0
            and box["x"] >= map_box["x"] and box["y"] >= map_box["y"]
            and box["x"] + box["width"] <= map_box["x"] + map_box["width"]
            and box["y"] + box["height"] <= map_box["y"] + map_box["height"])


def test_the_leader_sees_the_gaps_and_overdue_appeals_at_first_glance(open_page, base_url, sql):
    watch = open_map(open_page, base_url, "1024x768")
    page = watch.page
    # The leaderless village, in the gap style, on screen.
    for code in deliberate("village_without_leader"):
        village = page.locator(f'path[data-gap="village"][data-code="{code}"]')
        expect(village).to_have_count(1)
        assert on_screen(page, village)
        expect(village).to_have_attribute("stroke", re.compile("#b3261e", re.I))
        expect(village).to_have_attribute("stroke-dasharray", re.compile(r"\d"))
    # The uncovered part of a village, hatched, on screen.
    for code in deliberate("uncovered_area"):
        area = page.locator(f'path[data-gap="uncovered_area"][data-code="{code}"]')
        expect(area).to_have_count(1)
        assert on_screen(page, area)
        expect(area).to_have_class(re.compile("gm-hatched"))
        expect(area).to_have_css("fill", re.compile(r'url\("?#gm-hatch"?\)'))
    # Its popup names the village and how many households are in it (from SQL).
    code = deliberate("uncovered_area")[0]
    page.locator(f'path[data-gap="uncovered_area"][data-code="{code}"]').dispatch_event("click")
    popup = page.locator(".leaflet-popup .gm-popup")
    popup.wait_for()
    assert sql["area_name"] in popup.inner_text()
    assert f"{sql['area_households']:,}" in popup.inner_text()
    page.locator(".leaflet-popup-close-button").click()
    # Overdue appeals: red, square and marked "!", singly or counted in their clusters.
    assert sql["overdue"] > 0
    singles = page.locator(".leaflet-marker-pane .gm-appeal-overdue")
    for i in range(singles.count()):
        expect(singles.nth(i)).to_have_css("background-color", GAP_RED)
        expect(singles.nth(i)).to_contain_text("!")
    in_clusters = sum(int(text.lstrip("!"))
                      for text in page.locator(".gm-cluster-overdue-count").all_inner_texts())
    assert singles.count() + in_clusters == sql["overdue"]
    # The grids longest unvisited: outlined on screen and ranked in the legend, as the SQL says.
    assert len(sql["unvisited"]) == LONGEST
    listed = page.locator(".gm-unvisited-go")
    expect(listed).to_have_count(LONGEST)
    for rank, (code, name, days) in enumerate(sql["unvisited"], start=1):
        shape = page.locator(f'path[data-unvisited="{rank}"][data-code="{code}"]')
        expect(shape).to_have_count(1)
        assert on_screen(page, shape)
        expect(shape).to_have_attribute("stroke", re.compile("#7a3e00", re.I))
        item = listed.nth(rank - 1)
        assert item.get_attribute("data-code") == code
        assert on_screen(page, item)
        assert name in item.inner_text()
        shown_days = int(item.locator(".gm-unvisited-days").inner_text().split()[0].replace(",", ""))
        assert abs(shown_days - int(days)) <= 1  # the page and this query ran seconds apart
    # The legend's counts are the SQL's.
    shown = {}
    for link in page.locator(".gm-gap-count").all():
        shown[link.get_attribute("data-gap-count")] = int(link.inner_text().replace(",", ""))
    assert shown == sql["counts"]
    assert page.locator("#gm-county-name").is_visible()
    assert page.locator(".leaflet-control-attribution").inner_text().strip() in ("", "Leaflet")
    for size in SIZES:
        if size != "1024x768":
            page.set_viewport_size({"width": SIZES[size][0], "height": SIZES[size][1]})
        watch.screenshot(f"coverage-leader-{size}")
    assert watch.errors == []
    assert watch.outside_requests() == []


def test_a_legend_count_opens_the_list_behind_it(open_page, base_url, sql):
    watch = open_map(open_page, base_url, "1024x768")
    page = watch.page
    with page.expect_navigation():
        page.click('.gm-gap-count[data-gap-count="uncovered"]')
    assert page.url.endswith("/coverage/uncovered")
    counts = [int(cell) for cell in page.locator(".gm-gap-table tbody td:last-child").all_inner_texts()]
    assert sum(counts) == sql["counts"]["uncovered"]
    watch.screenshot("coverage-list-leader")
    assert watch.errors == []


def test_an_overdue_appeal_opens_its_issue(open_page, base_url, sql):
    watch = open_map(open_page, base_url, "1920x1080")
    page = watch.page
    for _ in range(2):
        page.locator(".leaflet-control-zoom-in").click()
        settle(page)
    cluster = page.locator(".gm-cluster-overdue").first
    while page.locator(".leaflet-marker-pane .gm-appeal-overdue").count() == 0 and cluster.count():
        cluster.click()  # zooms to what it holds, or at the last zoom spiders it out
        settle(page)
    marker = page.locator(".leaflet-marker-pane .gm-appeal-overdue").first
    marker.click()
    link = page.locator(".gm-popup-link")
    link.wait_for()
    expect(page.locator(".gm-popup-issue-title")).to_have_count(1)
    assert re.search(r"/issues/\d+$", link.get_attribute("href"))
    assert watch.errors == []


def test_the_overdue_filter_leaves_only_overdue_appeals(open_page, base_url, sql):
    watch = open_map(open_page, base_url, "1024x768")
    page = watch.page
    page.check('[data-appeals-filter="overdue"]')
    expect(page.locator(".folium-map")).to_have_attribute("data-appeals", str(sql["overdue"]))
    # Every cluster left holds overdue appeals only, every single marker is overdue.
    expect(page.locator(".leaflet-marker-pane .gm-appeal:not(.gm-appeal-overdue)")).to_have_count(0)
    for cluster in page.locator(".gm-cluster").all():
        total = cluster.locator(".gm-cluster-count").inner_text().split("!")[0].strip()
        overdue = cluster.locator(".gm-cluster-overdue-count").inner_text().lstrip("!")
        assert total == overdue
    page.select_option('[data-appeals-filter="stage"]', "reported")
    page.uncheck('[data-appeals-filter="overdue"]')
    assert int(page.locator(".folium-map").get_attribute("data-appeals")) <= sql["appeals"]
    assert watch.errors == []
