"""回访 as its own record: through the one transition service, a ledger, 不满意 reopens."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import issue_queries, issues
from gridmap.errors import BadInput, Conflict
from gridmap.models import Callback, IssueEvent, Visit

REACHED = {"channel": "phone", "reached": "true", "contacted_in_time": "true", "solved": "true"}


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(db.connection())
    return {"staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
            "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE)}


def handled(db, people, **data):
    actor = people["village"]
    issue = issues.report(db, actor, {"title": "自来水浑浊", "category": "drinking_water",
                                      "grid_code": ISSUE_GRID, **data})
    for action, note in (("triage", None), ("acknowledge", None), ("handle", "已更换滤网")):
        issue = issues.apply(db, issue.id, action, actor, expected_version=issue.version, note=note)
    return issue


def call_back(db, people, issue, **data):
    return issues.record_callback(db, issue.id, people["village"], expected_version=issue.version,
                                  data=data)


def actions_of(db, issue) -> list[str]:
    return list(db.execute(select(IssueEvent.action).where(IssueEvent.issue_id == issue.id)
                           .order_by(IssueEvent.id)).scalars())


def test_a_reached_callback_is_one_feed_back_event_and_one_callback_row(db, people):
    issue = handled(db, people)
    issue = call_back(db, people, issue, **REACHED, satisfaction="basically_satisfied", note="已回电")
    assert (issue.status, issue.satisfaction) == ("feedback", "basically_satisfied")
    assert actions_of(db, issue)[-1] == "feed_back"
    [row] = issue_queries.callbacks(db, issue)
    assert (row.channel, row.reached, row.contacted_in_time, row.solved, row.note) == (
        "phone", True, True, True, "已回电")
    assert row.by == f"village_staff-{ISSUE_VILLAGE}"
    issue = issues.apply(db, issue.id, "close", people["staff"], expected_version=issue.version)
    assert issue.status == "closed"


def test_unsatisfied_reopens_the_issue(db, people):
    issue = handled(db, people)
    issue = call_back(db, people, issue, **{**REACHED, "solved": "false"}, satisfaction="unsatisfied")
    assert issue.status == "in_progress" and issue.handling_due is not None
    assert actions_of(db, issue)[-2:] == ["feed_back", "reopen"]
    assert db.execute(select(IssueEvent.note).where(IssueEvent.issue_id == issue.id)
                      .order_by(IssueEvent.id.desc())).scalars().first() == issues.UNSATISFIED_NOTE


def test_an_unreached_attempt_is_recorded_and_the_issue_stays_handled(db, people):
    issue = handled(db, people)
    before = actions_of(db, issue)
    issue = call_back(db, people, issue, channel="phone", reached="false", unreached_reason="空号")
    assert issue.status == "handled" and actions_of(db, issue) == before
    [row] = issue_queries.callbacks(db, issue)
    assert (row.reached, row.unreached_reason, row.satisfaction) == (False, "空号", None)
    # anonymous and unreachable: close with the 无法回访 reason
    issue = issues.apply(db, issue.id, "close", people["staff"], expected_version=issue.version,
                         note="匿名反映，多次联系不上")
    assert (issue.status, issue.no_callback_reason) == ("closed", "匿名反映，多次联系不上")


def test_a_real_name_report_never_closes_without_a_reached_callback(db, people):
    issue = handled(db, people, real_name=True, reporter_name="张三", reporter_phone="13800001111")
    issue = call_back(db, people, issue, channel="phone", reached="false", unreached_reason="未接")
    with pytest.raises(Conflict) as refused:
        issues.apply(db, issue.id, "close", people["staff"], expected_version=issue.version,
                     note="联系不上")
    assert refused.value.field == "action"


@pytest.mark.parametrize(("data", "field"), [
    ({**REACHED, "satisfaction": "great"}, "satisfaction"),
    ({**REACHED, "solved": None, "satisfaction": "satisfied"}, "solved"),
    ({"channel": "fax", "reached": "true"}, "channel"),
    ({"channel": "phone", "reached": "false"}, "unreached_reason"),
    ({"channel": "phone"}, "reached"),
])
def test_incomplete_answers_name_the_field(db, people, data, field):
    issue = handled(db, people)
    with pytest.raises(BadInput) as refused:
        call_back(db, people, issue, **data)
    assert refused.value.field == field


def test_a_callback_before_handling_is_a_conflict(db, people):
    issue = issues.report(db, people["village"], {"title": "路灯不亮", "category": "drinking_water",
                                                  "grid_code": ISSUE_GRID})
    with pytest.raises(Conflict):
        call_back(db, people, issue, **REACHED, satisfaction="satisfied")
    with pytest.raises(Conflict):
        call_back(db, people, issue, channel="sms", reached="false", unreached_reason="未回复")


def test_a_registered_household_gets_a_callback_visit(db, people):
    household_id = db.execute(text(
        "INSERT INTO household (county_code, code, grid_code, village_code, head_name)"
        " VALUES ('532329', 'H-CB-1', :g, :v, '李四') RETURNING id"),
        {"g": ISSUE_GRID, "v": ISSUE_VILLAGE}).scalar()
    issue = handled(db, people)
    db.execute(text("UPDATE issue SET household_id = :h WHERE id = :i"),
               {"h": household_id, "i": issue.id})
    issue = call_back(db, people, issue, **{**REACHED, "channel": "visit"}, satisfaction="satisfied")
    callback = db.execute(select(Callback).where(Callback.issue_id == issue.id)).scalar_one()
    visit = db.get(Visit, callback.visit_id)
    assert (visit.kind, visit.household_id, visit.issue_id, visit.satisfaction) == (
        "callback", household_id, issue.id, "satisfied")


def test_callbacks_are_append_only(db, people):
    issue = call_back(db, people, handled(db, people), **REACHED, satisfaction="satisfied")
    db.flush()
    with pytest.raises(DBAPIError, match="append-only|permission denied"), db.begin_nested():
        db.execute(text("UPDATE callback SET satisfaction = 'unsatisfied' WHERE issue_id = :i"),
                   {"i": issue.id})
