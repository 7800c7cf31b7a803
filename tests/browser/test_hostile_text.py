"""Stored text is data, never code: hostile text in every text column, every route, every role.

Every free-text column of every table (found from the SQLAlchemy metadata, so a new column
is covered without touching this file) is filled with the shared hostile strings of
tests/hostile_text.py. Then each demo role opens every page and JSON route: each answers
200 (or its normal refusal), `{{ 7*191 }}` never becomes 1337, and every HTML page is read
as a browser would build it (html.parser): no element, handler or script came from stored
text, nothing is fetched from elsewhere, every asset it loads is there.

A page whose only script is the navigation's (nav.js, which reads no data) shows exactly
what the server sent, so those checks are the whole story for it. Every page that runs more
script than that (maps, the tablet, the grid editor, pages that fetch JSON or read a data
island) is opened in Chromium as well, where stored text could still become markup: its
shown text stays literal, no dialog opens, no console error, no request leaves 127.0.0.1.
"""

from __future__ import annotations

import io
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pyogrio
import pytest
from hostile_text import HOSTILE_STRINGS, evaluated, hostile_text
from sqlalchemy import CheckConstraint, String, UniqueConstraint, text
from support import DEMO_USERS, load_demo_county, served

from gridmap import create_app
from gridmap.db import make_engine
from gridmap.exports.tabular import FORMATS
from gridmap.models import Base
from gridmap.web.exports import GPKG

XLSX = FORMATS["xlsx"]
LITERAL = HOSTILE_STRINGS[0]  # "{{ 7*191 }}": what every name starts with after set-up
# Columns the test must leave alone so the demo roles can still sign in.
CREDENTIALS = {("app_user", "login"), ("app_user", "password_hash")}
# Sample values for route arguments a converter does not enumerate (`any(...)` does).
# A sampled row may lie outside a role's scope: there 404 is its normal refusal (never say which).
# Issue 194 (MQ000194) is open, in 插甸村第1网格: most demo roles see it (and its buttons);
# issue 146 (MQ000146), in the same grid, is closed with its 回访 records.
ROUTE_SAMPLES: dict[str, dict[str, str]] = {
    "issues.detail": {"issue_id": "194"}, "issues_api.issue": {"issue_id": "146"},
    "issues.print": {"issue_id": "146"},
    "ogc.collection": {"collection_id": "grids"}, "ogc.items": {"collection_id": "regions"},
    "ogc.item": {"collection_id": "grids", "feature_id": "532329101001001"},
    "open311.service_definition": {"service_code": "drinking_water"},
    "open311.request": {"service_request_id": "MQ000002"},
    # a household of the demo grid worker's grid
    "field.household": {"household_id": "3622"}, "field.visit": {"household_id": "3622"},
    "field.issue": {"issue_id": "194"},
    # the residents' page of 插甸村 and its QR code; an issue's duplicate suggestions
    "residents.report": {"village_code": "532329104201"},
    "controls.qr": {"village_code": "532329104201"},
    "controls_api.duplicates": {"issue_id": "194"},
    # photos are pictures without text; the demo has none, so each answers 404
    "files.photo": {"file_id": "1"}, "files.thumb": {"file_id": "1"},
    # the demo's ledgers: a 挂牌 target of 狮山镇 (struck off) and the first meeting; the demo
    # has no campaign (a missing one answers 404)
    "ledgers.target": {"target_id": "3"}, "ledgers.meeting": {"meeting_id": "1"},
    "ledgers.campaign": {"campaign_id": "1"},
    # the register: the household above, and the demo cadre's handover page
    "register.household": {"household_id": "3622"}, "people.handover": {"cadre_id": "421"},
    # people: the demo cadre, the 站所 of 插甸镇 (unit_handler's unit); an account: grid_worker's
    "people.cadre": {"cadre_id": "421"}, "people.unit": {"unit_id": "96"},
    "admin.user": {"user_id": "1"},
    # an import upload is its uploader's alone, kept a day: one never stored answers 404
    "imports.report": {"upload_id": "0" * 32}, "imports.progress": {"upload_id": "0" * 32},
}
# Downloads for other systems' API tokens only (the coverage gaps, never public).
TOKEN_ONLY = {"/exports/gaps.geojson", "/exports/gaps.gpkg"}
# Endpoints that are not pages or JSON of ours.
NOT_PAGES = {"static"}


