"""Audit retention: `gridmap audit prune` removes only rows older than the county's retention
(never younger than 180 days), as the owner role; the app role still cannot delete anything."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import psycopg2
import pytest
from sqlalchemy import text

from gridmap import audit
from gridmap.cli.audit import group as audit_cli
from gridmap.db import make_engine
from gridmap.errors import BadInput

NOW = "2026-11-23T09:00:00+08:00"
AGES = {"2023-01-10": 3, "2025-06-01": 2, "2026-10-01": 4}  # China dates → rows of that age


@pytest.fixture
def aged_log(fresh_database_url, test_databases, monkeypatch):
    """A committed database whose audit log has rows of three ages; its owner URL in env."""
    monkeypatch.setenv("GRIDMAP_NOW", NOW)
    owner = test_databases.owner_url_of(urlsplit(fresh_database_url).path.lstrip("/"))
    monkeypatch.setenv("GRIDMAP_OWNER_DATABASE_URL", owner)
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        for day, count in AGES.items():
            for _n in range(count):
                connection.execute(text(
                    "INSERT INTO audit_event (county_code, at, actor, action, detail)"
                    " VALUES ('532329', CAST(:at AS timestamptz), 'x', 'sign_in', '{}')"),
                    {"at": f"{day}T10:00:00+08:00"})
        connection.execute(text(
            "INSERT INTO audit_event (county_code, at, actor, action, detail)"
            " VALUES ('530681', '2023-01-10T10:00:00+08:00', 'x', 'sign_in', '{}')"))
    yield engine, owner
    engine.dispose()


def log(engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT county_code, (at AT TIME ZONE 'Asia/Shanghai')::date, action FROM audit_event"
            " ORDER BY id")).all()


def test_a_dry_run_counts_and_a_commit_removes_only_rows_past_the_retention(aged_log):
    engine, _owner = aged_log
    from click.testing import CliRunner

    runner = CliRunner()
    dry = runner.invoke(audit_cli, ["prune", "--county", "532329"])
    assert dry.exit_code == 0, dry.output
    assert "would remove (dry run; --commit deletes) 3 events" in dry.output  # 1095 days
    assert len(log(engine)) == 10
    done = runner.invoke(audit_cli, ["prune", "--county", "532329", "--commit"])
    assert done.exit_code == 0, done.output
    rows = log(engine)
    assert [r for r in rows if r[0] == "532329" and r[2] == "sign_in"] == [
        ("532329", date(2025, 6, 1), "sign_in")] * 2 + [("532329", date(2026, 10, 1), "sign_in")] * 4
    assert ("530681", date(2023, 1, 10), "sign_in") in rows  # another county's log is its own
    assert rows[-1][2] == "audit_prune"  # the prune is recorded


def test_a_prune_of_rows_younger_than_the_retention_is_refused(aged_log):
    engine, _owner = aged_log
    from click.testing import CliRunner

    result = CliRunner().invoke(audit_cli, ["prune", "--county", "532329", "--before",
                                            "2026-01-01", "--commit"])
    assert result.exit_code != 0 and "保留期" in result.output and "--before" in result.output
    assert len(log(engine)) == 10


@pytest.mark.parametrize("days", [0, 30, 179, "365", True])
def test_a_retention_under_six_months_is_refused(days):
    with pytest.raises(BadInput) as refused:
        audit.prune_cutoff(days)
    assert refused.value.field == "retention_days"


def test_the_guard_lets_through_neither_the_app_role_nor_a_recent_cut_off(aged_log):
    engine, owner = aged_log
    with engine.connect() as connection, pytest.raises(Exception) as denied:
        connection.execute(text("SELECT set_config('gridmap.audit_prune_before', '2024-01-01', true)"))
        connection.execute(text("DELETE FROM audit_event WHERE at < '2024-01-01'"))
    assert "permission denied" in str(denied.value)
    with psycopg2.connect(owner) as raw, raw.cursor() as cur:  # the owner, a cut-off of today
        cur.execute("SELECT set_config('gridmap.audit_prune_before', %s, true)",
                    (date.today().isoformat(),))
        with pytest.raises(psycopg2.Error) as refused:
            cur.execute("DELETE FROM audit_event")
        assert "append-only" in str(refused.value)
    for attack in ("DELETE FROM audit_event WHERE at < '2024-01-01'",  # no cut-off set
                   "UPDATE audit_event SET actor = 'y'"):
        with psycopg2.connect(owner) as raw, raw.cursor() as cur, pytest.raises(psycopg2.Error):
            cur.execute(attack)
    assert len(log(engine)) == 10
