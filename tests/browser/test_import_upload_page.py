"""The import upload in Chromium: a township's staff upload grids that overlap, read the dry
run's report, and see the overlaps drawn in red on its map; a household outside every grid is
a red point; a large file's dry run shows its progress, then its report. Screenshots
(1024x768, 800x1280) go to GRIDMAP_SHOTS."""

from __future__ import annotations

import json
import re

import psycopg2
import pytest
from playwright.sync_api import expect

SIZES = {"1024x768": (1024, 768), "800x1280": (800, 1280)}
VILLAGE = "532329104201"  # 插甸村, in the township of the demo's township_staff


def _inside(url: str) -> tuple[float, float]:
    """A point inside the village (lon, lat)."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM region"
                    " WHERE code = %s AND valid_to IS NULL) AS x", (VILLAGE,))
        return cur.fetchone()


def _square(lon: float, lat: float, half: float) -> dict:
    w, s, e, n = lon - half, lat - half, lon + half, lat + half
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _upload(page, base_url: str, table: str, name: str, body: bytes) -> None:
    page.goto(f"{base_url}/imports")
    page.select_option("#i-table", table)
    page.set_input_files("#i-files", files=[{"name": name, "mimeType": "application/octet-stream",
                                              "buffer": body}])
    with page.expect_navigation():
        page.click("button[type=submit].primary")


def _report(page) -> None:
    """Wait for the dry run (worked in the background; its page reloads when done)."""
    expect(page.locator("#import-outcome")).to_be_visible(timeout=60_000)


@pytest.mark.parametrize("size", SIZES)
def test_overlapping_grids_are_drawn_in_red_on_the_reports_map(open_page, base_url, committed_db_url, size):
    lon, lat = _inside(committed_db_url)
    grids = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": VILLAGE + "901", "village_code": VILLAGE, "name": "试一"},
         "geometry": _square(lon, lat, 0.002)},
        {"type": "Feature", "properties": {"code": VILLAGE + "902", "village_code": VILLAGE, "name": "试二"},
         "geometry": _square(lon + 0.002, lat, 0.002)}]}
    watch = open_page(*SIZES[size])
    watch.sign_in(base_url, "township_staff")
    page = watch.page
    page.goto(f"{base_url}/imports")
    expect(page.locator("h1")).to_contain_text("导入数据")
    watch.screenshot(f"import-upload-form-{size}")
    _upload(page, base_url, "grid", "grids.geojson", json.dumps(grids).encode())
    _report(page)
    expect(page.locator("h1")).to_contain_text("试运行报告")
    expect(page.locator("#import-outcome")).to_contain_text("没有写入任何数据")
    expect(page.locator("#import-problems")).to_contain_text("重叠")
    assert page.locator("#import-commit").count() == 0  # nothing to confirm while anything is wrong
    shapes = page.locator("#problem-map path.leaflet-interactive")
    expect(shapes.first).to_be_visible()
    assert shapes.count() >= 2
    assert {shapes.nth(i).get_attribute("stroke") for i in range(shapes.count())} == {"#d32f2f"}
    box = page.locator("#problem-map").bounding_box()
    assert box["width"] <= SIZES[size][0] and box["height"] >= 200
    watch.screenshot(f"import-report-overlaps-{size}")
    assert watch.errors == [] and watch.outside_requests() == []


def test_a_household_outside_every_grid_is_a_red_point(open_page, base_url):
    watch = open_page(1024, 768)
    watch.sign_in(base_url, "township_staff")
    csv = f"code,village_code,head_name,lon,lat\nUPLOAD-1,{VILLAGE},王新,102.0,25.0\n".encode()
    _upload(watch.page, base_url, "household", "households.csv", csv)
    page = watch.page
    _report(page)
    expect(page.locator("#import-outcome")).to_contain_text("没有发现问题")
    expect(page.locator("#import-notes")).to_contain_text("不在任何网格内")
    points = page.locator("#problem-map path.leaflet-interactive")
    expect(points).to_have_count(1)
    assert points.first.get_attribute("fill") == "#d32f2f"
    expect(page.locator("#import-commit")).to_be_visible()
    watch.screenshot("import-report-household-outside-1024x768")
    assert watch.errors == [] and watch.outside_requests() == []


LARGE = 30_000  # households: a dry run of several seconds, read in batches


def test_a_large_uploads_dry_run_shows_its_progress_then_its_report(open_page, base_url, committed_db_url):
    lon, lat = _inside(committed_db_url)
    csv = ("code,village_code,head_name,lon,lat\n" + "".join(
        f"BULK-{n},{VILLAGE},王新,{lon},{lat}\n" for n in range(LARGE))).encode()
    watch = open_page(1024, 768)
    watch.sign_in(base_url, "township_staff")
    page = watch.page
    _upload(page, base_url, "household", "households.csv", csv)
    expect(page.locator("h1")).to_contain_text("正在试运行")  # the request returned at once
    expect(page.locator("#import-state")).to_contain_text(re.compile(r"正在(读取|检查并写入) households.csv"))
    watch.screenshot("import-progress-1024x768")
    expect(page.locator("h1")).to_contain_text("试运行报告", timeout=180_000)
    expect(page.locator("#import-outcome")).to_contain_text("没有发现问题")
    expect(page.locator("#import-counts")).to_contain_text(re.compile(rf"households\.csv\s*住户\s*{LARGE}\s*{LARGE}\s*0\s*0\s*0"))
    expect(page.locator("#import-commit")).to_be_visible()
    watch.screenshot("import-report-large-1024x768")
    assert watch.errors == [] and watch.outside_requests() == []
