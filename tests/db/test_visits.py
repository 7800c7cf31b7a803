"""Visits: the due rule (intervals per care flag from the settings) and the service that
records them (scope, idempotent client_uuid, checklist items, distance to the household)."""

import uuid
from datetime import datetime, timedelta

import pytest
from hostile_text import HOSTILE_STRINGS
from sqlalchemy import func, select, text
from support import ISSUE_GRID, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import coverage, field_queries, settings, visits
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound
from gridmap.models import Visit
from gridmap.policy import Scope

MONDAY = "2026-11-23T09:00:00+08:00"
NOW = datetime.fromisoformat(MONDAY)
OTHER_GRID = ISSUE_VILLAGE + "002"
HOME_LONLAT = (102.40, 25.50)


@pytest.fixture
def village(db, monkeypatch):
    """One village with two grids and households of every kind of care, visited at set times."""
    monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
    seed_issue_county(db.connection())
    run = lambda sql, **p: db.execute(text(sql), p)  # noqa: E731
    run("INSERT INTO grid (county_code, code, village_code, name) VALUES ('532329', :g, :v, '第2网格')",
        g=OTHER_GRID, v=ISSUE_VILLAGE)
    households = {  # code: (grid, flags, days since the last visit or None)
        "H_PLAIN_OK": (ISSUE_GRID, {}, 80),
        "H_PLAIN_LATE": (ISSUE_GRID, {}, 95),
        "H_POOR_LATE": (ISSUE_GRID, {"minimum_living": True}, 35),
        "H_ALONE_OK": (ISSUE_GRID, {"elderly_alone": True}, 50),
        "H_ALONE_POOR": (ISSUE_GRID, {"elderly_alone": True, "extreme_poverty": True}, 45),
        "H_DISABLED_1": (ISSUE_GRID, {"disability_category": "肢体", "disability_grade": 1}, 70),
        "H_DISABLED_3": (ISSUE_GRID, {"disability_category": "肢体", "disability_grade": 3}, 70),
        "H_MONITORED": (ISSUE_GRID, {"relapse_monitoring": True}, 31),
        "H_NEW": (ISSUE_GRID, {}, None),
        "H_OTHER_GRID": (OTHER_GRID, {}, None),
    }
    ids = {}
    for code, (grid, flags, days) in households.items():
        columns = {"county_code": "532329", "code": code, "grid_code": grid,
                   "village_code": ISSUE_VILLAGE, "head_name": "张" + code[-2:], **flags}
        ids[code] = run(f"INSERT INTO household ({', '.join(columns)}, geom) VALUES"
                        f" ({', '.join(':' + k for k in columns)},"
                        f" ST_SetSRID(ST_MakePoint({HOME_LONLAT[0]}, {HOME_LONLAT[1]}), 4326))"
                        " RETURNING id", **columns).scalar()
        if days is not None:
            run("INSERT INTO visit (county_code, household_id, visited_at) VALUES ('532329', :h, :at)",
                h=ids[code], at=NOW - timedelta(days=days))
    cadre = run("INSERT INTO cadre (county_code, code, name) VALUES ('532329', 'C1', '李四') RETURNING id").scalar()
    run("INSERT INTO assignment (county_code, kind, cadre_id, household_id) VALUES ('532329', 'household', :c, :h)",
        c=cadre, h=ids["H_OTHER_GRID"])
    people = {
        "worker": seed_user(db.connection(), "grid_worker", ISSUE_GRID),
        "other_worker": seed_user(db.connection(), "grid_worker", OTHER_GRID),
        "cadre": seed_user(db.connection(), "cadre", None, cadre_id=cadre),
        "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE),
        "township": seed_user(db.connection(), "township_staff", "532329104"),
    }
    return ids, people


def due_codes(db, scope):
    return {row.code for row in field_queries.households(db, scope, "grid_worker", NOW) if row.due}


def gap_codes(db, scope, intervals=None):
    intervals = intervals or coverage.VisitIntervals.of_county(db, "532329")
    return {row["code"] for row in coverage.gaps(db.connection(), "visit", scope, NOW, intervals)}


