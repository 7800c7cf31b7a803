"""The metrics pinned by fixtures with known callbacks and known times (DOMAIN.md's definitions)."""

import pytest
from support import (
    ISSUE_COUNTY,
    ISSUE_GRID,
    ISSUE_TOWNSHIP,
    ISSUE_VILLAGE,
    seed_issue_county,
    seed_user,
)

from gridmap import issues, metrics
from gridmap.errors import BadInput
from gridmap.policy import Scope

MONDAY = "2026-11-23T09:00:00+08:00"
ANSWERS = [  # (contacted in time, solved, satisfaction) of five reached callbacks
    (True, True, "satisfied"), (True, True, "satisfied"), (True, True, "satisfied"),
    (True, False, "basically_satisfied"), (False, False, "unsatisfied")]


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
    seed_issue_county(db.connection())
    return {"staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
            "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE),
            "other": seed_user(db.connection(), "township_staff", "532329101")}


def step(db, issue, action, actor, **kw):
    return issues.apply(db, issue.id, action, actor, expected_version=issue.version, **kw)


def new(db, actor, title="自来水浑浊"):
    return issues.report(db, actor, {"title": title, "category": "drinking_water",
                                     "grid_code": ISSUE_GRID})


def handled(db, actor, title="自来水浑浊"):
    issue = new(db, actor, title)
    issue = step(db, issue, "triage", actor)
    issue = step(db, issue, "acknowledge", actor)
    return step(db, issue, "handle", actor, note="已处理")


@pytest.fixture
def ledger(db, people, monkeypatch):
    """Five reached callbacks (3 满意, 1 基本满意, 1 不满意 → reopened), one unreached attempt,
    one issue triaged two days late; the four satisfied ones closed; then a month passes."""
    actor = people["village"]
    for in_time, solved, satisfaction in ANSWERS:
        issue = handled(db, actor)
        issue = issues.record_callback(db, issue.id, actor, expected_version=issue.version, data={
            "channel": "phone", "reached": True, "contacted_in_time": in_time, "solved": solved,
            "satisfaction": satisfaction})
        if satisfaction != "unsatisfied":
            step(db, issue, "close", people["staff"])
    issue = handled(db, actor)
    issues.record_callback(db, issue.id, actor, expected_version=issue.version,
                           data={"channel": "phone", "reached": False, "unreached_reason": "空号"})
    late = new(db, actor, "路灯不亮")
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-25T09:00:00+08:00")
    step(db, late, "triage", actor)
    monkeypatch.setenv("GRIDMAP_NOW", "2026-12-31T09:00:00+08:00")


def county(db, by="county", **kw):
    return metrics.compute(db, Scope(ISSUE_COUNTY, region_code=ISSUE_COUNTY), by, **kw)


def test_three_rates_over_valid_callbacks_and_the_composite(db, ledger):
    [row] = county(db)
    assert row.counts["valid_callbacks"] == 5  # the unreached attempt is no callback
    assert (row.counts["satisfied"], row.counts["basically_satisfied"], row.counts["unsatisfied"]) == (3, 1, 1)
    assert row.rates["satisfaction_rate"] == pytest.approx((3 + 0.9) / 5) == pytest.approx(0.78)
    assert row.rates["response_rate"] == pytest.approx(4 / 5)
    assert row.rates["resolution_rate"] == pytest.approx(3 / 5)
    # weights 10/50/40 (defaults.toml), divided by their sum
    assert row.rates["composite"] == pytest.approx((10 * 0.8 + 50 * 0.6 + 40 * 0.78) / 100)


def test_case_rates_triage_closing_rework_and_overdue(db, ledger):
    [row] = county(db)
    assert row.counts["reported"] == 7
    assert row.rates["on_time_triage_rate"] == pytest.approx(6 / 7)  # one triaged 48 h after
    # a month later every handling deadline has passed: all seven are due to close, four closed
    assert (row.counts["due_to_close"], row.counts["closed"]) == (7, 4)
    assert row.rates["closing_rate"] == pytest.approx(4 / 7)
    assert row.rates["on_time_closing_rate"] == pytest.approx(4 / 7)
    assert row.rates["rework_rate"] == pytest.approx(1 / 6)  # the unsatisfied one went back
    assert row.rates["village_share"] == 1.0
    # open past their stage deadline: the reopened one, the unreached one, the late one
    assert row.counts["overdue"] == 3


