"""Roll-ups, drill-down, search and heatmaps in Chromium on the demo county, as the leader
and as a township's staff: figures from SQL, one colour per region for both roles."""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import ROOT

from gridmap import clock
from gridmap.db import make_engine
from gridmap.maps import rollup
from gridmap.policy import Scope

COUNTY = "532329"
LEADER = Scope(COUNTY, region_code=COUNTY)


def scope_of(login: str) -> str:
    with (ROOT / "data" / "demo" / "users.csv").open(encoding="utf-8") as f:
        return next(row["scope_code"] for row in csv.DictReader(f) if row["login"] == login)


@pytest.fixture
def figures(committed_db_url):
    """Overdue issues per township and village (SQL), and a village of the township with most."""
    engine = make_engine(committed_db_url)
    with Session(engine) as session:
        townships = rollup.values(session, LEADER, "township", "overdue", clock.now())
        top = max(townships, key=townships.get)
        villages = rollup.values(session, LEADER, "village", "overdue", clock.now())
        staff = scope_of("township_staff")
        village = max((code for code in villages if code.startswith(staff)), key=villages.get)
        name = session.execute(text(
            "SELECT name FROM region WHERE county_code = :c AND code = :v AND valid_to IS NULL"),
            {"c": COUNTY, "v": village}).scalar_one()
    engine.dispose()
    return {"townships": townships, "top": top, "village": village, "village_name": name}


def open_map(open_page, base_url, login, size):
    watch = open_page(*size, has_touch=True)
    watch.sign_in(base_url, login)
    watch.page.wait_for_selector(".folium-map[data-layers=loaded]")
    watch.page.wait_for_load_state("networkidle")
    return watch


def colour_by(page, measure: str, level: str):
    page.select_option("[data-measure]", measure)
    expect(page.locator(".folium-map")).to_have_attribute("data-choropleth", f"{measure}:{level}")


def test_the_leader_drills_from_townships_to_villages(open_page, base_url, figures):
    watch = open_map(open_page, base_url, "leader", (1024, 768))
    page = watch.page
    colour_by(page, "overdue", "township")
    # The township with the most overdue issues has the darkest class, as the legend says.
    swatches = page.locator(".gm-legend:not(.gm-gap-legend):not(.gm-appeals-legend)"
                             ":not(.gm-targets-legend) .gm-swatch")
    darkest = swatches.last.evaluate("node => node.style.background")
    top = page.locator(f'path.gm-hit-township[data-code="{figures["top"]}"]')
    assert page.evaluate("([a, b]) => { const s = document.createElement('span');"
                         " s.style.background = a; const t = document.createElement('span');"
                         " t.style.background = b; return s.style.background === t.style.background; }",
                         [darkest, top.get_attribute("fill")])
    watch.screenshot("rollup-leader-overdue-1024x768")
    top.dispatch_event("click")
    expect(page.locator(".folium-map")).to_have_attribute("data-choropleth", "overdue:village")
    village = page.locator(f'path.gm-hit-village[data-code="{figures["village"]}"]')
    assert village.get_attribute("fill") not in (None, "none")
    watch.screenshot("rollup-leader-drilled-1024x768")
    page.set_viewport_size({"width": 800, "height": 1280})
    watch.screenshot("rollup-leader-drilled-800x1280")
    assert watch.errors == [] and watch.outside_requests() == []


def test_a_village_has_the_same_colour_for_leader_and_township(open_page, base_url, figures):
    fills = {}
    for login in ("leader", "township_staff"):
        watch = open_map(open_page, base_url, login, (1024, 768))
        page = watch.page
        page.fill(".gm-search input", figures["village_name"])
        page.press(".gm-search input", "Enter")
        page.click(f'.gm-search-hit[data-code="{figures["village"]}"]')
        expect(page.locator(".folium-map")).to_have_attribute("data-search-went", figures["village"])
        page.select_option("[data-measure]", "overdue")
        expect(page.locator(".folium-map")).to_have_attribute(
            "data-choropleth", re.compile(r"^overdue:(village|grid)$"))
        level = page.locator(".folium-map").get_attribute("data-choropleth").split(":")[1]
        shapes = page.locator(f'path.gm-hit-village[data-code="{figures["village"]}"]'
                              if level == "village" else
                              f'path.gm-grid-shape[data-code^="{figures["village"]}"]')
        fills[login] = {shape.get_attribute("data-code"): shape.get_attribute("fill")
                        for shape in shapes.all()}
        assert fills[login] and "none" not in fills[login].values()
        watch.screenshot(f"rollup-{login}-village-1024x768")
        assert watch.errors == [] and watch.outside_requests() == []
    assert fills["leader"] == fills["township_staff"]


def test_heatmaps_draw_cells_from_the_server(open_page, base_url):
    watch = open_map(open_page, base_url, "township_staff", (800, 1280))
    page = watch.page
    page.locator(".leaflet-control-layers").hover()
    toggle = page.locator(".leaflet-control-layers-toggle")
    if toggle.is_visible():
        toggle.click()
    page.get_by_text("热力图 · 需关爱户密度").click()
    expect(page.locator(".folium-map")).to_have_attribute("data-heat-care", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(1)
    watch.screenshot("heat-township-800x1280")
    assert watch.errors == [] and watch.outside_requests() == []