def test_due_list_and_coverage_visit_rule_agree(db, village):
    for scope in (Scope("532329", region_code=ISSUE_GRID), Scope("532329", region_code="532329")):
        intervals = coverage.VisitIntervals.of_county(db, "532329")
        total, due = field_queries.counts(db, scope, NOW)
        assert due == coverage.gap_counts(db.connection(), scope, NOW, intervals)["visit"]
        assert due_codes(db, scope) == gap_codes(db, scope)
        assert total == db.execute(select(func.count()).select_from(
            select(text("1")).where(scope.households()).subquery())).scalar()


def test_the_shortest_interval_of_the_care_flags_applies(db, village):
    assert due_codes(db, Scope("532329", region_code=ISSUE_GRID)) == {
        "H_PLAIN_LATE",   # 95 days > 90
        "H_POOR_LATE",    # 低保: 35 > 30
        "H_ALONE_POOR",   # 独居 60 but 特困 30: 45 > 30
        "H_DISABLED_1",   # 残疾 1 级: 70 > 60 (3 级 keeps 90)
        "H_MONITORED",    # 监测户: 31 > 30
        "H_NEW",          # never visited: due at once
    }


def test_a_never_visited_household_is_due_at_once_and_listed_first(db, village):
    rows = field_queries.households(db, Scope("532329", region_code=ISSUE_GRID), "grid_worker", NOW)
    assert rows[0].code == "H_NEW" and rows[0].due and rows[0].due_at is None
    dues = [row.due_at for row in rows[1:]]
    assert dues == sorted(dues)


def test_intervals_come_from_the_settings_store(db, village):
    scope = Scope("532329", region_code=ISSUE_GRID)
    assert "H_ALONE_OK" not in due_codes(db, scope)
    settings.set(db, "532329", "visit.interval_days.elderly_alone", 40)
    settings.set(db, "532329", "visit.interval_days.default", 100)
    assert "H_ALONE_OK" in due_codes(db, scope) and "H_PLAIN_LATE" not in due_codes(db, scope)
    assert due_codes(db, scope) == gap_codes(db, scope)


def test_a_new_visit_makes_the_household_no_longer_due(db, village):
    ids, people = village
    scope = Scope("532329", region_code=ISSUE_GRID)
    visits.record(db, people["worker"], {"household_id": ids["H_NEW"]})
    assert "H_NEW" not in due_codes(db, scope) and "H_NEW" not in gap_codes(db, scope)


def record(db, actor, household_id, **data):
    return visits.record(db, actor, {"household_id": household_id, **data})


def test_a_visit_records_who_where_and_the_checklist_items(db, village):
    ids, people = village
    recorded = record(db, people["worker"], ids["H_PLAIN_OK"], lon=102.4001, lat=25.5001,
                      accuracy_m=12, notes="  老人身体好  ",
                      checklist={"look": ["身体健康", "住房安全"], "leave": ["联系卡"]})
    visit = recorded.visit
    assert recorded.created and visit.user_id == people["worker"].id and visit.cadre_id is None
    assert visit.checklist == {"look": ["住房安全", "身体健康"], "ask": [], "leave": ["联系卡"]}
    assert visit.notes == "老人身体好" and visit.accuracy_m == 12
    assert 10 < recorded.distance_m < 20 and not recorded.far


def test_a_visit_far_from_the_household_is_kept_and_flagged(db, village):
    ids, people = village
    recorded = record(db, people["worker"], ids["H_PLAIN_OK"], lon=102.41, lat=25.50)
    assert recorded.far and recorded.distance_m > 900
    settings.set(db, "532329", "visit.far_from_household_m", 5000)
    assert not visits.record(db, people["worker"], {
        "household_id": ids["H_PLAIN_OK"], "lon": 102.41, "lat": 25.50}).far


def test_the_same_client_uuid_records_one_visit(db, village):
    ids, people = village
    key = str(uuid.uuid4())
    first = record(db, people["worker"], ids["H_NEW"], client_uuid=key, notes="第一次")
    again = record(db, people["worker"], ids["H_NEW"], client_uuid=key, notes="重发")
    assert first.created and not again.created and again.visit.id == first.visit.id
    assert db.execute(select(func.count()).where(Visit.client_uuid == uuid.UUID(key))).scalar() == 1
    assert again.visit.notes == "第一次"
    with pytest.raises(Conflict):
        record(db, people["village"], ids["H_NEW"], client_uuid=key)