def test_a_month_without_reports_has_no_rates_not_zero(db, ledger):
    assert county(db, period=metrics.Period.parse("2026-10-01", "2026-10-31")) == []
    [row] = county(db, period=metrics.Period.parse("2026-11-23", "2026-11-23"))
    assert row.counts["reported"] == 7
    assert metrics.rates({k: 0 for k in metrics.COUNTS}, {
        "metrics.basically_satisfied_factor": 0.9, "metrics.weights.responsiveness": 10,
        "metrics.weights.resolution": 50, "metrics.weights.satisfaction": 40})["satisfaction_rate"] is None


def test_groups_by_township_village_and_unit_and_the_scope_limits(db, people, ledger):
    [township] = county(db, "township")
    [village] = county(db, "village")
    assert (township.key, village.key) == (ISSUE_TOWNSHIP, ISSUE_VILLAGE)
    assert township.counts == village.counts
    [unit] = county(db, "unit")
    assert (unit.key, unit.name) == (ISSUE_VILLAGE + "V", "插甸村民委员会")
    assert metrics.compute(db, Scope.of_user(people["other"]), "county") == []
    with pytest.raises(BadInput):
        county(db, "grid")


def test_median_hours_per_stage_and_to_acknowledge(db, people, monkeypatch):
    actor = people["village"]
    for hours in (1, 2, 10):
        monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
        issue = step(db, new(db, actor), "triage", actor)
        monkeypatch.setenv("GRIDMAP_NOW", f"2026-11-23T{9 + hours:02d}:00:00+08:00")
        step(db, issue, "acknowledge", actor)
    [row] = county(db)
    assert row.acknowledge_hours == pytest.approx(2)
    assert row.stage_hours["triaged"] == pytest.approx(2)
    assert row.stage_hours["reported"] == pytest.approx(0)
    with pytest.raises(BadInput) as refused:
        metrics.Period.parse("2026-12-01", "2026-11-01")
    assert refused.value.field == "to"


def test_extension_rate_and_supervision_counts_per_unit_voided_left_out(db, people, monkeypatch):
    """Four triaged issues of the 村委会, one of the 水务站; one extension granted, one denied;
    督办 2 + 1 on two issues, 催办 3; a voided issue with its own 督办 and 催办 counts nowhere."""
    from gridmap import controls

    village, staff, leader = people["village"], people["staff"], seed_user(
        db.connection(), "leader", ISSUE_COUNTY)
    triaged = [step(db, new(db, village), "triage", village) for _ in range(4)]
    station = step(db, new(db, village), "triage", staff, unit=ISSUE_TOWNSHIP + "S11")
    take = lambda issue, name, actor, **data: controls.take(  # noqa: E731
        db, issue.id, name, actor, {"version": issue.version, **data})
    a, b = triaged[0], triaged[1]
    a = take(a, "ask_extension", village, new_due="2026-12-10", note="等材料")
    a = take(a, "grant_extension", staff)
    b = take(b, "ask_extension", village, new_due="2026-12-10", note="等材料")
    b = take(b, "deny_extension", staff, note="按期办")
    for issue, name in ((a, "supervise"), (a, "supervise"), (station, "supervise"),
                        (a, "remind"), (b, "remind"), (station, "remind")):
        take(issue, name, leader, note="请加快办理")
    spam = step(db, new(db, village), "triage", village)
    take(spam, "supervise", leader, note="督办")
    take(spam, "remind", leader, note="催办")
    step(db, db.get(type(spam), spam.id), "void", staff, note="重复录入")
    monkeypatch.setenv("GRIDMAP_NOW", "2026-12-31T09:00:00+08:00")  # every deadline has passed
    [row] = county(db)
    assert row.counts["reported"] == 5 and row.counts["due_to_close"] == 5
    assert row.counts["extended"] == 1
    assert row.rates["extension_rate"] == pytest.approx(1 / 5)
    assert (row.counts["supervisions"], row.counts["supervised"], row.counts["reminders"]) == (3, 2, 3)
    by_unit = {r.key: r for r in county(db, "unit")}
    village_office, water = by_unit[ISSUE_VILLAGE + "V"], by_unit[ISSUE_TOWNSHIP + "S11"]
    assert (village_office.counts["supervisions"], village_office.counts["reminders"]) == (2, 2)
    assert (water.counts["supervisions"], water.counts["reminders"]) == (1, 1)
    assert village_office.rates["extension_rate"] == pytest.approx(1 / 4)
    assert water.rates["extension_rate"] == 0
