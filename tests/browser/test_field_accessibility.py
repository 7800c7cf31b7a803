"""The field pages read well for everyone: no WCAG AA contrast violations (axe-core, served
from our own static/vendor, never a CDN) at both tablet sizes; text at twice its size still
fits; on a phone the map's controls leave the map to the map; the due list prints on A4.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gridmap.db import make_engine

VIEWPORTS = {"800x1280": (800, 1280), "1024x768": (1024, 768)}
GRID = "532329104201001"


@pytest.fixture(scope="module")
def field_urls(base_url, committed_db_url) -> dict[str, str]:
    """Each field page of the demo grid worker, with a real household and visit."""
    engine = make_engine(committed_db_url)
    with engine.connect() as connection:
        household = connection.execute(text(
            "SELECT id FROM household WHERE county_code = '532329' AND grid_code = :g"
            " ORDER BY code LIMIT 1"), {"g": GRID}).scalar()
        issue = connection.execute(text(  # open, in the grid, with its timeline
            "SELECT id FROM issue WHERE county_code = '532329' AND code = 'MQ000194'")).scalar()
    engine.dispose()
    return {"home": "/field", "household": f"/field/households/{household}",
            "visit": f"/field/households/{household}/visit",
            "report": "/field/report?visit=00000000-0000-4000-8000-000000000000",
            "issues": "/field/issues", "issue": f"/field/issues/{issue}"}


def contrast_violations(page, base_url) -> list[str]:
    """axe-core's color-contrast failures on the page (WCAG 2 AA), one line each."""
    page.add_script_tag(url=f"{base_url}/static/vendor/axe-core/axe.min.js")
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: "rule",
        values: ["color-contrast"]}})""")
    checked = sum(len(rule["nodes"]) for rule in result["passes"] + result["violations"])
    # the field page itself, not an error page: its own content was checked, not the bar alone
    assert page.locator("main .field").count() > 0 and checked > 5, \
        "axe checked next to nothing: is the page there?"
    return [f"{node['target']}: {node['failureSummary'][:160]}"
            for violation in result["violations"] for node in violation["nodes"]]


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_field_pages_have_no_contrast_violations(open_page, base_url, field_urls, size):
    watch = open_page(*VIEWPORTS[size], has_touch=True)
    watch.sign_in(base_url, "grid_worker")
    found = {}
    for name, url in field_urls.items():
        watch.page.goto(base_url + url)
        watch.page.wait_for_load_state("networkidle")
        found[name] = contrast_violations(watch.page, base_url)
    assert found == {name: [] for name in field_urls}
    assert watch.outside_requests() == []


DOUBLE_THE_TEXT = """() => {
  // As a tablet's largest system font does: every text twice its size, whatever its unit.
  const sizes = Array.from(document.querySelectorAll("body *"), (el) =>
    [el, parseFloat(getComputedStyle(el).fontSize)]);
  sizes.forEach(([el, px]) => { el.style.fontSize = (px * 2) + "px"; });
}"""

OVERFLOWS = """() => {
  const width = document.documentElement.clientWidth, wide = [];
  if (document.documentElement.scrollWidth > width + 1) { wide.push("page " + document.documentElement.scrollWidth); }
  document.querySelectorAll(".field button, .field a.button, .field label, .field h1, .field li, .field p")
    .forEach((el) => {
      const box = el.getBoundingClientRect();
      if (box.width && (box.right > width + 1 || box.left < -1)) { wide.push(el.tagName + " " + el.textContent.trim().slice(0, 20)); }
      if (el.matches("button, a.button") && el.scrollWidth > el.clientWidth + 2) { wide.push("clipped " + el.textContent.trim().slice(0, 20)); }
    });
  return wide;
}"""


@pytest.mark.parametrize("size", VIEWPORTS)
def test_text_at_twice_its_size_still_fits_the_screen(open_page, base_url, field_urls, size):
    watch = open_page(*VIEWPORTS[size], has_touch=True)
    watch.sign_in(base_url, "grid_worker")
    found = {}
    for name, url in field_urls.items():
        watch.page.goto(base_url + url)
        watch.page.wait_for_load_state("networkidle")
        watch.page.evaluate(DOUBLE_THE_TEXT)
        found[name] = watch.page.evaluate(OVERFLOWS)
        if name in ("home", "visit"):
            watch.screenshot(f"field-{name}-large-text-{size}")
    assert found == {name: [] for name in field_urls}


def test_on_a_phone_the_map_controls_leave_the_map_to_the_map(open_page, base_url):
    watch = open_page(390, 844, has_touch=True, is_mobile=True)
    watch.sign_in(base_url, "grid_worker")
    page = watch.page
    page.wait_for_selector("#field-map path.leaflet-interactive")
    map_box = page.locator("#field-map").bounding_box()
    assert map_box["width"] >= 350 and map_box["height"] >= 200
    covered = sum(box["width"] * box["height"] for box in (
        page.locator(selector).bounding_box()
        for selector in (".leaflet-control-zoom", ".leaflet-control-attribution")))
    assert covered / (map_box["width"] * map_box["height"]) < 0.08
    locate = page.locator("#locate-me").bounding_box()  # "locate me" sits above, not on it
    assert locate["y"] + locate["height"] <= map_box["y"] + 1
    watch.screenshot("field-home-phone-390x844")


def test_the_due_list_prints_on_a4_as_a_list(open_page, base_url, tmp_path):
    watch = open_page(800, 1280)
    watch.sign_in(base_url, "grid_worker")
    page = watch.page
    page.wait_for_selector("li.household")
    page.emulate_media(media="print")
    assert page.locator("#field-map").is_hidden() and page.locator(".topbar").is_hidden()
    assert page.locator("li.household").first.is_visible()
    assert "打印于" in page.locator(".print-only").first.inner_text()
    watch.screenshot("field-home-print-media")
    pdf = tmp_path / "due-list.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/MediaBox [0 0 595" in data  # A4: 595 x 842 pt
    pages = data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>")
    households = page.locator("li.household").count()
    assert 1 <= pages <= households  # a list, not a page per household nor a blank sheet
