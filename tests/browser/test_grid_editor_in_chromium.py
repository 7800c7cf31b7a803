"""The grid editor in Chromium over a demo county of its own (the edit really commits): a
township's staff split a demo grid by drawing a line with the mouse, preview, save, and read
the moves; on a tall tablet a drawn grid over its neighbours is shown in red and not saved.
Screenshots go to GRIDMAP_SHOTS."""

from __future__ import annotations

import pytest
import shapely
from playwright.sync_api import expect
from shapely import ops
from sqlalchemy import text
from support import load_demo_county, served

from gridmap.db import make_engine

VILLAGE = "532329104201"  # 插甸村, in the demo township_staff's 插甸镇
GRID = VILLAGE + "001"


@pytest.fixture
def demo(fresh_database_url):
    load_demo_county(fresh_database_url)
    engine = make_engine(fresh_database_url)
    with served(fresh_database_url) as base_url:
        yield base_url, engine
    engine.dispose()


def grid_shape(engine, code):
    with engine.connect() as connection:
        return shapely.from_wkb(bytes(connection.execute(text(
            "SELECT ST_AsBinary(geom) FROM grid WHERE code = :g AND valid_to IS NULL"), {"g": code}).scalar()))


def cutting_line(shape):
    """A north–south line across `shape` that cuts it in exactly two (lon/lat end points)."""
    west, south, east, north = shape.bounds
    margin = (north - south) * 0.08
    for fraction in (0.5, 0.42, 0.58, 0.35, 0.65):
        lon = west + (east - west) * fraction
        line = shapely.LineString([(lon, south - margin), (lon, north + margin)])
        if len(ops.split(shape, line).geoms) == 2:
            return line
    raise AssertionError("no straight line cuts the demo grid in two")


def to_screen(page, lonlat):
    return page.evaluate("([lon, lat]) => { const p = window.gmGridEditor.map.latLngToContainerPoint([lat, lon]);"
                         " const box = document.getElementById('ge-map').getBoundingClientRect();"
                         " return [box.left + p.x, box.top + p.y]; }", list(lonlat))


def draw(page, lonlats, close_on_first=False):
    """Click the points of a line (finished on its last point) or polygon (on its first)."""
    points = [to_screen(page, p) for p in lonlats]
    for x, y in points:
        page.mouse.click(x, y)
        page.wait_for_timeout(120)
    x, y = points[0] if close_on_first else points[-1]
    page.mouse.click(x, y)


def test_a_township_splits_a_demo_grid_by_drawing_a_line(open_page, demo):
    base_url, engine = demo
    old = grid_shape(engine, GRID)
    line = cutting_line(old)
    watch = open_page(1024, 768)
    watch.sign_in(base_url, "township_staff")
    page = watch.page
    page.goto(f"{base_url}/grids/edit?village={VILLAGE}")
    page.wait_for_selector("#ge-map[data-loaded='1']")
    west, south, east, north = line.bounds
    page.evaluate("b => window.gmGridEditor.map.fitBounds(b, {padding: [40, 40], animate: false})",
                  [[south, west], [north, east]])
    page.locator("path.leaflet-interactive").first.wait_for()
    page.evaluate("code => window.gmGridEditor.select(code)", GRID)  # as a click on the grid does
    expect(page.locator("#ge-selected")).to_contain_text(GRID)
    page.click("#ge-draw")
    draw(page, list(line.coords))
    expect(page.locator("#ge-preview")).to_be_enabled()
    page.fill("#ge-name", "插甸村东片网格")
    page.click("#ge-preview")
    expect(page.locator("#ge-status")).to_contain_text("没有问题")
    expect(page.locator("#ge-moves")).to_be_visible()
    watch.screenshot("grid-split-preview-1024x768")
    page.click("#ge-save")
    expect(page.locator("#ge-status")).to_contain_text("已保存")
    watch.screenshot("grid-split-saved-1024x768")

    new = newest_grid(engine)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT ST_Area(ST_SymDifference(ST_Union(a.geom, b.geom), ST_GeomFromWKB(:old, 4326))::geography),"
            " ST_Area(ST_Intersection(a.geom, b.geom)::geography), b.name FROM grid a, grid b"
            " WHERE a.code = :a AND b.code = :b AND a.valid_to IS NULL AND b.valid_to IS NULL"),
            {"old": shapely.to_wkb(old), "a": GRID, "b": new}).one()[:3] == (
            pytest.approx(0, abs=1.0), pytest.approx(0, abs=1.0), "插甸村东片网格")
        moved = {code for (code,) in connection.execute(text(
            "SELECT code FROM household WHERE grid_code = :b UNION ALL"
            " SELECT code FROM issue WHERE grid_code = :b AND status NOT IN ('closed', 'voided', 'rejected')"),
            {"b": new})}
    rows = page.locator("#ge-moves-rows tr")
    assert moved and rows.count() == len(moved)
    shown = {rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())}
    assert shown == moved
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        assert (cells.nth(2).inner_text(), cells.nth(3).inner_text()) == (GRID, new)
    assert page.locator("#ge-moves-title").inner_text() == "已移动的户、事项和包组任务"
    assert watch.errors == [] and watch.outside_requests() == []


def newest_grid(engine):
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT code FROM grid WHERE village_code = :v AND valid_to IS NULL ORDER BY code DESC LIMIT 1"),
            {"v": VILLAGE}).scalar()


def test_a_drawn_grid_over_its_neighbours_is_shown_in_red_on_a_tall_tablet(open_page, demo):
    base_url, engine = demo
    shape = grid_shape(engine, GRID)
    centre = shape.representative_point()
    watch = open_page(800, 1280, has_touch=True)
    watch.sign_in(base_url, "township_staff")
    page = watch.page
    page.goto(f"{base_url}/grids/edit?village={VILLAGE}")
    page.wait_for_selector("#ge-map[data-loaded='1']")
    page.check("input[name=operation][value=draw]")
    expect(page.locator("#ge-draw-label")).to_have_text("画面")
    page.click("#ge-draw")
    d = 0.004
    draw(page, [(centre.x - d, centre.y - d), (centre.x + d, centre.y - d), (centre.x, centre.y + d)],
         close_on_first=True)
    page.click("#ge-preview")
    expect(page.locator("#ge-status")).to_contain_text("有问题")
    expect(page.locator("#ge-problems li").first).to_contain_text(GRID)
    assert page.locator("#ge-save").is_disabled()
    assert page.locator("path[fill='#e53935']").count() >= 1  # the overlap, drawn in red
    watch.screenshot("grid-draw-overlap-800x1280")
    assert page.locator("#ge-tools label").first.bounding_box()["height"] >= 44
    assert watch.errors == [] and watch.outside_requests() == []
