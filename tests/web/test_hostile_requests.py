"""Hostile requests, generically: every state-changing route refuses a missing or forged CSRF
token (400, nothing written), oversized bodies are 413 with a message, names that try to climb
out of a directory reach nothing, and a disabled account's API token is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from support import OPEN_TOWNSHIP, AuthActions, seed_issue_county, seed_open_data_county, seed_user

from gridmap import create_app, tokens
from gridmap.importers.core import import_files
from gridmap.importers.sources import Source
from gridmap.users import set_active

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes exempt from the CSRF token, and why: they never act on a cookie session.
CSRF_EXEMPT = {
    "open311.create": "acts only as the account of the posted api_key (test_open311: a cookie "
                      "session cannot post)",
}


@pytest.fixture
def csrf_app(database_url, connection):
    """The app with CSRF protection on, as in production."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True})
    app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield app
    app.extensions["gridmap.engine"].dispose()


def state_changing_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL with every id filled in) of each state-changing route."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            url = rule.rule
            for argument in rule.arguments:
                url = re.sub(rf"<(?:[^:<>]+:)?{argument}>", "json" if argument == "fmt" else "1", url)
            routes.append((rule.endpoint, method, url))
    return routes


def counts(connection) -> tuple:
    return connection.execute(text(
        "SELECT (SELECT count(*) FROM audit_event), (SELECT count(*) FROM issue),"
        " (SELECT count(*) FROM issue_category), (SELECT count(*) FROM visit),"
        " (SELECT max(session_generation) FROM app_user)")).one()


@pytest.mark.parametrize("role, scope", [("admin", "532329"), ("township_staff", "532329104")])
def test_every_state_changing_route_refuses_a_missing_or_forged_csrf_token(
        csrf_app, connection, role, scope):
    seed_issue_county(connection)
    client = csrf_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    auth = AuthActions(client, connection)
    auth.sign_in = lambda login, password=None, **form: client.post("/sign-in", data={
        "login": login, "password": password or auth.password, "csrf_token": token, **form})
    auth.as_role(role, scope)
    routes = [r for r in state_changing_routes(csrf_app) if r[0] not in CSRF_EXEMPT]
    assert len(routes) >= 8, routes
    before = counts(connection)
    for endpoint, method, url in routes:
        for forged in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
            response = client.open(url, method=method, data={"code": "x", "name": "x", **forged},
                                   headers={"X-CSRFToken": forged.get("csrf_token", "")})
            assert response.status_code == 400, (endpoint, method, forged, response.status_code)
        response = client.open(url, method=method, json={"action": "triage", "version": 1},
                               headers={"X-CSRFToken": "forged"})
        assert response.status_code == 400, (endpoint, "json")
    assert counts(connection) == before  # nothing written, nobody signed out
    assert client.get("/password").status_code == 200  # still signed in


def test_the_exempt_routes_are_still_routes():
    app = create_app({"DATABASE_URL": "postgresql://unused/unused", "SECRET_KEY": "x",
                      "TESTING": True})
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(CSRF_EXEMPT) <= endpoints
    app.extensions["gridmap.engine"].dispose()


@pytest.mark.parametrize("url, body", [
    ("/api/issues", {"json": {"title": "x" * 4096, "category": "drinking_water"}}),
    ("/issues/new", {"data": {"title": "x" * 4096}}),
    ("/admin/categories", {"data": {"code": "x", "name": "x" * 4096}}),
])
def test_oversized_bodies_are_413_with_a_message(app, client, auth, url, body):
    auth.as_role("admin" if "admin" in url else "township_staff",
                 "532329" if "admin" in url else "532329104")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(url, **body)
    assert response.status_code == 413
    if url.startswith("/api/"):
        assert response.get_json()["error"] == "too_large"
        assert "太大" in response.get_json()["message"]
    else:
        assert "太大" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/static/../gridmap/config.py", "/static/%2e%2e/gridmap/config.py",
    "/static/..%2fgridmap/config.py", "/static/vendor/../../var/db.json", "/static/%2e%2e%2fvar/data.key",
    "/field-sw.js/../../var/db.json",
])
def test_paths_that_climb_out_of_static_reach_nothing(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    body = response.get_data(as_text=True)
    assert "DATABASE_URL" not in body and "password" not in body.lower()


@pytest.mark.parametrize("name", ["../../etc/passwd", "../issues.csv", "/etc/issues.csv",
                                  "..\\..\\issues.csv", "issues.csv/../../x.csv"])
def test_an_import_file_named_to_climb_directories_is_refused_by_name_not_opened(connection,
                                                                                 name):
    report = import_files(connection, [Source(name, b"code,title\nX,y\n")], "532329", commit=True)
    assert not report.committed
    assert name in report.to_text()
    assert connection.execute(text("SELECT count(*) FROM issue")).scalar() == 0


def test_a_disabled_accounts_token_is_refused_over_http_and_works_again_only_when_re_issued(
        client, connection, db):
    seed_open_data_county(connection)
    seed_user(connection, "township_staff", OPEN_TOWNSHIP, login="hotline")
    secret = tokens.issue(db, "hotline", "12345 热线平台").secret
    form = {"api_key": secret, "service_code": "water", "lat": "25.52", "long": "102.43"}
    set_active(db, "hotline", False)
    db.flush()
    assert client.post("/open311/v2/requests.json", data=form).status_code == 403
    set_active(db, "hotline", True)  # re-enabling does not revive the old token
    db.flush()
    assert client.post("/open311/v2/requests.json", data=form).status_code == 403
    fresh = tokens.issue(db, "hotline", "新令牌").secret
    assert client.post("/open311/v2/requests.json", data={**form, "api_key": fresh}).status_code == 200
