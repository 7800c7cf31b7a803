"""挂牌销号: tag, steps, close-out with evidence approved a level up, 回头看, overdue, the layer."""

import pytest
from sqlalchemy import select, text
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import targets
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound
from gridmap.models import AuditEvent, TargetEvent
from gridmap.policy import Scope

VILLAGE = OPEN_TOWNSHIP + "201"
BRANCH = VILLAGE + "D1"


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    connection = db.connection()
    seed_open_data_county(connection)
    connection.execute(text(
        "INSERT INTO party_branch (county_code, code, name, village_code, weak)"
        " VALUES (:c, :code, '插甸村党支部', :v, true)"), {"c": ISSUE_COUNTY, "code": BRANCH, "v": VILLAGE})
    connection.execute(text(
        "INSERT INTO cadre (county_code, code, name, title) VALUES (:c, 'L01', '张书记', '县委副书记')"),
        {"c": ISSUE_COUNTY})
    connection.execute(text(
        "INSERT INTO unit (county_code, code, name, kind) VALUES (:c, 'A01', '县委组织部', 'agency')"),
        {"c": ISSUE_COUNTY})
    return {"township": seed_user(connection, "township_staff", OPEN_TOWNSHIP),
            "other_township": seed_user(connection, "township_staff", ISSUE_COUNTY + "105"),
            "village": seed_user(connection, "village_staff", VILLAGE),
            "leader": seed_user(connection, "leader", ISSUE_COUNTY),
            "inspector": seed_user(connection, "inspector", ISSUE_COUNTY),
            "grid_worker": seed_user(connection, "grid_worker", VILLAGE + "001")}


def tag(db, actor, **data):
    return targets.tag(db, actor, {"kind": "party_branch", "party_branch": BRANCH,
                                   "reason": "软弱涣散：班子不团结", "due_on": "2027-03-31",
                                   "liaison": "L01", "helping_unit": "A01",
                                   "milestones": "调整班子 2027-01-15\n建立三会一课台账", **data})


def history(db, target) -> list[tuple]:
    return [tuple(row) for row in db.execute(
        select(TargetEvent.action, TargetEvent.from_status, TargetEvent.to_status)
        .where(TargetEvent.target_id == target.id).order_by(TargetEvent.id))]


def steps_done(db, people, target):
    for step in targets.describe(db, target)["milestones"]:
        target = targets.complete_milestone(db, people["village"], target.id, step.id,
                                            expected_version=target.version)
    return target


def test_a_township_tags_a_weak_branch_with_plan_steps_liaison_and_unit(db, people):
    target = tag(db, people["township"], plan="一支部一对策：选优配强书记")
    shown = targets.describe(db, target)
    assert (target.status, target.region_code, shown["name"]) == ("listed", VILLAGE, "插甸村党支部")
    assert (shown["liaison"], shown["helping_unit"]) == ("张书记", "县委组织部")
    assert [(s.title, str(s.due_on)) for s in shown["milestones"]] == [
        ("调整班子", "2027-01-15"), ("建立三会一课台账", "None")]
    assert history(db, target) == [("tag", None, "listed")]
    assert db.execute(select(AuditEvent.target).where(AuditEvent.action == "target_change")).scalar() \
        == f"target:{target.id}"


def test_tagging_is_refused_twice_outside_scope_and_to_roles_that_may_not(db, people):
    tag(db, people["township"])
    with pytest.raises(Conflict):
        tag(db, people["township"])
    with pytest.raises(NotFound):
        tag(db, people["other_township"], party_branch=BRANCH)
    with pytest.raises(Forbidden):
        tag(db, people["village"])
    with pytest.raises(BadInput) as late:
        tag(db, people["leader"], kind="region", region=VILLAGE, due_on="2026-11-01")
    assert late.value.field == "due_on"
    with pytest.raises(BadInput) as unknown:
        tag(db, people["leader"], kind="region", region=VILLAGE, liaison="NOBODY")
    assert unknown.value.field == "liaison"


