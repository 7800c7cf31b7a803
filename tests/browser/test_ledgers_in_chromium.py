"""The follow-through ledgers in Chromium over the demo county: the leader's bulletin (figures =
the JSON API, printable), and a weak branch tagged by a township and struck off by the county.
Screenshots go to GRIDMAP_SHOTS."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

SIZES = {"1024x768": (1024, 768), "800x1280": (800, 1280)}
NUMBER = re.compile(r"-?[\d,]+(?:\.\d+)?")


@pytest.mark.parametrize("size", SIZES)
def test_the_leaders_bulletin_shows_the_figures_of_the_api(open_page, base_url, size):
    watch = open_page(*SIZES[size], has_touch=True)
    watch.sign_in(base_url, "leader")
    watch.page.goto(f"{base_url}/dashboard")
    expect(watch.page.locator("h1")).to_contain_text("民情工作通报")
    api = watch.page.request.get(f"{base_url}/api/dashboard").json()
    for figure in api["figures"]:
        shown = watch.page.locator(f"[data-figure={figure['key']}] .gm-figure-value").inner_text()
        if figure["value"] is None:
            assert shown.strip() == "—"
            continue
        value = float(NUMBER.search(shown).group().replace(",", ""))
        expected = figure["value"] * (100 if figure["key"] in ("composite", "visits_confirmed") else 1)
        assert value == pytest.approx(expected, abs=0.6), figure["key"]
    assert api["figures"][0]["key"] == "households_visited" and api["figures"][0]["value"] > 0
    # the figure it is compared with is shown, not only the difference (a first year's
    # "▲ 5,195" alone reads as growth)
    meetings = next(f for f in api["figures"] if f["key"] == "meetings")
    change = watch.page.locator("[data-figure=meetings] .gm-figure-change").inner_text()
    assert change.split()[:2] == ["上年同期", f"{meetings['previous']:,}"], change
    ranked = watch.page.locator("table.gm-table tbody tr")
    assert ranked.count() == len(api["ranking"]) == 11  # the demo's townships, worst first
    for link in watch.page.locator(".gm-figure-rows").all():
        assert link.bounding_box()["height"] >= 44  # a thumb can reach each 明细
    watch.screenshot(f"bulletin-leader-{size}")
    watch.page.emulate_media(media="print")
    expect(watch.page.locator(".gm-tabs")).to_be_hidden()
    watch.screenshot(f"bulletin-leader-print-{size}")
    watch.page.locator("[data-figure=households_visited] .gm-figure-rows").evaluate("a => a.click()")
    watch.page.emulate_media(media="screen")
    expect(watch.page.locator("h1")).to_contain_text("走访群众")
    visited = api["figures"][0]["value"]
    assert watch.page.locator("tbody tr").count() == min(visited, 1000)  # a page stays light
    if visited > 1000:
        expect(watch.page.locator(".gm-page-head")).to_contain_text("只列出前 1000 条")
    assert watch.errors == [] and watch.outside_requests() == []


def test_a_township_tags_a_weak_branch_and_the_county_strikes_it_off(open_page, base_url):
    township = open_page(1024, 768, has_touch=True)
    township.sign_in(base_url, "township_staff")
    page = township.page
    page.goto(f"{base_url}/targets")
    page.locator("details.gm-form summary").click()
    page.select_option("#t-branch", index=1)  # weak branches are offered first
    page.fill("#t-reason", "软弱涣散：组织生活不经常")
    page.fill("#t-plan", "一支部一对策：县委组织部派员指导，规范三会一课")
    page.fill("#t-due", "2099-06-30")
    with page.expect_navigation():
        page.click("details.gm-form button.primary")
    expect(page.locator(".gm-page-head")).to_contain_text("挂牌整改中")
    target_url = page.url
    page.fill("#a-evidence", "换届选举完成，三会一课台账齐全")
    with page.expect_navigation():
        page.click("text=申请销号")
    expect(page.locator(".gm-page-head")).to_contain_text("申请销号")
    assert page.locator("text=批准销号").count() == 0  # never the asker
    township.screenshot("target-requested-1024x768")

    leader = open_page(800, 1280, has_touch=True)
    leader.sign_in(base_url, "leader")
    leader.page.goto(target_url)
    leader.page.fill("#a-decision", "同意销号")
    with leader.page.expect_navigation():
        leader.page.click("button[value=approve_close]")
    expect(leader.page.locator(".gm-page-head")).to_contain_text("已销号")
    expect(leader.page.locator(".gm-timeline")).to_contain_text("换届选举完成")
    leader.screenshot("target-closed-800x1280")
    layer = leader.page.request.get(f"{base_url}/map/targets.geojson").json()
    assert any(f["properties"]["status"] == "closed" for f in layer["features"])
    for watch in (township, leader):
        assert watch.errors == [] and watch.outside_requests() == []
