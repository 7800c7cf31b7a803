"""Sessions that end: sign-out, disable, role and password changes kill every earlier cookie;
the server decides a token's lifetime; "keep me signed in" decides between a browser session
and 30 days; failed sign-ins are throttled per login and per address."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support import ONE_GRID, seed_one_grid

from gridmap.users import create_user, set_active, set_role

PASSWORD = "correct horse"
GRID = ONE_GRID
T0 = datetime.fromisoformat("2026-12-01T09:00:00+08:00")
COOKIES = ("session", "remember_token")


@pytest.fixture
def worker(db):
    seed_one_grid(db)
    return create_user(db, "worker", "grid_worker", GRID, PASSWORD)


@pytest.fixture
def at(monkeypatch):
    """at(minutes=…) moves the one clock to T0 + that much."""
    def move(**delta):
        monkeypatch.setenv("GRIDMAP_NOW", (T0 + timedelta(**delta)).isoformat())
    move()
    return move


def sign_in(client, login="worker", password=PASSWORD, remember=True):
    data = {"login": login, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/sign-in", data=data)


def signed_in(client) -> bool:
    return client.get("/map/grids.geojson").status_code == 200


def kept_cookies(client) -> dict[str, str]:
    return {name: c.value for name in COOKIES if (c := client.get_cookie(name)) is not None}


def bring_back(client, cookies: dict[str, str]) -> None:
    for name in COOKIES:
        client.delete_cookie(name)
    for name, value in cookies.items():
        client.set_cookie(name, value)


def test_sign_out_ends_every_earlier_cookie_on_every_device(app, worker, at):
    tablet, phone = app.test_client(), app.test_client()
    sign_in(tablet), sign_in(phone)
    old = kept_cookies(tablet)
    assert "remember_token" in old and signed_in(tablet) and signed_in(phone)
    response = tablet.post("/sign-out")
    assert response.headers["Clear-Site-Data"] == '"cache"'
    bring_back(tablet, old)
    assert not signed_in(tablet)
    bring_back(tablet, {"remember_token": old["remember_token"]})  # the remember cookie alone
    assert not signed_in(tablet)
    assert not signed_in(phone)


def test_re_enabling_an_account_does_not_revive_its_old_cookies(app, worker, db, at):
    client = app.test_client()
    sign_in(client)
    old = kept_cookies(client)
    set_active(db, "worker", False)
    set_active(db, "worker", True)
    bring_back(client, old)
    assert not signed_in(client)
    sign_in(client)
    assert signed_in(client)


def test_a_role_change_ends_the_accounts_sessions(app, worker, db, at):
    client = app.test_client()
    sign_in(client)
    set_role(db, "worker", "village_staff", "532329104201")
    assert not signed_in(client)


def test_unticked_keep_me_signed_in_gives_a_browser_session(app, worker, at):
    client = app.test_client()
    response = sign_in(client, remember=False)
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None
    assert client.get_cookie("session").expires is None  # ends with the browser
    assert signed_in(client)


def test_the_server_ends_a_short_session_after_twelve_hours(app, worker, at):
    client = app.test_client()
    sign_in(client, remember=False)
    at(hours=11)
    assert signed_in(client)
    at(hours=11 + 13)  # renewed at 11 h, so its lifetime ran from there
    assert not signed_in(client)


def test_a_remembered_tablet_in_use_stays_signed_in_and_an_idle_one_expires(app, worker, at):
    busy, idle = app.test_client(), app.test_client()
    sign_in(busy), sign_in(idle)
    for day in range(1, 61, 7):  # used weekly for two months
        at(days=day)
        assert signed_in(busy), day
    at(days=61)
    bring_back(idle, kept_cookies(idle))
    assert not signed_in(idle)  # 61 days without use: past the 30-day lifetime


def test_repeated_failures_make_the_login_wait_even_with_the_right_password(app, worker, at):
    client = app.test_client()
    for _ in range(5):
        assert "账号或密码不正确" in sign_in(client, password="wrong").get_data(as_text=True)
    response = sign_in(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 30
    assert "尝试次数过多，请 1 分钟后再试" in response.get_data(as_text=True)
    at(seconds=31)
    assert sign_in(client).status_code == 302
    assert signed_in(client)


def test_each_further_failure_doubles_the_wait(app, worker, at):
    client = app.test_client()
    for _ in range(5):
        sign_in(client, password="wrong")
    at(seconds=31)
    sign_in(client, password="wrong")  # the sixth failure
    assert int(sign_in(client).headers["Retry-After"]) == 60


def test_one_address_guessing_many_logins_is_slowed_too(app, worker, at):
    client = app.test_client()
    for n in range(20):
        sign_in(client, login=f"guess{n}", password="wrong")
    assert sign_in(client, login="someone-else", password="x").status_code == 429


def test_a_successful_sign_in_clears_the_logins_failures(app, worker, at):
    client = app.test_client()
    for _ in range(4):
        sign_in(client, password="wrong")
    assert sign_in(client).status_code == 302
    client.post("/sign-out")
    for _ in range(4):
        sign_in(client, password="wrong")
    assert sign_in(client).status_code == 302