def test_each_field_role_records_only_within_its_scope(db, village):
    ids, people = village
    with pytest.raises(NotFound):
        record(db, people["worker"], ids["H_OTHER_GRID"])
    with pytest.raises(NotFound):
        record(db, people["other_worker"], ids["H_PLAIN_OK"])
    with pytest.raises(NotFound):
        record(db, people["cadre"], ids["H_PLAIN_OK"])  # not paired with this cadre
    paired = record(db, people["cadre"], ids["H_OTHER_GRID"]).visit
    assert paired.cadre_id == people["cadre"].cadre_id and paired.user_id == people["cadre"].id
    assert record(db, people["village"], ids["H_PLAIN_OK"]).created
    with pytest.raises(Forbidden):
        record(db, people["township"], ids["H_PLAIN_OK"])


@pytest.mark.parametrize(("data", "field"), [
    ({"checklist": {"look": ["housing"]}}, "checklist"),  # the old English codes are refused
    ({"checklist": {"see": ["住房安全"]}}, "checklist"),
    ({"checklist": ["住房安全"]}, "checklist"),
    ({"lon": 102.4}, "lon"),
    ({"lon": 10, "lat": 25}, "lon"),
    ({"accuracy_m": -1, "lon": 102.4, "lat": 25.5}, "accuracy_m"),
    ({"notes": "很" * 2001}, "notes"),
    ({"notes": 5}, "notes"),
    ({"client_uuid": "not-a-uuid"}, "client_uuid"),
    ({"visited_at": "2026-11-23T09:00:00"}, "visited_at"),
    ({"visited_at": "2026-12-23T09:00:00+08:00"}, "visited_at"),
    ({"household_id": "x"}, "household_id"),
])
def test_bad_visits_name_their_field(db, village, data, field):
    ids, people = village
    with pytest.raises(BadInput) as refused:
        visits.record(db, people["worker"], {"household_id": ids["H_PLAIN_OK"], **data})
    assert refused.value.field == field


def test_hostile_notes_are_stored_as_written(db, village):
    ids, people = village
    for hostile in HOSTILE_STRINGS:
        visit = record(db, people["worker"], ids["H_PLAIN_OK"], notes=hostile).visit
        assert db.execute(select(Visit.notes).where(Visit.id == visit.id)).scalar() == (hostile.strip() or None)


def test_an_issue_found_on_a_visit_is_reported_and_linked(db, village):
    ids, people = village
    visit = record(db, people["worker"], ids["H_PLAIN_OK"]).visit
    data = {"title": "屋顶漏雨", "category": "drinking_water", "client_uuid": str(uuid.uuid4())}
    issue = visits.report_issue(db, people["worker"], visit.id, data)
    assert (issue.grid_code, issue.source, issue.created_by) == (ISSUE_GRID, "visit", people["worker"].id)
    assert db.get(Visit, visit.id).issue_id == issue.id
    assert visits.report_issue(db, people["worker"], str(visit.client_uuid), data).id == issue.id
    _row, _visits, open_issues = field_queries.household(
        db, Scope("532329", region_code=ISSUE_GRID), "grid_worker", ids["H_PLAIN_OK"], NOW)
    assert [i.id for i in open_issues] == [issue.id]
    assert [i.id for i in field_queries.my_issues(db, people["worker"])] == [issue.id]
    with pytest.raises(NotFound):
        visits.report_issue(db, people["other_worker"], visit.id, data)
    with pytest.raises(BadInput):
        visits.report_issue(db, people["worker"], "not-a-visit", data)


