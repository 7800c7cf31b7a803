"""Every page a role may open renders in Chinese and in English.

Routes added later are covered without touching this file. Written after the English issue
queue answered 500: its translated hint said "80% of its time", and Jinja formats every string
of a template with %, so the lone % raised (tests/unit/test_i18n_catalog.py now refuses such a
string; this test catches whatever else only shows when a page is rendered in a language)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

from gridmap.issues import report
from gridmap.models import AppUser
from gridmap.policy import allowed
from gridmap.web.guard import GUARD_ATTRIBUTE

ROLES = {"leader": "532329", "inspector": "532329", "admin": "532329",
         "township_staff": ISSUE_TOWNSHIP, "village_staff": ISSUE_VILLAGE,
         "grid_worker": ISSUE_VILLAGE + "001"}
# Not pages: machine answers (their own tests), downloads and the service worker.
NOT_PAGES = ("/api/", "/ogc", "/open311", "/exports/", "/map/", "/field-sw.js", "/healthz")


def pages(app, role: str) -> list[str]:
    """The GET routes without arguments that `role` may open."""
    found = []
    for rule in app.url_map.iter_rules():
        action = getattr(app.view_functions[rule.endpoint], GUARD_ATTRIBUTE, None)
        if ("GET" in rule.methods and not rule.arguments and action
                and not rule.rule.startswith(NOT_PAGES) and allowed(role, action)):
            found.append(rule.rule)
    return sorted(found)


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    connection.execute(text("INSERT INTO household (county_code, code, grid_code, village_code,"
                            " head_name, phone) VALUES ('532329', 'HL1', :g, :v, '张三', '13812345678')"),
                       {"g": ISSUE_VILLAGE + "001", "v": ISSUE_VILLAGE})


def reported_by(connection, login: str) -> int:
    """The id of an issue `login` reports in the seeded grid."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        reporter = session.query(AppUser).filter_by(login=login).one()
        issue = report(session, reporter, {"title": "水管破裂", "category": "drinking_water",
                                           "grid_code": ISSUE_VILLAGE + "001"})
        session.commit()
        return issue.id


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_page_of_a_role_renders_in_both_languages(app, client, auth, county, connection, role):
    login = auth.as_role(role, ROLES[role])
    if allowed(role, "report_issue"):  # something in the queues and ledgers to show
        reported_by(connection, login)
    failed = []
    for language in ("zh_CN", "en"):
        client.set_cookie("lang", language)
        for url in pages(app, role):
            response = client.get(url)
            if response.status_code >= 500:
                failed.append(f"{language} {url}: {response.status_code}")
    assert not failed, "pages that failed to render:\n" + "\n".join(failed)


def test_punctuation_around_values_follows_the_language(app, client, auth, county, connection):
    issue_id = reported_by(connection, auth.as_role("township_staff", ISSUE_TOWNSHIP))
    category = {}
    for language in ("zh_CN", "en"):
        client.set_cookie("lang", language)
        html = client.get(f"/issues/{issue_id}").get_data(as_text=True)
        category[language] = html.split("<dd>", 2)[2].split("</dd>", 1)[0]  # the second <dd>
    assert category["zh_CN"].startswith("饮水") and "（" in category["zh_CN"] and "）" in category["zh_CN"]
    assert "（" not in category["en"] and " (" in category["en"] and ")" in category["en"]
