"""Headless Chromium against the real app on 127.0.0.1, over a committed database.

Debian's /usr/bin/chromium, driven by Playwright: no browser is ever downloaded. One
browser and one server per session; each test opens its own context (cookies, viewport).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from gridmap import create_app
from gridmap.db import make_engine

CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("GRIDMAP_SHOTS", "/tmp/gridmap-shots"))
COUNTY = "532329"
PASSWORD = "browser-test-1"
# Demo-like: three townships (real 武定县 names), five villages each, 2×2 grids per village.
TOWNSHIPS = [("532329101", "狮山镇"), ("532329104", "插甸镇"), ("532329202", "发窝乡")]
USERS = {  # login -> (role, scope code)
    "leader": ("leader", COUNTY),
    "township": ("township_staff", "532329104"),
    "gridworker": ("grid_worker", "532329104003002"),
}


def _envelope(west: float, south: float, east: float, north: float) -> str:
    return f"ST_Multi(ST_MakeEnvelope({west}, {south}, {east}, {north}, 4326))"


def load_demo_like_rows(url: str) -> None:
    """A small county whose grids tile its villages, with households counted per grid."""
    from gridmap.users import hash_password

    engine = make_engine(url)
    with engine.begin() as conn:
        west0, south0, width, height = 102.20, 25.45, 0.12, 0.25
        conn.execute(text(
            "INSERT INTO region (county_code, code, level, name, geom) VALUES (:c, :c, 'county',"
            f" '武定县', {_envelope(west0, south0, west0 + 3 * width, south0 + height)})"),
            {"c": COUNTY})
        for t, (township, name) in enumerate(TOWNSHIPS):
            west = west0 + t * width
            conn.execute(text(
                "INSERT INTO region (county_code, code, level, name, parent_code, geom) VALUES"
                f" (:c, :code, 'township', :name, :c,"
                f" {_envelope(west, south0, west + width, south0 + height)})"),
                {"c": COUNTY, "code": township, "name": name})
            for v in range(5):
                village, south = f"{township}{v + 1:03d}", south0 + v * height / 5
                north = south + height / 5
                conn.execute(text(
                    "INSERT INTO region (county_code, code, level, name, parent_code, geom) VALUES"
                    " (:c, :code, 'village', :name, :parent,"
                    f" {_envelope(west, south, west + width, north)})"),
                    {"c": COUNTY, "code": village, "name": f"{name[:2]}{'一二三四五'[v]}村",
                     "parent": township})
                for g in range(4):
                    gw, gs = west + (g % 2) * width / 2, south + (g // 2) * height / 10
                    conn.execute(text(
                        "INSERT INTO grid (county_code, code, village_code, name, geom,"
                        " household_target) VALUES (:c, :code, :village, :name,"
                        f" {_envelope(gw, gs, gw + width / 2, gs + height / 10)}, 300)"),
                        {"c": COUNTY, "code": f"{village}{g + 1:03d}", "village": village,
                         "name": f"{name[:2]}{'一二三四五'[v]}村第{g + 1}网格"})
        # Households per grid: 0 to ~480, a few grids empty, placed inside their grid.
        conn.execute(text(
            "INSERT INTO household (county_code, code, grid_code, village_code, head_name, geom)"
            " SELECT g.county_code, g.code || lpad(i::text, 4, '0'), g.code, g.village_code,"
            " '户主', ST_PointOnSurface(g.geom)"
            " FROM (SELECT *, row_number() OVER (ORDER BY code) AS n FROM grid) g,"
            " generate_series(1, (g.n * 97 % 480)::int) i WHERE g.n % 11 <> 0"))
        for login, (role, scope) in USERS.items():
            conn.execute(text(
                "INSERT INTO app_user (county_code, login, password_hash, role, scope_code)"
                " VALUES (:c, :login, :hash, :role, :scope)"),
                {"c": COUNTY, "login": login, "hash": hash_password(PASSWORD), "role": role,
                 "scope": scope})
    engine.dispose()


@pytest.fixture(scope="session")
def base_url(committed_db_url):
    """The real app (CSRF on, real sign-in) served on a free 127.0.0.1 port."""
    from werkzeug.serving import make_server

    load_demo_like_rows(committed_db_url)
    app = create_app({"DATABASE_URL": committed_db_url, "SECRET_KEY": "browser-tests"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridmap-test-server",
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["gridmap.engine"].dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"])
        yield chromium
        chromium.close()


class PageWatch:
    """A page that records console errors, uncaught exceptions and every request's host."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def outside_requests(self) -> list[str]:
        return [url for url in self.requests
                if not url.startswith("data:") and urlsplit(url).hostname != "127.0.0.1"]

    def sign_in(self, base_url: str, login: str) -> None:
        self.page.goto(f"{base_url}/sign-in")
        self.page.fill("input[name=login]", login)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button[type=submit].primary")
        # Only the page under test counts (the sign-in page is tests/browser/test_auth*'s).
        self.sign_in_errors, self.errors = self.errors, []

    def screenshot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def open_page(browser):
    """open_page(width, height) -> PageWatch in a fresh context; closed after the test."""
    contexts = []

    def opener(width: int, height: int, **options) -> PageWatch:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN", **options)
        contexts.append(context)
        return PageWatch(context.new_page())

    yield opener
    for context in contexts:
        context.close()
