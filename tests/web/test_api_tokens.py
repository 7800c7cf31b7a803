"""API tokens on the JSON APIs: `Authorization: Bearer gm_…` acts as its account, in its
scope; a token request needs no CSRF token but a cookie session's POST still does; a token
of a disabled account or a revoked one is refused; pages never open with a token."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from support import (
    ISSUE_COUNTY,
    ISSUE_TOWNSHIP,
    ISSUE_VILLAGE,
    AuthActions,
    seed_issue_county,
    seed_user,
)

from gridmap import create_app, tokens
from gridmap.users import set_active

REPORT = {"title": "插甸村自来水浑浊", "category": "drinking_water", "village_code": ISSUE_VILLAGE}


@pytest.fixture
def csrf_app(database_url, connection):
    """The app with CSRF on, as served, its sessions in the test's rolled-back transaction."""
    flask_app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test"})
    flask_app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield flask_app
    flask_app.extensions["gridmap.engine"].dispose()


@pytest.fixture
def hotline(connection, db, monkeypatch):
    """A township office account with a token, as `gridmap tokens create` issues it."""
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    seed_user(connection, "township_staff", ISSUE_TOWNSHIP, login="hotline")
    issued = tokens.issue(db, "hotline", "12345 热线平台")
    db.commit()
    return issued


def bearer(issued) -> dict:
    return {"Authorization": f"Bearer {issued.secret}"}


def test_a_token_reports_and_reads_issues_as_its_account_without_csrf(csrf_app, hotline):
    client = csrf_app.test_client()
    created = client.post("/api/issues", json=REPORT, headers=bearer(hotline))
    assert created.status_code == 201, created.get_json()
    issue = created.get_json()["issue"]
    assert "Set-Cookie" not in created.headers  # a token never opens a cookie session
    listed = client.get("/api/issues", headers=bearer(hotline))
    assert listed.status_code == 200
    assert issue["code"] in [row["code"] for row in listed.get_json()["issues"]]
    detail = client.get(f"/api/issues/{issue['id']}", headers=bearer(hotline)).get_json()
    assert "triage" in detail["actions"]


def test_a_token_of_another_township_does_not_see_the_issue(csrf_app, hotline, connection, db):
    client = csrf_app.test_client()
    issue = client.post("/api/issues", json=REPORT, headers=bearer(hotline)).get_json()["issue"]
    connection.execute(text("INSERT INTO region (county_code, code, level, name, parent_code)"
                            " VALUES (:c, :t, 'township', '狮山镇', :c)"),
                       {"c": ISSUE_COUNTY, "t": ISSUE_COUNTY + "101"})
    seed_user(connection, "township_staff", ISSUE_COUNTY + "101", login="shishan")
    other = tokens.issue(db, "shishan", "狮山镇的 GIS")
    db.commit()
    assert client.get(f"/api/issues/{issue['id']}", headers=bearer(other)).status_code == 404
    assert client.get("/api/issues", headers=bearer(other)).get_json()["issues"] == []


def test_a_cookie_session_post_still_needs_its_csrf_token(csrf_app, hotline, connection):
    client = csrf_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    csrf_token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = client.post("/sign-in", data={"login": "hotline", "csrf_token": csrf_token,
                                              "password": AuthActions.password})
    assert signed_in.status_code == 302
    refused = client.post("/api/issues", json=REPORT)
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
    # a Bearer header that is not a working token does not stand in for the CSRF token
    forged = client.post("/api/issues", json=REPORT, headers={"Authorization": "Bearer gm_x"})
    assert forged.status_code in (400, 401)
    accepted = client.post("/api/issues", json=REPORT, headers={"X-CSRFToken": csrf_token})
    assert accepted.status_code == 201, accepted.get_json()


def test_tokens_of_a_disabled_account_and_revoked_tokens_are_refused(csrf_app, hotline, db):
    client = csrf_app.test_client()
    kept = tokens.issue(db, "hotline", "kept for later")
    db.commit()
    assert client.get("/api/issues", headers=bearer(kept)).status_code == 200
    tokens.revoke(db, hotline.id)
    db.commit()
    refused = client.post("/api/issues", json=REPORT, headers=bearer(hotline))
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"
    set_active(db, "hotline", False)
    db.commit()
    for method in (client.get, client.post):
        refused = method("/api/issues", json=REPORT, headers=bearer(kept))
        assert refused.status_code == 401, refused.get_json()
    assert client.get("/api/issues", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_pages_do_not_open_with_a_token(csrf_app, hotline):
    response = csrf_app.test_client().get("/issues", headers=bearer(hotline))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
