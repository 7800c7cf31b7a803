"""The first administrator: created at set-up with a one-time password printed once, which must
be changed at the first sign-in before anything else; changing one's own password."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from support import seed_one_grid

from gridmap.cli.users import group as users_cli
from gridmap.models import AppUser, AuditEvent
from gridmap.users import InvalidOption, check_password, create_user, first_admin

NEW_PASSWORD = "my own password"


def test_a_county_without_an_administrator_gets_one_with_a_one_time_password(db):
    seed_one_grid(db)
    user, password = first_admin(db, "532329")
    assert (user.login, user.role, user.scope_code, user.must_change_password) == (
        "admin", "admin", "532329", True)
    assert check_password(user.password_hash, password) and len(password) >= 12
    assert first_admin(db, "532329") is None  # there is one now


def test_the_first_administrator_takes_a_free_login(db):
    seed_one_grid(db)
    create_user(db, "admin", "leader", "532329", "leader password")
    user, _password = first_admin(db, "532329")
    assert user.login == "admin2"


def test_no_administrator_without_the_county_s_region(db):
    with pytest.raises(InvalidOption):
        first_admin(db, "532329")


def test_the_command_prints_the_password_once(runner, db):
    seed_one_grid(db)
    first = runner.invoke(users_cli, ["first-admin", "--county", "532329"])
    assert first.exit_code == 0, first.output
    password = re.search(r"one-time password (\S+)", first.output).group(1)
    assert check_password(db.scalars(select(AppUser)).one().password_hash, password)
    second = runner.invoke(users_cli, ["first-admin", "--county", "532329"])
    assert (second.exit_code, second.output) == (0, "")


@pytest.fixture
def one_time(db):
    seed_one_grid(db)
    return first_admin(db, "532329")


def test_a_one_time_password_opens_only_the_change_password_page(client, one_time, db):
    user, password = one_time
    response = client.post("/sign-in", data={"login": "admin", "password": password})
    assert response.status_code == 302
    assert client.get("/issues").headers["Location"].endswith("/password")
    assert client.get("/audit").headers["Location"].endswith("/password")
    assert client.get("/api/issues").status_code == 403
    assert "一次性密码" in client.get("/password").get_data(as_text=True)
    refused = client.post("/password", data={"current": password, "password": NEW_PASSWORD,
                                             "repeat": NEW_PASSWORD + "x"})
    assert refused.status_code == 422
    refused = client.post("/password", data={"current": "not it at all", "password": NEW_PASSWORD,
                                             "repeat": NEW_PASSWORD})
    assert refused.status_code == 422
    changed = client.post("/password", data={"current": password, "password": NEW_PASSWORD,
                                             "repeat": NEW_PASSWORD})
    assert changed.status_code == 302
    assert client.get("/audit").status_code == 200  # this device stays signed in
    db.refresh(user)
    assert not user.must_change_password and check_password(user.password_hash, NEW_PASSWORD)
    assert [e.action for e in db.scalars(select(AuditEvent).where(
        AuditEvent.target == "user:admin").order_by(AuditEvent.id))] == [
        "user_create", "sign_in", "user_change_password"]
    other = client.application.test_client()
    assert other.post("/sign-in", data={"login": "admin", "password": password}).status_code == 200