def why_left_alone(table, column, checks: str) -> str | None:
    """Why a text column cannot hold free text (None: it can, so it gets the hostile text)."""
    if (table.name, column.name) in CREDENTIALS:
        return "needed to sign in as the demo roles"
    if column.primary_key:
        return "primary key"
    if column.computed is not None:
        return "written by PostgreSQL from the row's own columns (a generated column)"
    if column.foreign_keys:
        return "a reference to another row"
    if column.name == "code" or column.name.endswith("_code"):
        return "an identifier (region/grid/row code), format-checked at the door"
    if re.search(rf"\b{re.escape(column.name)}\b", checks):
        return "held to fixed values or a format by a CHECK constraint"
    return None


def free_text_columns():
    """(table, column, why left alone or None, unique?) for every String/Text column."""
    for table in Base.metadata.sorted_tables:
        checks = " ".join(str(c.sqltext) for c in table.constraints
                          if isinstance(c, CheckConstraint))
        unique = {col.name for c in table.constraints if isinstance(c, UniqueConstraint)
                  for col in c.columns}
        unique |= {col.name for index in table.indexes if index.unique for col in index.columns}
        for column in table.columns:
            if isinstance(column.type, String):
                yield (table, column, why_left_alone(table, column, checks),
                       column.unique or column.name in unique)


def write_hostile_text(admin_url: str) -> dict[str, str]:
    """Fill every free-text column of every row; returns column -> what was done."""
    done = {}
    engine = make_engine(admin_url)
    with engine.begin() as connection:
        # Superuser only: lets the append-only issue_event take the text too.
        connection.execute(text("SET session_replication_role = replica"))
        for table, column, reason, unique in free_text_columns():
            name = f"{table.name}.{column.name}"
            if reason:
                done[name] = f"left alone: {reason}"
                continue
            length = column.type.length
            if unique:  # keep rows distinct: the text, then the row's own address
                value = hostile_text(length - 16 if length else None)
                setter = f"left(:value, {length or 100000} - 16) || ' ' || ctid::text"
            else:
                value, setter = hostile_text(length), ":value"
            connection.execute(text(f'UPDATE "{table.name}" SET "{column.name}" = {setter}'),
                               {"value": value})
            done[name] = "hostile text"
    engine.dispose()
    return done


@pytest.fixture(scope="module")
def hostile_county(test_databases, template_db):
    """The demo county with hostile text in every free-text column of every row."""
    name = f"{test_databases.prefix}_hostile"
    url = test_databases.create(name, template=template_db)
    load_demo_county(url)
    return url, write_hostile_text(test_databases.admin_url_of(name))


def test_names_notes_and_titles_hold_the_hostile_text(hostile_county):
    _url, done = hostile_county
    for column in ("region.name", "grid.name", "household.head_name", "household.address",
                   "issue.title", "issue_event.note", "visit.notes", "app_user.display_name"):
        assert done[column] == "hostile text", done
    # Everything left alone is an identifier, a reference, a constrained value or a login.
    assert all(v == "hostile text" or v.startswith("left alone: ") for v in done.values())


