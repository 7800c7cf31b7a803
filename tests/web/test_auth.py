"""Signing in and out, the guard on views, the language switch."""

import re

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from support import ONE_GRID, seed_one_grid

from gridmap import create_app
from gridmap.models import AppUser
from gridmap.users import create_user, reset_password
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import requires

PASSWORD = "correct horse"
GRID = ONE_GRID


@pytest.fixture
def accounts(db):
    seed_one_grid(db)
    return {
        "worker": create_user(db, "worker", "grid_worker", GRID, PASSWORD, name="王丽"),
        "admin": create_user(db, "admin", "admin", "532329", PASSWORD),
    }


def add_probes(app):
    """Extra guarded routes: for any role, for admins only, and in a JSON blueprint."""
    app.add_url_rule("/probe", "probe", requires("view_map")(lambda: "signed in"))
    app.add_url_rule("/admin-probe", "admin_probe", requires("manage_users")(lambda: "users page"))
    api = answers_with(Blueprint("api_probe", __name__), render_json)
    api.add_url_rule("/api/probe", "probe", requires("manage_users")(lambda: jsonify(ok=True)))
    app.register_blueprint(api)
    return app


@pytest.fixture
def probe_app(app):
    return add_probes(app)


@pytest.fixture
def client(probe_app):
    return probe_app.test_client()


def signed_in(client) -> bool:
    response = client.get("/probe")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def sign_in(client, login="worker", password=PASSWORD, **extra):
    return client.post("/sign-in", data={"login": login, "password": password, "remember": "y", **extra})


def test_sign_in_page_is_public_and_chinese_whatever_the_browser_says(client):
    response = client.get("/sign-in", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page
    assert re.search(r'<input checked id="remember"', page), "remember me is on by default"


def test_anonymous_page_visit_goes_to_sign_in_with_next(client):
    response = client.get("/probe?layer=grids")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/probe?layer%3Dgrids"


def test_signing_in_returns_to_next_and_remembers_the_device_for_30_days(client, accounts):
    response = sign_in(client, next="/map/grids.geojson")
    assert response.status_code == 302
    assert response.headers["Location"] == "/map/grids.geojson"
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert re.search(r"Expires=\w+, \d+ \w+ \d{4}", cookies["remember_token"])
    assert "HttpOnly" in cookies["remember_token"]
    page = client.get("/admin-probe").get_data(as_text=True)  # any page on base.html
    assert "王丽" in page and 'action="/sign-out"' in page


def test_remember_cookie_lasts_30_days_and_is_renewed_on_use(app, client, accounts, monkeypatch):
    assert app.config["REMEMBER_COOKIE_DURATION"].days >= 30
    monkeypatch.setenv("GRIDMAP_NOW", "2026-12-01T09:00:00+08:00")
    sign_in(client)
    monkeypatch.setenv("GRIDMAP_NOW", "2026-12-01T10:30:00+08:00")  # in use after 90 minutes
    renewed = client.get("/probe")
    assert any(c.startswith("remember_token=") for c in renewed.headers.getlist("Set-Cookie"))


def test_login_is_case_insensitive(client, accounts):
    assert sign_in(client, login=" Worker").status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(("login", "password"), [("worker", "wrong password"), ("nobody", PASSWORD)])
def test_bad_credentials_get_one_generic_message(client, accounts, login, password):
    response = sign_in(client, login=login, password=password)
    assert response.status_code == 200
    assert "账号或密码不正确。" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_empty_form_says_what_is_missing(client, accounts):
    page = client.post("/sign-in", data={}).get_data(as_text=True)
    assert "请输入账号。" in page and "请输入密码。" in page


def test_an_inactive_account_is_refused(client, accounts, db):
    accounts["worker"].active = False
    db.flush()
    response = sign_in(client)
    assert "此账号已停用" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_disabling_an_account_ends_its_sessions(client, accounts, db):
    sign_in(client)
    accounts["worker"].active = False
    db.flush()
    assert not signed_in(client)


def test_a_password_reset_ends_sessions_on_every_device(client, accounts, db):
    sign_in(client)
    reset_password(db, "worker", "a brand new one")
    assert not signed_in(client)


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "map",
])
def test_next_never_leaves_the_site(client, accounts, target):
    response = sign_in(client, next=target)
    assert response.headers["Location"] == "/field"  # the grid worker's home, on this site


def test_signing_out_needs_a_post(client, accounts):
    sign_in(client)
    assert client.get("/sign-out").status_code == 405
    response = client.post("/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert not signed_in(client)


def test_a_role_without_the_action_gets_403(client, accounts):
    sign_in(client)
    response = client.get("/admin-probe")
    assert response.status_code == 403
    assert "您的角色无权进行此操作" in response.get_data(as_text=True)
    api = client.get("/api/probe")
    assert api.status_code == 403 and api.get_json()["error"] == "forbidden"


def test_a_role_with_the_action_gets_in(client, accounts):
    sign_in(client, login="admin")
    assert client.get("/admin-probe").get_data(as_text=True) == "users page"


def test_anonymous_api_calls_get_401_json_not_a_redirect(client):
    response = client.get("/api/probe")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_language_switch_sets_a_cookie_and_english_follows(client):
    response = client.post("/language", data={"lang": "en", "next": "/sign-in"})
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


@pytest.mark.parametrize(("lang", "target"), [("fr", "/sign-in"), ("en", "https://evil.example/")])
def test_language_switch_ignores_unknown_languages_and_foreign_targets(client, lang, target):
    response = client.post("/language", data={"lang": lang, "next": target})
    assert response.headers["Location"] in ("/sign-in", "/")
    if lang == "fr":
        assert "lang=" not in response.headers.get("Set-Cookie", "")
    else:
        assert response.headers["Location"] == "/"


def test_a_signed_in_user_s_language_is_kept_on_the_account(client, accounts, db):
    sign_in(client)
    client.post("/language", data={"lang": "en", "next": "/"})
    assert db.scalars(select(AppUser.locale).where(AppUser.login == "worker")).one() == "en"
    client.delete_cookie("lang")
    assert "Sign out" in client.get("/admin-probe").get_data(as_text=True)


@pytest.fixture
def csrf_client(database_url, connection):
    """A client of an app with CSRF protection on, as in production."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True})
    app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield add_probes(app).test_client()
    app.extensions["gridmap.engine"].dispose()


def test_sign_in_without_the_csrf_token_is_refused(csrf_client, accounts):
    response = sign_in(csrf_client)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert csrf_client.get("/admin-probe").status_code == 302


def test_sign_in_and_out_with_the_csrf_token_work(csrf_client, accounts):
    page = csrf_client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert sign_in(csrf_client, csrf_token=token).status_code == 302
    assert csrf_client.post("/sign-out").status_code == 400  # no token: refused
    assert csrf_client.get("/admin-probe").status_code == 403  # signed in, not admin
    assert csrf_client.post("/sign-out", data={"csrf_token": token}).status_code == 302
