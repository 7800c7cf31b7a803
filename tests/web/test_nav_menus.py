"""The navigation folds a role's ledger and admin pages into menus; a role with one entry
of a menu sees that entry alone, and the menu holding the open page is marked."""

import re

import pytest
from support import ISSUE_GRID, ISSUE_TOWNSHIP, seed_issue_county


@pytest.fixture
def county(connection):
    seed_issue_county(connection)


def nav_html(client, path="/issues") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', page, re.S).group(1)


def menus(nav: str) -> dict[str, list[str]]:
    """menu label → the labels of its links."""
    found = {}
    for label, body in re.findall(r'<summary>(.*?)</summary>\s*<div class="nav-menu-list">(.*?)</div>',
                                  nav, re.S):
        found[label] = re.findall(r'<a href="[^"]*"[^>]*>([^<]*)', body)
    return found


def top_links(nav: str) -> list[str]:
    """Labels of the links outside every menu."""
    outside = re.sub(r'<details.*?</details>', "", nav, flags=re.S)
    return [label.strip() for label in re.findall(r'<a href="[^"]*"[^>]*>([^<]*)', outside)]


def test_township_staff_see_two_menus_and_the_daily_pages_on_top(client, auth, county):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    nav = nav_html(client)
    found = menus(nav)
    assert set(found) == {"台账", "管理"}
    assert {"通报", "挂牌销号", "户籍台账"} <= set(found["台账"])
    assert "干部与单位" in found["管理"] and "交接" not in found["管理"]  # 交接 is on a cadre's page
    assert "地图" in top_links(nav) and "事项" in top_links(nav)
    assert not set(top_links(nav)) & set(found["台账"] + found["管理"])
    assert len(top_links(nav)) + len(found) <= 7  # one row at 1024 px


def test_the_menu_holding_the_open_page_is_marked(client, auth, county):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    nav = nav_html(client, "/households")
    assert re.search(r'<details class="nav-menu active">\s*<summary>台账</summary>', nav)
    assert 'href="/households" class="active" aria-current="page"' in nav


def test_a_grid_worker_has_no_menus(client, auth, county):
    auth.as_role("grid_worker", ISSUE_GRID)
    nav = nav_html(client, "/field")
    assert "<details" not in nav
    assert "走访" in top_links(nav)
