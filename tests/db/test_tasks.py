"""My tasks: what waits for a unit handler's unit, a village, a township, a 回访."""

import pytest
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import issue_queries, issues
from gridmap.policy import Scope


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    units = seed_issue_county(db.connection())
    return {"staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
            "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE),
            "worker": seed_user(db.connection(), "grid_worker", ISSUE_GRID),
            "handler": seed_user(db.connection(), "unit_handler", ISSUE_TOWNSHIP,
                                 unit_id=units[ISSUE_TOWNSHIP + "S11"]),
            "leader": seed_user(db.connection(), "leader", ISSUE_TOWNSHIP[:6])}


def counts(db, people) -> dict[str, int]:
    return {name: issue_queries.task_count(db, user) for name, user in people.items()}


def step(db, issue, action, actor, **kw):
    return issues.apply(db, issue.id, action, actor, expected_version=issue.version, **kw)


def test_tasks_follow_the_issue_from_office_to_office(db, people):
    issue = issues.report(db, people["worker"], {"title": "自来水浑浊", "category": "drinking_water",
                                                 "grid_code": ISSUE_GRID})
    assert counts(db, people) == {"staff": 1, "village": 1, "worker": 0, "handler": 0, "leader": 0}
    issue = step(db, issue, "triage", people["village"])
    assert counts(db, people)["staff"] == 0 and counts(db, people)["village"] == 1
    issue = step(db, issue, "escalate", people["village"], note="村级无法解决")
    assert counts(db, people) == {"staff": 1, "village": 0, "worker": 0, "handler": 1, "leader": 0}
    issue = step(db, issue, "acknowledge", people["handler"])
    issue = step(db, issue, "handle", people["handler"], note="已修复")
    assert counts(db, people)["handler"] == 0 and counts(db, people)["worker"] == 1  # 回访 due
    rows = issue_queries.queue(db, Scope.of_user(people["worker"]),
                               only=issue_queries.tasks_of(people["worker"]))
    assert [row.id for row in rows] == [issue.id]
