"""API tokens: shown once, stored hashed, and dead when revoked, expired, disabled or when
the account's sessions end."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from support import seed_one_grid, seed_user

from gridmap import tokens
from gridmap.cli.tokens import group as tokens_cli
from gridmap.errors import BadInput, NotFound
from gridmap.users import set_active


@pytest.fixture
def account(db, connection):
    grid = seed_one_grid(db)
    seed_user(connection, "grid_worker", grid, login="wang01")
    return "wang01"


def test_a_token_acts_as_its_account_and_only_its_hash_is_kept(db, connection, account):
    issued = tokens.issue(db, "WANG01", "GIS 服务器")
    assert issued.secret.startswith("gm_") and len(issued.secret) > 40
    user = tokens.authenticate(db, issued.secret)
    assert user.login == account
    stored = connection.execute(text("SELECT secret_hash, last_used_at FROM api_token")).one()
    assert stored[0] == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert stored[1] is not None
    assert issued.secret not in str(connection.execute(text("SELECT * FROM api_token")).all())


def test_dead_tokens_are_refused(db, connection, account, monkeypatch):
    revoked, expiring, plain = (tokens.issue(db, account, label, days)
                                for label, days in (("a", 1), ("b", 1), ("c", None)))
    tokens.revoke(db, revoked.id)
    tokens.revoke(db, revoked.id)  # idempotent
    assert tokens.authenticate(db, revoked.secret) is None
    monkeypatch.setenv("GRIDMAP_NOW", (tokens.clock.now() + timedelta(days=2)).isoformat())
    assert tokens.authenticate(db, expiring.secret) is None
    assert tokens.authenticate(db, plain.secret) is not None
    set_active(db, account, False)
    db.flush()
    assert tokens.authenticate(db, plain.secret) is None
    states = {row["label"]: row["state"] for row in tokens.listing(db)}
    assert states == {"a": "revoked", "b": "expired", "c": "account disabled"}


def test_ending_the_sessions_ends_the_tokens(db, connection, account):
    issued = tokens.issue(db, account, "x")
    connection.execute(text("UPDATE app_user SET session_generation = session_generation + 1"))
    db.expire_all()
    assert tokens.authenticate(db, issued.secret) is None
    assert tokens.listing(db)[0]["state"] == "ended"


@pytest.mark.parametrize("secret", [None, "", "gm_", "gm_" + "a" * 200, "Bearer gm_x", "💥" * 50])
def test_malformed_secrets_are_refused_without_a_query(db, account, secret):
    assert tokens.authenticate(db, secret) is None


def test_issuing_checks_account_label_and_days(db, account):
    with pytest.raises(NotFound):
        tokens.issue(db, "nobody", "x")
    with pytest.raises(BadInput, match="用途"):
        tokens.issue(db, account, "  ")
    with pytest.raises(BadInput) as days:
        tokens.issue(db, account, "x", days=0)
    assert days.value.field == "days"
    set_active(db, account, False)
    with pytest.raises(BadInput, match="停用"):
        tokens.issue(db, account, "x")


def test_cli_prints_the_secret_once_and_lists_without_it(runner, account, connection):
    created = runner.invoke(tokens_cli, ["create", account, "--label", "热线", "--days", "30"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("gm_") and "not shown again" in created.stderr
    listed = runner.invoke(tokens_cli, ["list"])
    assert "热线" in listed.output and "active" in listed.output and secret not in listed.output
    assert runner.invoke(tokens_cli, ["revoke", "999999"]).exit_code != 0
    token_id = listed.output.split("\t", 1)[0]
    assert runner.invoke(tokens_cli, ["revoke", token_id]).exit_code == 0
    assert "revoked" in runner.invoke(tokens_cli, ["list"]).output
    logged = connection.execute(text(
        "SELECT action, actor, target FROM audit_event WHERE action LIKE 'token%' ORDER BY id")).all()
    assert [row[0] for row in logged] == ["token_issue", "token_revoke"]
    assert all(row[1].startswith("cli:") for row in logged) and logged[0][2] == f"user:{account}"
