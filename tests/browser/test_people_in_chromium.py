"""The people and administration pages in Chromium over the demo county, at a small laptop's
1024x768 and a portrait tablet's 800x1280: a township pairs a cadre with an uncovered household
and ends it again; a refusal shows beside its field; an administrator's settings page names
the bad key. No page scrolls sideways or asks an outside host. Screenshots go to GRIDMAP_SHOTS."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

SIZES = {"1024x768": (1024, 768), "800x1280": (800, 1280)}
CADRE = "自芬梅"  # C000421, of a 站所 of 插甸镇
UNCOVERED = "53232910420100060"  # a household of 插甸村 without a 包户 cadre in the demo


def unexpected(errors: list[str]) -> list[str]:
    """Console errors other than the 422 of the form sent wrong on purpose."""
    return [e for e in errors if "status of 422" not in e]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", SIZES)
def test_a_township_pairs_a_cadre_with_a_household_and_ends_it(open_page, base_url, size):
    watch = open_page(*SIZES[size], has_touch=True)
    watch.sign_in(base_url, "township_staff")
    page = watch.page
    page.goto(f"{base_url}/people?q={CADRE}")
    expect(page.locator("h1")).to_contain_text("干部")
    with page.expect_navigation():
        page.locator("table.gm-table tbody a").first.click()
    expect(page.locator("h1")).to_contain_text(CADRE)
    assert fits(page)
    page.locator("details.gm-form summary", has_text="安排包保任务").click()
    page.select_option("#a-kind", "household")
    page.fill("#a-target", "NOPE")
    with page.expect_navigation():
        page.click("details.gm-form button.primary >> nth=0")
    expect(page.locator("#error-target")).to_be_visible()  # beside the field, the form open
    page.fill("#a-target", UNCOVERED)
    with page.expect_navigation():
        page.click("details.gm-form button.primary >> nth=0")
    row = page.locator("table.gm-duties tr", has_text=UNCOVERED)
    expect(row).to_have_count(1)
    watch.screenshot(f"people-cadre-{size}")
    with page.expect_navigation():
        row.locator("button[data-end]").click()
    expect(page.locator("table.gm-duties tr", has_text=UNCOVERED)).to_have_count(0)
    expect(page.locator(".gm-timeline")).to_be_visible()
    page.goto(f"{base_url}/units")
    expect(page.locator("table.gm-table tbody tr").first).to_be_visible()
    assert fits(page)
    assert unexpected(watch.errors) == [] and watch.outside_requests() == []


@pytest.mark.parametrize("size", SIZES)
def test_an_administrator_sees_accounts_and_a_bad_setting_names_its_key(open_page, base_url, size):
    watch = open_page(*SIZES[size], has_touch=True)
    watch.sign_in(base_url, "admin")
    page = watch.page
    page.goto(f"{base_url}/admin/users")
    assert page.locator("table.gm-table tbody tr").count() >= 9  # one account per demo role
    assert fits(page)
    with page.expect_navigation():
        page.click("table.gm-table a:text-is('grid_worker')")
    expect(page.locator("h1")).to_contain_text("grid_worker")
    page.goto(f"{base_url}/admin/settings")
    form = page.locator("form[data-group='visit.interval_days']")
    form.locator("[name='visit.interval_days.default']").fill("九十")
    with page.expect_navigation():
        form.locator("button.primary").click()
    expect(page.locator("[id='error-visit.interval_days.default']")).to_contain_text(
        "visit.interval_days.default")
    assert page.locator("[name='visit.interval_days.default']").input_value() == "九十"
    assert fits(page)
    watch.screenshot(f"admin-settings-{size}")
    assert unexpected(watch.errors) == [] and watch.outside_requests() == []
