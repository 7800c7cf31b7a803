"""Marks on the map never sit on each other: in Chromium over the demo county, where its
appeals, gaps and 挂牌 targets gather (插甸镇, 田心乡), each name, badge and cluster shown is
clear of the others, at first glance and after a zoom, and what matters most (overdue appeals,
the village no leader is paired with) is never the one that gives way. Small marks answer a
finger within 44 px; triaging an appeal changes its colour on the map.

Expected places and counts come from data/demo/deliberate_gaps.csv and SQL. Screenshots go
to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import csv
import json
import re

from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import ROOT

from gridmap.db import make_engine
from gridmap.maps.appeals import appeals_layer_json
from gridmap.policy import Scope

LEADER = Scope("532329", region_code="532329")
LOADED = 120_000  # ms
# Every mark shown on the map and the box a person sees of it (a marker icon is a 0×0 anchor;
# its first child is the badge or name).
SHOWN_MARKS = """() => {
  const view = document.querySelector('.folium-map').getBoundingClientRect();
  return [...document.querySelectorAll('.folium-map .leaflet-marker-icon')]
    .filter(icon => getComputedStyle(icon).visibility !== 'hidden')
    .map(icon => {
      const r = (icon.firstElementChild || icon).getBoundingClientRect();
      return {cls: icon.className, text: icon.textContent, code: icon.getAttribute('data-code'),
              left: r.left, top: r.top, right: r.right, bottom: r.bottom};
    })
    .filter(b => b.right > b.left && b.right > view.left && b.left < view.right
                 && b.bottom > view.top && b.top < view.bottom);
}"""


def deliberate(kind: str) -> list[str]:
    with (ROOT / "data" / "demo" / "deliberate_gaps.csv").open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f) if row["kind"] == kind]


def overdue_appeals(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        features = json.loads(appeals_layer_json(session, LEADER))["features"]
    engine.dispose()
    return sum(1 for f in features if f["properties"]["overdue"])


def open_map(open_page, base_url, login, width, height):
    watch = open_page(width, height, has_touch=True)
    watch.page.set_default_timeout(LOADED)  # a loaded machine (8 agents on 2 cores)
    watch.sign_in(base_url, login)
    page = watch.page
    page.goto(f"{base_url}/")  # grid workers land on their field pages; the map is here
    # Each layer says when it is drawn (at county scale on a busy machine, 10-40 s).
    page.wait_for_selector(".folium-map[data-layers=loaded]", timeout=LOADED)
    for layer in ("gaps", "gap-counts", "appeals", "unvisited", "targets"):
        page.wait_for_function(
            "name => { const value = document.querySelector('.folium-map').getAttribute(name);"
            " return value === null || value !== 'loading'; }", arg=f"data-{layer}", timeout=LOADED)
    page.wait_for_load_state("networkidle", timeout=LOADED)
    settle(page)
    return watch


def settle(page) -> None:
    """Wait until the marks have been placed for what is on screen now (map_labels.js says
    "placed" once nothing has moved for a moment)."""
    page.wait_for_timeout(300)  # a zoom's animation, before the map says it ended
    page.wait_for_selector(".folium-map[data-marks=placed]", state="attached", timeout=LOADED)


def touching_pairs(marks: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(marks):
        for b in marks[i + 1:]:
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] \
                    and b["top"] < a["bottom"]:
                pairs.append((a["text"], b["text"]))
    return pairs


def overdue_shown(page) -> int:
    """Overdue appeals on screen: single markers plus the "!n" of their clusters."""
    singles = page.locator(".leaflet-marker-icon.gm-appeal-icon-overdue:not(.gm-crowded)").count()
    counted = sum(int(t.lstrip("!")) for t in page.locator(
        ".leaflet-marker-icon.gm-cluster-overdue:not(.gm-crowded) .gm-cluster-overdue-count").all_inner_texts())
    return singles + counted


def test_the_leaders_marks_never_overlap_and_the_alarms_stay(open_page, base_url, committed_db_url):
    watch = open_map(open_page, base_url, "leader", 1024, 768)
    page = watch.page
    marks = page.evaluate(SHOWN_MARKS)
    assert len(marks) >= 15, marks  # the county's names, clusters, badges and flags
    assert touching_pairs(marks) == []
    # Some gave way: the demo's marks do crowd here.
    assert int(page.locator(".folium-map").get_attribute("data-crowded")) > 0
    # Every overdue appeal is still counted on screen, none hidden.
    assert page.locator(".gm-crowded.gm-cluster-overdue, .gm-crowded.gm-appeal-icon-overdue").count() == 0
    assert overdue_shown(page) == overdue_appeals(committed_db_url)
    # The village no leader is paired with: its dashed outline and, in words, its flag.
    for code in deliberate("village_without_leader"):
        flag = page.locator(f'.leaflet-marker-icon.gm-gap-flag[data-code="{code}"]')
        expect(flag).to_have_count(1)
        expect(flag).to_be_visible()
        expect(flag).not_to_have_class(re.compile(r"\bgm-crowded\b"))
        expect(flag).to_have_text("无包村领导")
        expect(flag.locator(".gm-gap-flag-text")).to_have_css("border-top-style", "dashed")
    watch.screenshot("map-labels-leader-1024x768")
    # A zoom places them again: still apart, the alarms still shown.
    # The marks said "placed" before the zoom: forget it, so only a placing after it counts
    # (under load the zoom's end may come after any fixed wait).
    page.evaluate("document.querySelector('.folium-map').setAttribute('data-marks', 'zooming')")
    page.locator(".leaflet-control-zoom-in").click()
    settle(page)
    assert touching_pairs(page.evaluate(SHOWN_MARKS)) == []
    assert page.locator(".gm-crowded.gm-cluster-overdue, .gm-crowded.gm-appeal-icon-overdue").count() == 0
    watch.screenshot("map-labels-leader-1024x768-zoomed")
    assert watch.errors == [] and watch.outside_requests() == []


def test_village_names_thin_out_on_a_portrait_tablet(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", 800, 1280)
    page = watch.page
    marks = page.evaluate(SHOWN_MARKS)
    names = [m for m in marks if "gm-label-village" in m["cls"]]
    assert len(names) >= 20  # named by zoom level: villages at this one
    assert touching_pairs(marks) == []
    watch.screenshot("map-labels-leader-800x1280")
    assert watch.errors == []


def test_the_overdue_legend_swatch_is_the_markers_square(open_page, base_url):
    watch = open_map(open_page, base_url, "leader", 1920, 1080)
    page = watch.page
    swatch = page.locator(".gm-appeals-legend .gm-appeal-swatch.gm-appeal-red")
    expect(swatch).to_have_class("gm-appeal-swatch gm-appeal gm-appeal-red gm-appeal-overdue")
    expect(swatch).to_have_css("border-top-left-radius", "3px")
    expect(swatch).to_have_text("!")


def test_a_small_marker_answers_a_finger_within_44_px(open_page, base_url):
    watch = open_map(open_page, base_url, "grid_worker", 800, 1280)
    page = watch.page
    marker = page.locator(".leaflet-marker-icon.gm-appeal-icon:not(.gm-crowded)").first
    box = marker.locator(".gm-appeal").bounding_box()
    assert box["width"] < 44 and box["height"] < 44  # drawn small, over the grid it marks
    middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((21, 0), (-21, 0), (0, 21), (0, -21)):
        hit = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)"
                            ".closest('.leaflet-marker-icon.gm-appeal-icon')", [middle_x + dx, middle_y + dy])
        assert hit, (dx, dy)
    page.mouse.click(middle_x + 20, middle_y)
    expect(page.locator(".leaflet-popup .gm-popup-link")).to_be_visible()
    assert watch.errors == []


def appeal_marker(page, code: str):
    """Once the map (re)opened is drawn, go to appeal `code` by its search (it zooms past
    clustering) and return its marker."""
    page.wait_for_selector(".folium-map[data-layers=loaded]", timeout=LOADED)
    page.wait_for_load_state("networkidle", timeout=LOADED)
    page.fill(".gm-search input[name=q]", code)
    page.locator(".gm-search button[type=submit]").click()
    expect(page.locator(".folium-map")).to_have_attribute("data-search-went", code)
    page.wait_for_timeout(700)
    marker = page.locator(f'.leaflet-marker-icon.gm-appeal-icon[title^="{code} "]')
    expect(marker).to_have_count(1)
    return marker.locator(".gm-appeal")


def test_triaging_an_appeal_changes_its_colour_on_the_map(open_page, base_url, committed_db_url):
    watch = open_map(open_page, base_url, "township_staff", 1920, 1080)
    page = watch.page
    reported = [f["properties"] for f in page.request.get(f"{base_url}/map/issues.geojson").json()["features"]
                if f["properties"]["status"] == "reported"]
    assert reported, "the demo township has an appeal waiting to be triaged"
    appeal = reported[0]
    # Left past its triage limit, it is red and marked overdue on the map.
    engine = make_engine(committed_db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE issue SET triage_due = now() - interval '1 hour'"
                                " WHERE county_code = :c AND id = :id"),
                           {"c": LEADER.county_code, "id": appeal["id"]})
    engine.dispose()
    page.reload()
    before = appeal_marker(page, appeal["code"])
    expect(before).to_have_class("gm-appeal gm-appeal-red gm-appeal-overdue")
    expect(before).to_have_text("!报")
    watch.screenshot("map-labels-appeal-overdue")
    # Triaged on its page, it starts its next stage on time: green, marked 派, no "!".
    page.goto(f"{base_url}/issues/{appeal['id']}")
    with page.expect_navigation():
        page.locator("form.gm-action-triage button[type=submit]").click()
    page.goto(f"{base_url}/")
    after = appeal_marker(page, appeal["code"])
    expect(after).to_have_class("gm-appeal gm-appeal-green")
    expect(after).to_have_text("派")
    watch.screenshot("map-labels-appeal-triaged")
    assert watch.errors == []
