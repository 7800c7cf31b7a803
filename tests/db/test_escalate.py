"""`gridmap escalate` twice at once on a committed database: each overdue issue goes up once."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session
from support import ISSUE_GRID, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import issues
from gridmap.db import make_engine

REPORTED = "2026-11-23T09:00:00+08:00"
TWO_WEEKS_LATER = "2026-12-07T09:00:00+08:00"
GRIDMAP = Path(sys.executable).with_name("gridmap")


def seed_overdue(url: str, count: int, monkeypatch) -> None:
    monkeypatch.setenv("GRIDMAP_NOW", REPORTED)
    engine = make_engine(url)
    with engine.begin() as connection:
        seed_issue_county(connection)
        worker = seed_user(connection, "grid_worker", ISSUE_GRID)
        staff = seed_user(connection, "village_staff", ISSUE_VILLAGE)
        session = Session(bind=connection)
        for n in range(count):
            issue = issues.report(session, worker, {"title": f"第{n}件", "category": "drinking_water",
                                                    "grid_code": ISSUE_GRID})
            if n % 2:  # half triaged (handling late), half never triaged (triage late)
                issues.apply(session, issue.id, "triage", staff, expected_version=issue.version)
        session.flush()
    engine.dispose()


def escalate(url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "GRIDMAP_NOW": TWO_WEEKS_LATER}
    return subprocess.Popen([str(GRIDMAP), "escalate"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_two_parallel_runs_escalate_each_overdue_issue_once_and_a_third_changes_nothing(
        fresh_database_url, monkeypatch):
    seed_overdue(fresh_database_url, 40, monkeypatch)
    runs = [escalate(fresh_database_url) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    counts = [int(out.strip().splitlines()[-1].split()[-1]) for out in outputs]
    assert sum(counts) == 40, outputs
    third = escalate(fresh_database_url)
    output = third.communicate(timeout=120)[0]
    assert third.returncode == 0 and output.strip().endswith("escalated 0"), output
    engine = make_engine(fresh_database_url)
    with engine.connect() as connection:
        per_issue = connection.execute(text(
            "SELECT i.level, i.version, count(e.id) FROM issue i LEFT JOIN issue_event e"
            " ON e.issue_id = i.id AND e.action = 'escalate' GROUP BY i.id")).all()
        last_is_status = connection.execute(text(
            "SELECT bool_and(i.status = (SELECT to_status FROM issue_event e WHERE e.issue_id = i.id"
            " ORDER BY e.at DESC, e.id DESC LIMIT 1)) FROM issue i")).scalar()
    engine.dispose()
    assert {(level, escalations) for level, _version, escalations in per_issue} == {("township", 1)}
    assert last_is_status
