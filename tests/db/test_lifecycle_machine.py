"""Random actions by random roles through the one transition service, on PostGIS.

Whatever happens: the issue is never in an impossible state, every change writes exactly one
event (so the events number the versions), the issue is in the state its last event led to,
a refusal changes nothing, and the time spent in each state adds up to the issue's age.
"""

import os
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import issues, lifecycle
from gridmap.errors import GridmapError
from gridmap.models import HANDLING_LEVELS, ISSUE_STATUSES, IssueEvent

START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
ROLES = ("village", "staff", "handler", "worker", "leader")
ANY_ACTION = sorted(lifecycle.ACTIONS) + ["callback"]


def next_step(data, status: str) -> tuple:
    """(role, action, note?, 回访 answer, minutes later): mostly an action the state allows,
    sometimes any action at all (which the service must refuse cleanly)."""
    allowed = lifecycle.allowed_actions(status) + (["callback"] if status == "handled" else [])
    action = data.draw(st.one_of(st.sampled_from(allowed), st.sampled_from(ANY_ACTION))
                       if allowed else st.sampled_from(ANY_ACTION))
    return (data.draw(st.sampled_from(ROLES)), action, data.draw(st.booleans()),
            data.draw(st.sampled_from(("satisfied", "basically_satisfied", "unsatisfied", None))),
            data.draw(st.integers(1, 6 * 24 * 60)))


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", START.isoformat())
    units = seed_issue_county(db.connection())
    return {"staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
            "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE),
            "worker": seed_user(db.connection(), "grid_worker", ISSUE_GRID),
            "handler": seed_user(db.connection(), "unit_handler", ISSUE_TOWNSHIP,
                                 unit_id=units[ISSUE_TOWNSHIP + "S11"]),
            "leader": seed_user(db.connection(), "leader", ISSUE_TOWNSHIP[:6])}


def ledger(db, issue_id) -> list[IssueEvent]:
    return list(db.execute(select(IssueEvent).where(IssueEvent.issue_id == issue_id)
                           .order_by(IssueEvent.at, IssueEvent.id)).scalars())


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), length=st.integers(0, 16))
def test_random_roles_never_reach_an_impossible_state(db, people, data, length):
    now = START
    os.environ["GRIDMAP_NOW"] = now.isoformat()
    savepoint = db.begin_nested()
    try:
        issue = issues.report(db, people["worker"], {"title": "自来水浑浊", "category": "drinking_water",
                                                     "grid_code": ISSUE_GRID})
        for _ in range(length):
            role, action, with_note, satisfaction, minutes = next_step(data, issue.status)
            now += timedelta(minutes=minutes)
            os.environ["GRIDMAP_NOW"] = now.isoformat()
            before = issues.get(db, None, issue.id)
            state = (before.status, before.level, before.version)
            try:
                if action == "callback":
                    issue = issues.record_callback(
                        db, issue.id, people[role], expected_version=before.version, data={
                            "channel": "phone", "reached": satisfaction is not None,
                            "contacted_in_time": True, "solved": satisfaction == "satisfied",
                            "satisfaction": satisfaction, "unreached_reason": "未接"})
                else:
                    issue = issues.apply(db, issue.id, action, people[role],
                                         expected_version=before.version,
                                         note="说明" if with_note else None)
                    assert (issue.status, issue.level) == lifecycle.apply(
                        state[0], state[1], action, "说明" if with_note else None)
            except GridmapError:
                after = issues.get(db, None, issue.id)
                assert (after.status, after.level, after.version) == state  # a refusal changes nothing
                issue = after
            assert issue.status in ISSUE_STATUSES and issue.level in HANDLING_LEVELS
            event(f"reached {issue.status}")
            events = ledger(db, issue.id)
            assert len(events) == issue.version  # the report, then one event per change
            assert (events[-1].to_status, events[-1].level) == (issue.status, issue.level)
        events = ledger(db, issue.id)
        stays = [later.at - earlier.at for earlier, later in zip(events, events[1:], strict=False)]
        assert all(stay >= timedelta(0) for stay in stays)
        assert sum(stays, now - events[-1].at) == now - issue.reported_at
        assert db.scalar(select(func.count()).select_from(IssueEvent).where(
            IssueEvent.issue_id == issue.id, IssueEvent.from_status.is_(None))) == 1
    finally:
        savepoint.rollback()
