"""Case controls through the one service: 延期, 督办, 催办, 挂账 reviews, 作废, duplicates and 合并."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from support import (
    ISSUE_COUNTY,
    ISSUE_GRID,
    ISSUE_TOWNSHIP,
    ISSUE_VILLAGE,
    seed_issue_county,
    seed_user,
)

from gridmap import controls, issue_queries, issues, metrics
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound
from gridmap.models import Issue, IssueEvent, IssueExtension
from gridmap.policy import Scope

MONDAY = "2026-11-23T09:00:00+08:00"
HERE = {"lon": "102.40000", "lat": "25.55000"}
FIFTY_METRES_EAST = {"lon": "102.40050", "lat": "25.55000"}
FIVE_KM_EAST = {"lon": "102.45000", "lat": "25.55000"}


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
    units = seed_issue_county(db.connection())
    return {
        "units": units,
        "staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
        "staff2": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP,
                            login="township_staff-2"),
        "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE),
        "worker": seed_user(db.connection(), "grid_worker", ISSUE_GRID),
        "handler": seed_user(db.connection(), "unit_handler", ISSUE_TOWNSHIP,
                             unit_id=units[ISSUE_TOWNSHIP + "S11"]),
        "leader": seed_user(db.connection(), "leader", ISSUE_COUNTY),
        "inspector": seed_user(db.connection(), "inspector", ISSUE_COUNTY),
    }


def new_issue(db, actor, **data) -> Issue:
    return issues.report(db, actor, {"title": "自来水浑浊", "category": "drinking_water",
                                     "grid_code": ISSUE_GRID, **data})


def act(db, issue, action, actor, **kw) -> Issue:
    return issues.apply(db, issue.id, action, actor, expected_version=issue.version, **kw)


def control(db, issue, name, actor, **data) -> Issue:
    return controls.take(db, issue.id, name, actor, {"version": issue.version, **data})


def in_progress(db, people, level_actor="village") -> Issue:
    issue = new_issue(db, people["worker"])
    issue = act(db, issue, "triage", people[level_actor])
    return act(db, issue, "acknowledge", people[level_actor])


def actions_of(db, issue) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.from_status, e.to_status) for e in db.execute(
        select(IssueEvent).where(IssueEvent.issue_id == issue.id).order_by(IssueEvent.id)).scalars()]


# --- 延期 ------------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_handling_deadline_and_is_an_event(db, people):
    issue = in_progress(db, people)
    before = issue.handling_due  # Monday next week, 09:00 China time
    issue = control(db, issue, "ask_extension", people["village"], new_due="2026-12-07",
                    note="需等待管材到货")
    assert issue.handling_due == before  # asking moves nothing
    issue = control(db, issue, "grant_extension", people["staff"], note="同意")
    assert issue.handling_due == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # same clock time
    assert issue.status == "in_progress"
    assert actions_of(db, issue)[-2:] == [("ask_extension", "in_progress", "in_progress"),
                                          ("grant_extension", "in_progress", "in_progress")]
    request = db.scalar(select(IssueExtension).where(IssueExtension.issue_id == issue.id))
    assert (request.decision, request.decided_by) == ("granted", people["staff"].id)
    timeline = issue_queries.timeline(db, issue)
    assert timeline[-1].action == "grant_extension" and timeline[-1].due_at == issue.handling_due


def test_approving_ones_own_extension_is_refused_with_403(db, people):
    issue = in_progress(db, people, "staff")
    issue = act(db, issue, "escalate", people["staff"], note="需乡镇协调")  # township level
    issue = control(db, issue, "ask_extension", people["staff"], new_due="2026-12-10",
                    note="协调中")
    with pytest.raises(Forbidden) as refused:
        control(db, issue, "grant_extension", people["staff"])
    assert refused.value.status == 403 and "自己" in str(refused.value)
    with pytest.raises(Forbidden) as refused:  # a colleague at the same level is not above
        control(db, issue, "grant_extension", people["staff2"])
    assert "县级" in str(refused.value)
    issue = control(db, issue, "grant_extension", people["leader"])
    assert issue.handling_due.astimezone(UTC).date() == date(2026, 12, 10)


def test_extension_refusals_name_what_is_wrong(db, people):
    issue = in_progress(db, people)
    with pytest.raises(BadInput) as refused:
        control(db, issue, "ask_extension", people["village"], new_due="2026-11-24", note="理由")
    assert refused.value.field == "new_due"
    with pytest.raises(BadInput):
        control(db, issue, "ask_extension", people["village"], new_due="2026-12-07")  # no reason
    with pytest.raises(Conflict):  # nothing to decide
        control(db, issue, "grant_extension", people["staff"])
    control(db, issue, "ask_extension", people["village"], new_due="2026-12-07", note="理由")
    with pytest.raises(Conflict):  # one request at a time
        control(db, issue, "ask_extension", people["village"], new_due="2026-12-08", note="再申请")
    with pytest.raises(BadInput):  # refusing needs a reason
        control(db, issue, "deny_extension", people["staff"])
    issue = control(db, issue, "deny_extension", people["staff"], note="不属特殊情况，按期办结")
    assert issue.handling_due == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    with pytest.raises(Forbidden):  # a grid worker may not ask
        control(db, issue, "ask_extension", people["worker"], new_due="2026-12-07", note="x")


# --- 督办 / 催办 ------------------------------------------------------------------------------


def test_supervision_waits_in_the_handlers_tasks_until_answered(db, people):
    issue = new_issue(db, people["worker"])
    issue = act(db, issue, "triage", people["staff"], unit=ISSUE_TOWNSHIP + "S11")
    issue = act(db, issue, "acknowledge", people["handler"])
    version = issue.version
    assert issue_queries.task_count(db, people["handler"]) == 1
    issue = act(db, issue, "handle", people["handler"], note="已修复")  # no longer their task
    assert issue_queries.task_count(db, people["handler"]) == 0
    issue = control(db, issue, "supervise", people["leader"], note="请说明修复后的水质检测情况")
    assert issue.version == version + 1  # only the handle moved it: 督办 leaves the state
    assert issue_queries.task_count(db, people["handler"]) == 1  # the 督办 waits for an answer
    control(db, issue, "remind", people["inspector"], note="请尽快答复")
    with pytest.raises(Forbidden):
        control(db, issue, "supervise", people["handler"], note="x")
    issue = control(db, issue, "answer", people["handler"], note="已送检，水质合格")
    assert issue_queries.task_count(db, people["handler"]) == 0
    with pytest.raises(Conflict):  # nothing left to answer
        control(db, issue, "answer", people["handler"], note="再答")
    assert [a for a, _f, _t in actions_of(db, issue)][-3:] == ["supervise", "remind", "answer"]
    panel = controls.panel(db, issue, people["leader"])
    assert (len(panel.supervisions), panel.reminders) == (1, 1)
    assert panel.supervisions[0].answer == "已送检，水质合格"


def test_a_closed_issue_is_not_supervised(db, people):
    issue = in_progress(db, people)
    issue = act(db, issue, "handle", people["village"], note="已修复")
    issue = act(db, issue, "close", people["staff"], note="匿名，无法回访")
    with pytest.raises(Conflict):
        control(db, issue, "supervise", people["leader"], note="督办")
    with pytest.raises(Conflict):
        control(db, issue, "remind", people["leader"])


# --- 挂账 / 作废 ------------------------------------------------------------------------------


def test_long_term_items_are_reviewed_listed_and_off_the_clock_until_resumed(db, people, monkeypatch):
    issue = in_progress(db, people)
    issue = act(db, issue, "defer", people["village"], note="需列入明年水利项目")
    assert issue.review_on == date(2027, 2, 21)  # 90 days
    issue = control(db, issue, "review", people["staff"], note="项目已立项，待施工",
                    review_on="2027-01-15")
    assert (issue.status, issue.review_on) == ("long_term", date(2027, 1, 15))
    with pytest.raises(BadInput):
        control(db, issue, "review", people["staff"])  # a review says what was found
    monkeypatch.setenv("GRIDMAP_NOW", "2027-01-04T09:00:00+08:00")  # far past the old deadline
    scope = Scope.of_user(people["leader"])
    assert metrics.compute(db, scope)[0].counts["overdue"] == 0
    assert [row.light for row in issue_queries.queue(db, scope)] == ["none"]
    [row] = controls.ledger(db, scope)
    assert (row.code, row.status, row.reason, row.review_on) == (
        issue.code, "long_term", "需列入明年水利项目", date(2027, 1, 15))
    assert row.last_review is not None
    issue = act(db, issue, "resume", people["village"])
    assert issue.status == "in_progress" and issue.handling_due > datetime(2027, 1, 4, tzinfo=UTC)
    with pytest.raises(Conflict):
        control(db, issue, "review", people["staff"], note="不是挂账")


def test_voiding_a_closed_issue_is_refused_and_a_voided_one_is_in_the_ledger(db, people):
    closed = in_progress(db, people)
    closed = act(db, closed, "handle", people["village"], note="已修复")
    closed = act(db, closed, "close", people["staff"], note="匿名，无法回访")
    with pytest.raises(Conflict) as refused:
        act(db, closed, "void", people["staff"], note="测试")
    assert refused.value.status == 409 and "已结案" in str(refused.value)
    spam = new_issue(db, people["worker"])
    with pytest.raises(BadInput):
        act(db, spam, "void", people["staff"])  # a void needs its reason
    spam = act(db, spam, "void", people["staff"], note="测试数据")
    [row] = controls.ledger(db, Scope.of_user(people["staff"]))
    assert (row.code, row.status, row.reason) == (spam.code, "voided", "测试数据")
    [counted] = metrics.compute(db, Scope.of_user(people["leader"]))
    assert counted.counts["reported"] == 1  # the closed one; the voided one is in no metric


# --- duplicates and 合并 ----------------------------------------------------------------------


def test_duplicates_are_the_same_category_near_in_place_and_time(db, people):
    first = new_issue(db, people["worker"], **HERE)
    near = new_issue(db, people["worker"], title="水是黄的", **FIFTY_METRES_EAST)
    new_issue(db, people["worker"], title="另一处", **FIVE_KM_EAST)
    found = controls.duplicates(db, people["staff"], first)
    assert [c.code for c in found] == [near.code]
    assert 40 < found[0].metres < 60


def test_a_merged_duplicate_is_voided_with_reason_and_the_survivor_carries_both(db, people):
    survivor = new_issue(db, people["worker"], real_name=True, reporter_name="张三",
                         reporter_phone="13800001111", **HERE)
    duplicate = new_issue(db, people["village"], title="水是黄的", real_name=True,
                          reporter_name="李四", reporter_phone="13900002222", **FIFTY_METRES_EAST)
    duplicate = act(db, duplicate, "triage", people["village"])
    merged = control(db, duplicate, "merge", people["staff"], into=survivor.code)
    assert (merged.status, merged.merged_into) == ("voided", survivor.id)
    assert actions_of(db, merged)[-1] == ("merge", "triaged", "voided")
    [note] = db.scalars(select(IssueEvent.note).where(IssueEvent.issue_id == merged.id,
                                                      IssueEvent.action == "merge"))
    assert note.startswith("合并") and survivor.code in note
    steps = issue_queries.timeline(db, survivor)
    assert {s.issue_code for s in steps} == {survivor.code, merged.code}
    assert [s.action for s in steps] == ["report", "report", "triage", "merge"]
    assert [(r.code, r.name) for r in controls.reporters(db, survivor)] == [
        (survivor.code, "张*"), (merged.code, "李*")]
    [counted] = metrics.compute(db, Scope.of_user(people["leader"]))
    assert counted.counts["reported"] == 1  # the merged one left the metrics
    assert controls.duplicates(db, people["staff"], survivor) == []  # merged ones not suggested


def test_merge_refusals(db, people):
    survivor = new_issue(db, people["worker"], **HERE)
    duplicate = new_issue(db, people["worker"], **HERE)
    voided = act(db, new_issue(db, people["worker"]), "void", people["staff"], note="误报")
    with pytest.raises(Conflict) as refused:
        control(db, duplicate, "merge", people["staff"], into=voided.code)
    assert "已作废" in str(refused.value)
    with pytest.raises(BadInput):
        control(db, duplicate, "merge", people["staff"], into=duplicate.code)
    with pytest.raises(BadInput):
        control(db, duplicate, "merge", people["staff"])
    with pytest.raises(NotFound):
        control(db, duplicate, "merge", people["staff"], into="MQ2099")
    other = db.execute(text(
        "INSERT INTO issue (county_code, code, title, category, reported_at, status)"
        " VALUES ('530681', 'MQX1', '别县的事', 'drinking_water', now(), 'reported')"
        " RETURNING id")).scalar()
    with pytest.raises(Conflict) as refused:
        control(db, duplicate, "merge", people["staff"], into=str(other))
    assert "跨县" in str(refused.value)
    with pytest.raises(Forbidden):
        control(db, duplicate, "merge", people["worker"], into=survivor.code)
    merged = control(db, duplicate, "merge", people["staff"], into=survivor.code)
    with pytest.raises(Conflict):  # into an issue that was itself merged away
        control(db, new_issue(db, people["worker"]), "merge", people["staff"], into=merged.code)


def callback(db, issue, actor, **answers):
    return issues.record_callback(db, issue.id, actor, expected_version=issue.version, data={
        "channel": "phone", "reached": True, "contacted_in_time": True, "solved": True,
        "satisfaction": "satisfied", **answers})


def test_after_a_merge_both_reporters_get_the_callback_and_both_count(db, people):
    survivor = new_issue(db, people["worker"], real_name=True, reporter_name="张三",
                         reporter_phone="13800001111", **HERE)
    duplicate = new_issue(db, people["village"], title="水是黄的", real_name=True,
                          reporter_name="李四", reporter_phone="13900002222", **FIFTY_METRES_EAST)
    other = new_issue(db, people["worker"], title="别的事", **FIVE_KM_EAST)
    merged = control(db, duplicate, "merge", people["staff"], into=survivor.code)
    with pytest.raises(Conflict):  # nothing to call back about before it is handled
        callback(db, survivor, people["worker"], reporter=merged.code)
    survivor = act(db, in_progress_of(db, survivor, people), "handle", people["village"], note="已修")
    with pytest.raises(BadInput) as wrong:
        callback(db, survivor, people["worker"], reporter=other.code)
    assert wrong.value.field == "reporter"
    survivor = callback(db, survivor, people["worker"])  # its own reporter: 满意
    assert survivor.status == "feedback"
    with pytest.raises(Conflict) as owed:
        act(db, survivor, "close", people["village"])
    assert merged.code in str(owed.value.message)
    survivor = callback(db, survivor, people["worker"], reporter=merged.code,
                        contacted_in_time=False, satisfaction="basically_satisfied")
    assert survivor.status == "feedback"  # the state as it was
    steps = issue_queries.timeline(db, survivor)
    assert [s.action for s in steps][-2:] == ["feed_back", "merged_callback"]
    assert merged.code in steps[-1].note and "基本满意" in steps[-1].note
    assert [(r.code, r.called_back) for r in controls.reporters(db, survivor)] == [
        (survivor.code, True), (merged.code, True)]
    assert [c.reporter for c in issue_queries.callbacks(db, survivor)] == [survivor.code, merged.code]
    [counted] = metrics.compute(db, Scope.of_user(people["leader"]))
    assert {k: counted.counts[k] for k in ("reported", "valid_callbacks", "responded", "solved",
                                           "satisfied", "basically_satisfied")} == {
        "reported": 2, "valid_callbacks": 2, "responded": 1, "solved": 2, "satisfied": 1,
        "basically_satisfied": 1}
    assert counted.rates["satisfaction_rate"] == pytest.approx((1 + 0.9) / 2)
    survivor = act(db, survivor, "close", people["village"])
    assert survivor.status == "closed"
    # the merged reporter calls again, unsatisfied: reopened, and their latest answer counts
    survivor = callback(db, survivor, people["worker"], reporter=merged.code, solved=False,
                        satisfaction="unsatisfied")
    assert survivor.status == "in_progress"
    [counted] = metrics.compute(db, Scope.of_user(people["leader"]))
    assert (counted.counts["valid_callbacks"], counted.counts["satisfied"],
            counted.counts["basically_satisfied"], counted.counts["unsatisfied"]) == (2, 1, 0, 1)
    assert counted.rates["satisfaction_rate"] == pytest.approx(1 / 2)


def in_progress_of(db, issue, people) -> Issue:
    return act(db, act(db, issue, "triage", people["village"]), "acknowledge", people["village"])
