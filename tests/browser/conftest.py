"""Headless Chromium against the real app on 127.0.0.1, over the committed demo county.

Debian's /usr/bin/chromium, driven by Playwright: no browser is ever downloaded. One
browser and one server per session; each test opens its own context (cookies, viewport).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import DEMO_USERS, load_demo_county, served

CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("GRIDMAP_SHOTS", "/tmp/gridmap-shots"))
WAIT_MS = 90_000  # the longest any page action or expectation waits (Playwright's default: 30 s)
# The committed demo county (data/demo), loaded the way `make run` loads it.
@pytest.fixture(scope="session")
def base_url(committed_db_url, tmp_path_factory):
    """The app over the committed demo county (its photos and uploads in directories of the session's)."""
    load_demo_county(committed_db_url)
    with served(committed_db_url, GRIDMAP_FILES_DIR=str(tmp_path_factory.mktemp("files")),
                GRIDMAP_UPLOADS_DIR=str(tmp_path_factory.mktemp("uploads"))) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)  # expect()'s own default is 5 s

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
        self.page.fill("input[name=password]", DEMO_USERS[login])
        with self.page.expect_navigation():
            self.page.click("button[type=submit].primary")
        # Only the page under test counts (the sign-in page is tests/browser/test_auth*'s).
        self.sign_in_errors, self.errors = self.errors, []

    def image_width(self, selector: str) -> int:
        """The natural width of the first image matching `selector` once it has loaded and
        decoded (0 never means "not yet"): an <img> in the DOM may still be loading, and a
        lazy one loads only when scrolled into view. A broken image fails here."""
        image = self.page.locator(selector).first
        image.scroll_into_view_if_needed()
        return image.evaluate("img => img.decode().then(() => img.naturalWidth)")

    def screenshot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        # a picture taken while a font is still loading shows the fallback's metrics
        self.page.evaluate("() => document.fonts.ready.then(() => true)")
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def open_page(browser):
    """open_page(width, height) -> PageWatch in a fresh context; closed after the test."""
    contexts = []

    def opener(width: int, height: int, **options) -> PageWatch:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN", **options)
        # Waits, not speed checks: a CI machine shared with other jobs can take longer than
        # Playwright's 30 s to sign in and draw a county's map, which then fails at random.
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return PageWatch(context.new_page())

    yield opener
    for context in contexts:
        context.close()