def test_close_out_needs_evidence_every_step_and_the_level_above(db, people):
    target = tag(db, people["township"])
    with pytest.raises(BadInput) as no_evidence:
        targets.request_close(db, people["village"], target.id, expected_version=target.version,
                              evidence="  ")
    assert no_evidence.value.field == "evidence"
    with pytest.raises(Conflict) as undone:
        targets.request_close(db, people["village"], target.id, expected_version=target.version,
                              evidence="换届完成")
    assert "调整班子" in str(undone.value.message)
    target = steps_done(db, people, target)
    target = targets.request_close(db, people["village"], target.id, expected_version=target.version,
                                   evidence="新班子已选出，三会一课台账齐全")
    assert target.status == "close_requested"
    for who in ("village", "grid_worker"):  # the asker, and a role that may not decide
        with pytest.raises(Forbidden):
            targets.decide_close(db, people[who], target.id, expected_version=target.version,
                                 approve=True)
    target = targets.decide_close(db, people["township"], target.id,
                                  expected_version=target.version, approve=True, note="同意销号")
    assert target.status == "closed" and target.closed_at is not None
    assert [a for a, _f, _t in history(db, target)] == [
        "tag", "milestone", "milestone", "request_close", "approve_close"]
    assert targets.history_consistent(db, ISSUE_COUNTY) == []


def test_a_township_request_goes_to_the_county_never_the_same_level(db, people):
    target = steps_done(db, people, tag(db, people["township"]))
    target = targets.request_close(db, people["township"], target.id,
                                   expected_version=target.version, evidence="整改到位")
    with pytest.raises(Forbidden):
        targets.decide_close(db, people["township"], target.id, expected_version=target.version,
                             approve=True)
    with pytest.raises(BadInput) as needs_reason:
        targets.decide_close(db, people["leader"], target.id, expected_version=target.version,
                             approve=False)
    assert needs_reason.value.field == "note"
    target = targets.decide_close(db, people["leader"], target.id, expected_version=target.version,
                                  approve=False, note="群众满意度调查未做")
    assert target.status == "listed" and target.close_requested_by is None
    target = targets.request_close(db, people["leader"], target.id, expected_version=target.version,
                                   evidence="满意度调查 96%")
    with pytest.raises(Forbidden):  # county-level asker: another county account decides
        targets.decide_close(db, people["leader"], target.id, expected_version=target.version,
                             approve=True)
    target = targets.decide_close(db, people["inspector"], target.id,
                                  expected_version=target.version, approve=True)
    assert target.status == "closed"


def test_looking_back_confirms_or_reopens_with_a_new_deadline(db, people):
    target = steps_done(db, people, tag(db, people["township"]))
    target = targets.request_close(db, people["village"], target.id, expected_version=target.version,
                                   evidence="整改到位")
    target = targets.decide_close(db, people["township"], target.id,
                                  expected_version=target.version, approve=True)
    target = targets.review(db, people["leader"], target.id, expected_version=target.version,
                            holds=True, note="回头看：班子稳定")
    assert target.status == "closed"
    with pytest.raises(BadInput) as no_date:
        targets.review(db, people["leader"], target.id, expected_version=target.version,
                       holds=False, note="又出现问题")
    assert no_date.value.field == "due_on"
    target = targets.review(db, people["leader"], target.id, expected_version=target.version,
                            holds=False, note="又出现问题", due_on="2027-06-30")
    assert (target.status, str(target.due_on), target.closed_at) == ("listed", "2027-06-30", None)
    assert [a for a, _f, _t in history(db, target)][-2:] == ["review", "reopen"]
    with pytest.raises(Conflict):  # a stale form
        targets.note(db, people["village"], target.id, expected_version=target.version - 1,
                     text="进展")


def test_overdue_targets_lead_the_list_are_counted_and_flagged_on_the_layer(db, people, monkeypatch):
    late = tag(db, people["township"], due_on="2026-12-31")
    tag(db, people["leader"], kind="region", region=OPEN_TOWNSHIP + "202", due_on="2027-12-31",
        milestones="")
    monkeypatch.setenv("GRIDMAP_NOW", "2027-01-05T09:00:00+08:00")
    scope = Scope.of_user(people["township"])
    listed = targets.listing(db, scope)
    assert [(row.id, row.overdue) for row in listed][0] == (late.id, True)
    assert targets.counts(db, scope) == {"listed": 2, "close_requested": 0, "closed": 0, "overdue": 1}
    assert [row.id for row in targets.listing(db, scope, overdue_only=True)] == [late.id]
    layer = targets.layer(db, scope)
    by_id = {f["id"]: f for f in layer["features"]}
    assert by_id[late.id]["properties"]["overdue"] is True
    assert by_id[late.id]["geometry"]["type"] == "MultiPolygon"  # the branch drawn as its village
    # a village's staff sees only their own village's targets
    assert [row.id for row in targets.listing(db, Scope.of_user(people["village"]))] == [late.id]
    assert targets.listing(db, Scope.of_user(people["grid_worker"])) == []