def route_urls(app, sampled: set[str] | None = None) -> list[str]:
    """One URL per GET route (every value of an `any(...)` argument); URLs built from
    ROUTE_SAMPLES are also added to `sampled`."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_PAGES or "GET" not in rule.methods:
            continue
        choices = [{}]
        for argument in rule.arguments:
            converter = rule._converters[argument]
            values = sorted(getattr(converter, "items", ()))
            if not values:
                sample = ROUTE_SAMPLES.get(rule.endpoint, {}).get(argument)
                assert sample, f"add a sample for {rule.endpoint} <{argument}> to ROUTE_SAMPLES"
                values = [sample]
            choices = [{**c, argument: v} for c in choices for v in values]
        built = [rule.build(c, append_unknown=False)[1] for c in choices]
        urls += built
        if sampled is not None and rule.endpoint in ROUTE_SAMPLES:
            sampled.update(built)
    return sorted(set(urls))


@pytest.fixture(scope="module")
def hostile_app(hostile_county):
    url, _done = hostile_county
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "hostile", "TESTING": True,
                      "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["gridmap.engine"].dispose()


@pytest.fixture(scope="module")
def script_pages_of() -> dict[str, list[str]]:
    """login -> the HTML pages it may open that run script on data, as the crawl below
    found them (so the Chromium test need not crawl again)."""
    return {}


@pytest.mark.parametrize("login", sorted(DEMO_USERS))
def test_every_route_shows_stored_text_literally(hostile_app, script_pages_of, login):
    client = hostile_app.test_client()
    response = client.post("/sign-in", data={"login": login, "password": DEMO_USERS[login]})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    seen, sampled, assets, script_pages = {}, set(), {}, []
    for url in route_urls(hostile_app, sampled):
        response = client.get(url)
        body = text_of(response)
        refusals = (302, 403, 404) if url in sampled else (302, 403)
        if url in TOKEN_ONLY:  # a signed-in session is not an API token: 401, saying how to get one
            refusals += (401,)
        assert response.status_code in (200, *refusals), (url, response.status_code, body[:300])
        if response.status_code == 302:  # e.g. the sign-in page sends a signed-in user home
            assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
        assert not evaluated(body), f"{url} evaluated stored text as a template"
        if response.status_code == 200 and response.mimetype == "text/html":
            page = PageMarkup.of(body)
            if page.runs_script_on_data:
                script_pages.append(url)
            assert page.injected == [], f"{url}: stored text became markup: {page.injected}"
            assert LITERAL in body, url  # the display name, in the top bar
            for asset in page.assets:
                assert urlsplit(asset).netloc in ("", "localhost"), f"{url} loads {asset}"
                if asset not in assets:
                    assets[asset] = client.get(asset).status_code
                assert assets[asset] == 200, f"{url} loads {asset}: {assets[asset]}"
        seen[url] = body
    assert LITERAL in seen["/"]  # the user's own display name, in the top bar
    script_pages_of[login] = script_pages
    grids = client.get("/map/grids.geojson").get_json()
    for feature in grids["features"]:
        assert feature["properties"]["name"].startswith(LITERAL)


def text_of(response) -> str:
    """The response body as text; an XLSX or GeoPackage download as the text of its cells."""
    if response.mimetype == GPKG:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "download.gpkg"  # GDAL wants the extension of its kind
            path.write_bytes(response.get_data())
            frame = pyogrio.read_dataframe(path, read_geometry=False)
        return "\n".join(str(cell) for row in frame.itertuples(index=False) for cell in row
                         if cell is not None)
    if response.mimetype == XLSX:
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row if cell is not None)
    return response.get_data(as_text=True)


# The one script that reads no data: it opens and closes the navigation's menus.
NAVIGATION_ONLY = "/static/nav.js"


class PageMarkup(HTMLParser):
    """An HTML page as a browser parses it: the assets it loads, the scripts it runs, and
    what could only have come from stored text turned into markup (`injected`): an event
    handler, a `javascript:` address, a script neither ours by address nor by nonce."""

    RESOURCES = {"script": "src", "img": "src", "iframe": "src", "source": "src",
                 "video": "src", "audio": "src", "embed": "src", "object": "data"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.assets: list[str] = []
        self.scripts: list[str] = []
        self.injected: list[str] = []

    @classmethod
    def of(cls, html: str) -> PageMarkup:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.injected.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction", "data") and value \
                    and value.strip().lower().startswith("javascript:"):
                self.injected.append(f"<{tag} {name}={value[:40]}>")
        resource = attributes.get(self.RESOURCES.get(tag, ""))
        if tag == "link" and attributes.get("rel") in ("stylesheet", "icon", "manifest", "preload"):
            resource = attributes.get("href")
        if resource:
            self.assets.append(resource)
        if tag == "script":
            kind = attributes.get("type", "")
            if kind == "application/json":
                self.scripts.append("data island")
            elif attributes.get("src"):
                self.scripts.append(urlsplit(attributes["src"]).path)
            elif attributes.get("nonce"):
                self.scripts.append("inline (nonce)")
            else:
                self.injected.append("<script> without src or nonce")

    @property
    def runs_script_on_data(self) -> bool:
        """Does anything beyond the navigation's menus run on (or read data into) this page?"""
        return any(script != NAVIGATION_ONLY for script in self.scripts)


