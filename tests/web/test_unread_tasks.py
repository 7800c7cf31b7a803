"""Unread tasks: an issue of my tasks with a step by someone else since I last opened it."""

import re

import pytest
from sqlalchemy.orm import Session
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import issue_queries, issues


@pytest.fixture
def people(client, connection, auth, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    worker = seed_user(connection, "grid_worker", ISSUE_GRID)
    village = seed_user(connection, "village_staff", ISSUE_VILLAGE)
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    return Session(bind=connection, join_transaction_mode="create_savepoint"), worker, village


def nav(client) -> tuple[str | None, str | None]:
    """(open count, unread count) shown beside 我的待办 in the navigation."""
    page = client.get("/issues").get_data(as_text=True)
    link = re.search(r'<a href="/issues/mine"[^>]*>(.*?)</a>', page, re.S)
    if link is None:
        return None, None
    count = re.search(r'class="nav-count"[^>]*>(\d+)<', link.group(1))
    unread = re.search(r'class="nav-unread"[^>]*>(\d+)', link.group(1))
    return count and count.group(1), unread and unread.group(1)


def report(session, worker, title):
    issue = issues.report(session, worker, {"title": title, "category": "drinking_water",
                                            "grid_code": ISSUE_GRID})
    session.flush()
    return issue


def test_a_new_report_is_unread_until_opened_and_a_later_step_makes_it_unread_again(
        client, people):
    session, worker, village = people
    first, second = report(session, worker, "自来水浑浊"), report(session, worker, "路灯不亮")
    assert nav(client) == ("2", "2")  # two tasks (to triage), both new to me
    mine = client.get("/issues/mine").get_data(as_text=True)
    assert "待办 2 件，其中 2 件有新进展未读" in mine and mine.count("gm-unread") == 2
    assert client.get(f"/issues/{first.id}").status_code == 200  # opening it reads it
    assert nav(client) == ("2", "1")
    assert client.get(f"/api/issues/{second.id}").status_code == 200  # so does the API
    assert nav(client) == ("2", None)
    assert "gm-unread" not in client.get("/issues/mine").get_data(as_text=True)
    # my own step is no news to me; the issue leaves my tasks (the village's now)
    triaged = client.post(f"/api/issues/{first.id}/actions",
                          json={"action": "triage", "version": first.version}).get_json()["issue"]
    assert nav(client) == ("1", None)
    # the village sends it up again: back in my tasks, and unread
    issues.apply(session, first.id, "escalate", village, expected_version=triaged["version"],
                 note="村里办不了")
    session.flush()
    assert nav(client) == ("2", "1")


def test_unread_is_per_user(people):
    session, worker, village = people
    issue = report(session, worker, "自来水浑浊")
    other = seed_user(session.connection(), "township_staff", ISSUE_TOWNSHIP, login="township2")
    assert issue_queries.task_counts(session, other) == issue_queries.TaskCounts(1, 1)
    issue_queries.mark_read(session, other, issue)
    assert issue_queries.task_counts(session, other) == issue_queries.TaskCounts(1, 0)
    assert issue_queries.task_counts(session, village) == issue_queries.TaskCounts(1, 1)
    assert issue_queries.task_counts(session, worker) == issue_queries.TaskCounts(0, 0)
