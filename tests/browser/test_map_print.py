"""The map printed on A4 in Chromium: print media, then a PDF. The sheet says 示意图, the
county and the date, keeps the scale bar and every legend inside the map, and drops the
controls; the PDF is one A4 landscape page. Screenshots and the PDF go to GRIDMAP_SHOTS."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from gridmap import clock
from gridmap.calendar import CHINA_TIME

# A4 landscape less the page's 10 mm margins, at 96 px per inch: the printed map's size.
A4_PRINTABLE_PX = (round(277 / 25.4 * 96), round(190 / 25.4 * 96))
A4_LANDSCAPE_PT = (841.89, 595.28)


def inside(box, outer) -> bool:
    return (box["x"] >= outer["x"] - 1 and box["y"] >= outer["y"] - 1
            and box["x"] + box["width"] <= outer["x"] + outer["width"] + 1
            and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1)


def apart(a, b) -> bool:
    return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_leaders_map_prints_on_one_a4_sheet(open_page, base_url):
    watch = open_page(1024, 768)
    watch.sign_in(base_url, "leader")
    page = watch.page
    page.wait_for_selector(".folium-map[data-layers=loaded][data-gap-counts=loaded]"
                           "[data-unvisited]:not([data-unvisited=loading])")
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_PRINTABLE_PX[0], "height": A4_PRINTABLE_PX[1]})
    head = page.locator(".gm-print-head")
    expect(head).to_be_visible()
    title = head.locator("h2").inner_text()
    county = page.locator("#gm-county-name").text_content()
    assert "示意图" in title and county.replace("示意图", "").strip() in title
    today = clock.now().astimezone(CHINA_TIME).date().isoformat()
    assert re.search(rf"制图日期\s*{today}", head.inner_text())
    map_box = page.locator(".folium-map").bounding_box()
    assert inside(map_box, {"x": 0, "y": 0, "width": A4_PRINTABLE_PX[0], "height": A4_PRINTABLE_PX[1]})
    scale = page.locator(".leaflet-control-scale")
    expect(scale).to_be_visible()
    assert re.fullmatch(r"\d+ k?m", scale.inner_text().strip())
    legends = page.locator(".gm-legend")
    assert legends.count() >= 4  # gaps (with the grids longest unvisited), appeals, 挂牌, households
    boxes = [legends.nth(i).bounding_box() for i in range(legends.count())]
    for i, box in enumerate(boxes):
        expect(legends.nth(i)).to_be_visible()
        assert inside(box, map_box), f"legend {i} runs off the printed map"
        assert apart(box, scale.bounding_box()), f"legend {i} covers the scale bar"
        for other in boxes[i + 1:]:
            assert apart(box, other), "two legends overlap on paper"
    expect(page.locator(".gm-unvisited-go")).to_have_count(5)
    expect(page.locator(".gm-legend", has_text="示意图")).to_have_count(1)
    for control in (".leaflet-control-zoom", ".gm-search", ".gm-tools", ".topbar",
                    ".leaflet-control-layers", ".gm-appeals-filters"):
        expect(page.locator(control).first).to_be_hidden()
    shot = watch.screenshot("map-print-a4")
    pdf = page.pdf(format="A4", landscape=True, print_background=True, prefer_css_page_size=True)
    shot.with_suffix(".pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    width, height = (float(n) for n in re.search(
        rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf).groups())
    assert abs(width - A4_LANDSCAPE_PT[0]) < 1 and abs(height - A4_LANDSCAPE_PT[1]) < 1
    assert watch.errors == [] and watch.outside_requests() == []