def test_a_care_flag_turned_on_is_recorded_whoever_writes_the_row(db, village):
    ids, _people = village
    changed = lambda: db.execute(text(  # noqa: E731
        "SELECT care_flags_changed_at FROM household WHERE id = :h"), {"h": ids["H_PLAIN_OK"]}).scalar()
    db.execute(text("UPDATE household SET address = '新地址' WHERE id = :h"), {"h": ids["H_PLAIN_OK"]})
    assert changed() is None  # not a care flag
    db.execute(text("UPDATE household SET disability_grade = 2 WHERE id = :h"), {"h": ids["H_PLAIN_OK"]})
    assert changed() is not None
    first = changed()
    db.execute(text("UPDATE household SET minimum_living = false WHERE id = :h"), {"h": ids["H_PLAIN_OK"]})
    assert changed() == first  # a flag taken away makes nothing due


def test_a_new_care_flag_makes_a_visit_due_at_once_until_the_next_visit(db, village):
    ids, people = village
    scope = Scope("532329", region_code=ISSUE_GRID)
    assert "H_PLAIN_OK" not in due_codes(db, scope)  # visited 80 days ago, 90 allowed
    # 低保 from yesterday (set as the trigger would, on the test's clock)
    db.execute(text("UPDATE household SET minimum_living = true WHERE id = :h"), {"h": ids["H_PLAIN_OK"]})
    db.execute(text("UPDATE household SET care_flags_changed_at = :at WHERE id = :h"),
               {"h": ids["H_PLAIN_OK"], "at": NOW - timedelta(days=1)})
    assert "H_PLAIN_OK" in due_codes(db, scope) and "H_PLAIN_OK" in gap_codes(db, scope)
    assert due_codes(db, scope) == gap_codes(db, scope)
    visits.record(db, people["worker"], {"household_id": ids["H_PLAIN_OK"]})
    assert "H_PLAIN_OK" not in due_codes(db, scope) and "H_PLAIN_OK" not in gap_codes(db, scope)


def test_an_issue_fixed_on_the_spot_goes_straight_to_handled_once(db, village):
    ids, people = village
    visit = record(db, people["worker"], ids["H_PLAIN_OK"]).visit
    data = {"title": "水龙头松了", "category": "drinking_water", "client_uuid": str(uuid.uuid4()),
            "resolved_on_spot": True, "resolution": "当场拧紧"}
    issue = visits.report_issue(db, people["worker"], visit.id, data)
    assert (issue.status, issue.household_id) == ("handled", ids["H_PLAIN_OK"])
    again = visits.report_issue(db, people["worker"], visit.id, data)
    assert again.id == issue.id and again.version == issue.version
    actions = db.execute(text("SELECT action FROM issue_event WHERE issue_id = :i ORDER BY id"),
                         {"i": issue.id}).scalars().all()
    assert actions == ["report", "resolve_on_spot"]
    with pytest.raises(BadInput, match="怎样解决"):
        visits.report_issue(db, people["worker"], visit.id, {**data, "client_uuid": str(uuid.uuid4()),
                                                             "resolution": " "})


def due_reasons(db, scope=None):
    scope = scope or Scope("532329", region_code=ISSUE_GRID)
    return {row.code: str(row.reason) for row in
            field_queries.households(db, scope, "grid_worker", NOW) if row.due}


def added_since(db, household_id, days_ago):
    """Set the moment of the care change on the test's clock (the trigger uses the server's)."""
    db.execute(text("UPDATE household SET care_flags_changed_at = :at WHERE id = :h"),
               {"h": household_id, "at": NOW - timedelta(days=days_ago)})


def test_the_due_list_says_why_each_household_is_due(db, village):
    ids, _people = village
    db.execute(text("UPDATE household SET elderly_alone = true WHERE id = :h"), {"h": ids["H_PLAIN_OK"]})
    added_since(db, ids["H_PLAIN_OK"], 1)
    assert due_reasons(db) == {
        "H_NEW": "新户",
        "H_PLAIN_OK": "新增关怀标记：空巢/独居",
        "H_PLAIN_LATE": "超过 90 天未走访",
        "H_POOR_LATE": "超过 30 天未走访",
        "H_ALONE_POOR": "超过 30 天未走访",
        "H_DISABLED_1": "超过 60 天未走访",
        "H_MONITORED": "超过 30 天未走访",
    }
    scope = Scope("532329", region_code=ISSUE_GRID)
    assert set(due_reasons(db)) == gap_codes(db, scope)