def test_page_markup_finds_injected_markup_and_the_pages_that_run_script():
    escaped = PageMarkup.of('<p>&lt;img src=x onerror=alert(1)&gt; {{ 7*191 }}</p>'
                            '<script src="/static/nav.js" defer></script>')
    assert escaped.injected == [] and not escaped.runs_script_on_data
    assert escaped.assets == ["/static/nav.js"]
    raw = PageMarkup.of('<p><img src=x onerror=alert(1)></p></script><script>alert(1)</script>'
                        '<a href="javascript:alert(1)">x</a>')
    assert raw.injected == ["<img onerror=…>", "<script> without src or nonce",
                            "<a href=javascript:alert(1)>"]
    assert PageMarkup.of('<script type="application/json" id="d">{}</script>').runs_script_on_data
    assert PageMarkup.of('<script nonce="n">go()</script>').runs_script_on_data
    assert PageMarkup.of('<script src="/static/map.js"></script>').runs_script_on_data


def script_pages(app, login) -> list[str]:
    """The HTML pages `login` may open that run script on data (only those need Chromium;
    the rest are checked whole by test_every_route_shows_stored_text_literally)."""
    client = app.test_client()
    response = client.post("/sign-in", data={"login": login, "password": DEMO_USERS[login]})
    assert response.status_code == 302
    return [url for url in route_urls(app)
            if (r := client.get(url)).status_code == 200 and r.mimetype == "text/html"
            and PageMarkup.of(r.get_data(as_text=True)).runs_script_on_data]


@pytest.fixture(scope="module")
def hostile_base_url(hostile_county):
    url, _done = hostile_county
    with served(url) as base_url:
        yield base_url


@pytest.mark.parametrize("login", sorted(DEMO_USERS))
def test_chromium_shows_hostile_names_as_text_and_opens_no_dialog(
        hostile_app, hostile_base_url, script_pages_of, open_page, login):
    pages = script_pages_of.get(login) or script_pages(hostile_app, login)
    assert "/" in pages  # every role's home is the map, which map.js draws
    watch = open_page(1024, 768)
    dialogs = []
    watch.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    watch.sign_in(hostile_base_url, login)
    for path in pages:
        watch.page.goto(hostile_base_url + path)
        watch.page.wait_for_load_state("networkidle")
        if watch.page.locator("#gm-map-config").count():
            watch.page.wait_for_selector("[data-layers=loaded]")
        body = watch.page.locator("body").inner_text()
        assert not evaluated(body), path
        assert LITERAL in body, path  # the display name, and on the map the labels
    if login in ("leader", "grid_worker"):
        watch.screenshot(f"hostile-{login}")
    assert dialogs == []
    assert watch.errors == []
    assert watch.outside_requests() == []
