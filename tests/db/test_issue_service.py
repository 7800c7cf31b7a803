"""Every transition through one service: the row, the lock on its version, one event each."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import issues
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound
from gridmap.models import Issue, IssueEvent

MONDAY = "2026-11-23T09:00:00+08:00"


@pytest.fixture
def county(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
    units = seed_issue_county(db.connection())
    people = {
        "staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
        "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE),
        "worker": seed_user(db.connection(), "grid_worker", ISSUE_GRID),
        "handler": seed_user(db.connection(), "unit_handler", ISSUE_TOWNSHIP,
                             unit_id=units[ISSUE_TOWNSHIP + "S11"]),
        "other_township": seed_user(db.connection(), "township_staff", "532329101"),
    }
    return units, people


def new_issue(db, actor, **data) -> Issue:
    return issues.report(db, actor, {"title": "自来水浑浊", "category": "drinking_water",
                                     "grid_code": ISSUE_GRID, **data})


def act(db, issue, action, actor, **kw) -> Issue:
    return issues.apply(db, issue.id, action, actor, expected_version=issue.version, **kw)


def events(db, issue) -> list[IssueEvent]:
    return list(db.execute(select(IssueEvent).where(IssueEvent.issue_id == issue.id)
                           .order_by(IssueEvent.id)).scalars())


def test_report_to_close_writes_one_event_per_step_with_actor_unit_and_deadline(db, county):
    units, people = county
    issue = new_issue(db, people["worker"], real_name=True, reporter_name="张三",
                      reporter_phone="13800001111")
    assert (issue.status, issue.level, issue.village_code) == ("reported", "village", ISSUE_VILLAGE)
    assert issue.triage_due == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 24 h
    issue = act(db, issue, "triage", people["village"])
    assert issue.responsible_unit_id == units[ISSUE_VILLAGE + "V"]  # 小事不出村: the 村委会
    # five working days from Monday 09:00 China time: Monday next week
    assert issue.handling_due == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    issue = act(db, issue, "acknowledge", people["village"])
    assert issue.acknowledged_at is not None
    issue = act(db, issue, "handle", people["village"], note="已更换滤网")
    issue = act(db, issue, "feed_back", people["village"], callback={
        "channel": "phone", "reached": True, "contacted_in_time": True, "solved": True,
        "satisfaction": "satisfied", "unreached_reason": None, "note": None})
    issue = act(db, issue, "close", people["staff"])
    assert (issue.status, issue.version) == ("closed", 6)
    ledger = events(db, issue)
    assert [e.action for e in ledger] == ["report", "triage", "acknowledge", "handle",
                                          "feed_back", "close"]
    assert [e.to_status for e in ledger][-1] == issue.status
    assert ledger[0].actor_id == people["worker"].id and ledger[-1].actor_id == people["staff"].id
    assert ledger[1].unit_id == units[ISSUE_VILLAGE + "V"]
    assert ledger[1].due_at == issue.handling_due


def test_a_stale_version_is_a_conflict_saying_the_state_and_what_is_allowed(db, county):
    _units, people = county
    issue = new_issue(db, people["worker"])
    first = act(db, issue, "triage", people["staff"])
    with pytest.raises(Conflict) as refused:
        issues.apply(db, issue.id, "triage", people["staff"], expected_version=issue.version)
    assert "已分拨" in str(refused.value) and "签收" in str(refused.value)
    assert refused.value.status == 409
    assert len(events(db, first)) == 2


def test_an_impossible_action_is_a_conflict_naming_the_allowed_ones(db, county):
    _units, people = county
    issue = new_issue(db, people["worker"])
    with pytest.raises(Conflict, match="已上报.*不能办结.*受理分拨"):
        act(db, issue, "handle", people["staff"])


def test_out_of_scope_is_not_found_and_a_role_without_the_action_is_forbidden(db, county):
    _units, people = county
    issue = new_issue(db, people["worker"])
    with pytest.raises(NotFound):
        act(db, issue, "triage", people["other_township"])
    with pytest.raises(Forbidden):
        act(db, issue, "triage", people["worker"])
    with pytest.raises(BadInput) as bad:
        act(db, issue, "reject", people["staff"])
    assert bad.value.field == "note"


def test_escalation_names_the_unit_above_and_a_new_deadline(db, county):
    units, people = county
    issue = act(db, new_issue(db, people["worker"]), "triage", people["village"])
    issue = act(db, issue, "escalate", people["village"], note="村里无力解决")
    assert issue.level == "township"
    assert issue.responsible_unit_id == units[ISSUE_TOWNSHIP + "S11"]
    issue = act(db, issue, "escalate", people["staff"], note="需县水务局")
    assert (issue.level, issue.responsible_unit_id) == ("county", units["A014"])
    last = events(db, issue)[-1]
    assert (last.action, last.level, last.unit_id) == ("escalate", "county", units["A014"])
    assert last.due_at == issue.handling_due
    with pytest.raises(Conflict, match="不能上交"):
        act(db, issue, "escalate", people["staff"], note="?")


def test_dispatch_down_and_a_wrong_dispatch_sent_back(db, county):
    units, people = county
    issue = act(db, new_issue(db, people["worker"]), "triage", people["staff"],
                unit=ISSUE_TOWNSHIP + "S11")
    issue = act(db, issue, "escalate", people["staff"], note="上交乡镇")
    issue = act(db, issue, "dispatch", people["staff"], to_level="village")
    assert (issue.status, issue.level) == ("triaged", "village")
    assert issue.responsible_unit_id == units[ISSUE_VILLAGE + "V"]
    handler_issue = act(db, act(db, new_issue(db, people["worker"]), "triage", people["staff"],
                                unit=ISSUE_TOWNSHIP + "S11"), "return", people["handler"],
                        note="不属水务站职责")
    assert (handler_issue.status, handler_issue.responsible_unit_id) == ("reported", None)


def test_rework_and_resolve_on_spot(db, county):
    _units, people = county
    spot = act(db, new_issue(db, people["worker"]), "resolve_on_spot", people["worker"],
               note="当场疏通")
    assert spot.status == "handled" and spot.feedback_due is not None
    again = act(db, spot, "rework", people["staff"], note="核查未通")
    assert again.status == "in_progress"


def test_close_needs_feedback_or_a_reason_and_real_names_always_need_feedback(db, county):
    _units, people = county
    anonymous = act(db, new_issue(db, people["worker"]), "resolve_on_spot", people["worker"],
                    note="当场疏通")
    with pytest.raises(Conflict, match="无法回访"):
        act(db, anonymous, "close", people["staff"])
    closed = act(db, anonymous, "close", people["staff"], note="匿名反映，无法回访")
    assert closed.no_callback_reason == "匿名反映，无法回访"
    named = act(db, new_issue(db, people["worker"], real_name=True, reporter_name="张三",
                              reporter_phone="13800001111"),
                "resolve_on_spot", people["worker"], note="当场疏通")
    with pytest.raises(Conflict, match="实名"):
        act(db, named, "close", people["staff"], note="联系不上")


def test_bad_reports_name_their_field(db, county):
    _units, people = county
    for data, field in (({"title": ""}, "title"), ({"category": "nope"}, "category"),
                        ({"grid_code": "532329101201001"}, "grid_code"),
                        ({"real_name": True}, "reporter_name"), ({"urgency": "now"}, "urgency"),
                        ({"lon": "x", "lat": "1"}, "lon")):
        with pytest.raises(BadInput) as bad:
            new_issue(db, people["worker"], **data)
        assert bad.value.field == field, data


def test_the_same_client_uuid_reports_once(db, county):
    _units, people = county
    first = new_issue(db, people["worker"], client_uuid="6f9cbfb2-3a6e-4131-9c37-d7e3af4a07d9")
    again = new_issue(db, people["worker"], client_uuid="6f9cbfb2-3a6e-4131-9c37-d7e3af4a07d9")
    assert first.id == again.id and len(events(db, first)) == 1


def test_escalate_raises_only_overdue_issues_and_a_second_run_changes_nothing(db, county, monkeypatch):
    _units, people = county
    late = act(db, new_issue(db, people["worker"]), "triage", people["village"])
    fresh = new_issue(db, people["worker"])
    later = (datetime.fromisoformat(MONDAY) + timedelta(days=8)).isoformat()
    monkeypatch.setenv("GRIDMAP_NOW", later)
    raised = issues.escalate_overdue(db)
    assert {i.id for i in raised} == {late.id, fresh.id}  # fresh: its triage is 7 days late
    assert issues.escalate_overdue(db) == []
    last = events(db, late)[-1]
    assert (last.action, last.actor_id, last.level) == ("escalate", None, "township")
    assert last.note == "逾期未办，系统自动上交"  # the record, as made; shown translated (|stored)
    assert db.execute(text("SELECT count(*) FROM issue_event WHERE action = 'escalate'")).scalar() == 2