def test_care_flags_added_before_the_next_visit_are_all_named_and_a_visit_clears_them(db, village):
    ids, people = village
    household = ids["H_PLAIN_OK"]
    added = lambda: db.execute(text(  # noqa: E731
        "SELECT care_flags_added FROM household WHERE id = :h"), {"h": household}).scalar()
    db.execute(text("UPDATE household SET minimum_living = true WHERE id = :h"), {"h": household})
    assert added() == ["minimum_living"]
    db.execute(text("UPDATE household SET elderly_alone = true WHERE id = :h"), {"h": household})
    assert added() == ["elderly_alone", "minimum_living"]
    added_since(db, household, 1)
    assert due_reasons(db)["H_PLAIN_OK"] == "新增关怀标记：低保 / 空巢/独居"
    db.execute(text("INSERT INTO visit (county_code, household_id, visited_at)"
                    " VALUES ('532329', :h, now())"), {"h": household})
    db.execute(text("UPDATE household SET disability_grade = 1, disability_category = '肢体'"
                    " WHERE id = :h"), {"h": household})
    assert added() == ["disability"]  # the visit saw the first two


def campaign(db, name, starts_days_ago, due_in_days, *households):
    campaign_id = db.execute(text(
        "INSERT INTO campaign (county_code, name, region_code, rule, starts_on, due_on)"
        " VALUES ('532329', :name, :region, 'paired', :starts, :due) RETURNING id"),
        {"name": name, "region": ISSUE_VILLAGE, "starts": (NOW - timedelta(days=starts_days_ago)).date(),
         "due": (NOW + timedelta(days=due_in_days)).date()}).scalar()
    for household in households:
        db.execute(text("INSERT INTO campaign_household (campaign_id, household_id, county_code)"
                        " VALUES (:c, :h, '532329')"), {"c": campaign_id, "h": household})
    return campaign_id


def test_a_running_campaign_makes_its_unvisited_households_due_with_its_name(db, village):
    ids, people = village
    scope = Scope("532329", region_code=ISSUE_GRID)
    before = due_codes(db, scope)
    assert {"H_PLAIN_OK", "H_ALONE_OK"}.isdisjoint(before)
    campaign(db, "春节前走访结对户", 5, 10, ids["H_PLAIN_OK"], ids["H_ALONE_OK"], ids["H_NEW"])
    campaign(db, "已结束的活动", 40, -1, ids["H_DISABLED_3"])  # past its date: nothing due
    campaign(db, "还没开始的活动", -2, 20, ids["H_DISABLED_3"])  # not begun: nothing due
    reasons = due_reasons(db)
    assert reasons["H_PLAIN_OK"] == reasons["H_ALONE_OK"] == "走访活动：春节前走访结对户，截止 2026-12-03"
    assert reasons["H_NEW"] == "新户"  # never visited says so first
    assert "H_DISABLED_3" not in reasons
    total, due = field_queries.counts(db, scope, NOW)
    assert due == len(before) + 2 == coverage.gap_counts(db.connection(), scope, NOW)["visit"]
    assert due_codes(db, scope) == gap_codes(db, scope) == before | {"H_PLAIN_OK", "H_ALONE_OK"}
    # the same count in hand-written SQL: the rule's households plus the campaign's unvisited
    by_hand = db.execute(text("""
        SELECT count(*) FROM household h WHERE h.grid_code = :grid AND (h.code = ANY(:before)
          OR EXISTS (SELECT 1 FROM campaign c JOIN campaign_household m ON m.campaign_id = c.id
                     WHERE m.household_id = h.id AND c.starts_on <= :today AND c.due_on >= :today
                       AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.household_id = h.id
                           AND v.kind = 'visit'
                           AND v.visited_at >= c.starts_on::timestamp AT TIME ZONE 'Asia/Shanghai')))"""),
        {"grid": ISSUE_GRID, "before": sorted(before), "today": NOW.date()}).scalar()
    assert by_hand == due
    visits.record(db, people["worker"], {"household_id": ids["H_ALONE_OK"]})
    assert "H_ALONE_OK" not in due_codes(db, scope) and "H_ALONE_OK" not in gap_codes(db, scope)
