"""The English UI end to end: the language switch, then the sign-in page and the map in English."""

from __future__ import annotations

import html
import re

import pytest

from gridmap.models import Grid, Region
from gridmap.users import create_user

PASSWORD = "correct horse"
COUNTY, TOWNSHIP, VILLAGE = "532329", "532329104", "532329104201"
GRID = VILLAGE + "001"


def square(west: float, south: float, size: float) -> str:
    east, north = west + size, south + size
    return (f"SRID=4326;MULTIPOLYGON((({west} {south},{east} {south},{east} {north},"
            f"{west} {north},{west} {south})))")


@pytest.fixture
def township_staff(db):
    """A township with one village of one grid, and a member of its staff."""
    db.add_all([
        Region(county_code=COUNTY, code=COUNTY, level="county", name="武定县",
               geom=square(102.3, 25.5, 0.2)),
        Region(county_code=COUNTY, code=TOWNSHIP, level="township", name="插甸镇",
               parent_code=COUNTY, geom=square(102.4, 25.5, 0.1)),
        Region(county_code=COUNTY, code=VILLAGE, level="village", name="插甸村",
               parent_code=TOWNSHIP, geom=square(102.4, 25.5, 0.05)),
        Grid(county_code=COUNTY, code=GRID, village_code=VILLAGE, name="下龙潭",
             geom=square(102.4, 25.5, 0.05)),
    ])
    db.flush()
    return create_user(db, "staff", "township_staff", TOWNSHIP, PASSWORD,
                       name="乡镇干部（插甸镇综治中心）")


def switch_language(client, lang: str, page: str) -> str:
    """Press the language button on `page`, follow the redirect, return the page's HTML."""
    before = client.get(page).get_data(as_text=True)
    assert f'name="lang" value="{lang}"' in before, "the switch is on the page"
    response = client.post("/language", data={"lang": lang, "next": page})
    assert response.status_code == 302 and response.headers["Location"] == page
    return client.get(page).get_data(as_text=True)


def visible_text(page: str) -> str:
    """The page's text without scripts, styles and tags (what a reader sees)."""
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_sign_in_page_switches_to_english(client):
    page = switch_language(client, "en", "/sign-in")
    assert '<html lang="en">' in page
    text = visible_text(page)
    for english in ("Community Map", "Sign in", "Username", "Password",
                    "Keep me signed in on this device", "Forgot your password?"):
        assert english in text
    # The switch names its languages in their own script, whatever the UI language.
    assert "中文" in text
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("中文", ""))


def test_sign_in_errors_are_english_too(client, township_staff):
    switch_language(client, "en", "/sign-in")
    assert "Enter your username." in client.post("/sign-in", data={}).get_data(as_text=True)
    wrong = client.post("/sign-in", data={"login": "staff", "password": "nope"})
    assert "Wrong username or password." in wrong.get_data(as_text=True)


def test_the_map_page_is_english_after_the_switch(client, township_staff):
    switch_language(client, "en", "/sign-in")
    response = client.post("/sign-in", data={"login": "staff", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    text = visible_text(page)
    assert "Map · Community Map" in text and "Sign out" in text
    assert "乡镇干部（插甸镇综治中心）" in text  # names are data: never translated
    # The legend (kept in a <template> until Leaflet places it), the layer names and the
    # popup labels are built by Folium's script.
    for english in ("Households per grid", "Schematic map", "Township boundaries",
                    '"Grids by households"', '"households_n": "%(n)s"',
                    '"context": "Outside your scope; shown for orientation only"'):
        assert english in page
    # No Chinese is left but the user's name, the names of the county and township the map
    # is of, and the switch's own "中文" (GeoJSON names are \u-escaped in the script).
    rest = page.replace("乡镇干部（插甸镇综治中心）", "")
    for data in ("武定县", "插甸镇", "中文"):
        rest = rest.replace(data, "")
    assert not re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", rest)


def test_switching_back_on_the_map_page_gives_chinese(client, township_staff):
    client.post("/sign-in", data={"login": "staff", "password": PASSWORD})
    assert "Sign out" in switch_language(client, "en", "/")
    page = switch_language(client, "zh_CN", "/")
    assert '<html lang="zh-CN">' in page and "退出" in page and "网格户数" in page

