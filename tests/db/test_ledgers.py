"""Meetings, deeds, the 民情日记, 结对帮扶 and the dashboard: facts entered once, figures that
equal hand-written SQL and rise by exactly one when one fact is added."""

from datetime import date

import pytest
from sqlalchemy import select, text
from support import HOSTILE_NAME, ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import dashboard, ledgers, metrics, targets
from gridmap.errors import BadInput, Forbidden, NotFound
from gridmap.models import Issue, MeetingIssue
from gridmap.policy import Scope

VILLAGE = OPEN_TOWNSHIP + "201"
OTHER_VILLAGE = OPEN_TOWNSHIP + "202"
GRID = VILLAGE + "001"
PERIOD = metrics.Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    connection = db.connection()
    seed_open_data_county(connection)
    run = lambda sql, **p: connection.execute(text(sql), {"c": ISSUE_COUNTY, **p})  # noqa: E731
    cadre = run("INSERT INTO cadre (county_code, code, name) VALUES (:c, 'C1', '赵干部') RETURNING id").scalar()
    households = dict(connection.execute(text("SELECT code, id FROM household")).all())
    for code in ("H0", "H1", "J0"):  # 结对: three households paired with the cadre
        run("INSERT INTO assignment (county_code, kind, cadre_id, household_id)"
            " VALUES (:c, 'household', :cadre, :h)", cadre=cadre, h=households[code])
    run("INSERT INTO visit (county_code, household_id, cadre_id, visited_at, notes)"
        " VALUES (:c, :h, :cadre, '2026-11-10T10:00:00+08:00', '了解到水管老化，群众盼修')",
        h=households["H0"], cadre=cadre)
    run("INSERT INTO visit (county_code, household_id, visited_at, notes)"
        " VALUES (:c, :h, '2026-10-10T10:00:00+08:00', '上月走访')", h=households["H1"])
    return {"households": households, "cadre_id": cadre,
            "township": seed_user(connection, "township_staff", OPEN_TOWNSHIP),
            "village": seed_user(connection, "village_staff", VILLAGE, cadre_id=cadre),
            "other_village": seed_user(connection, "village_staff", OTHER_VILLAGE),
            "grid_worker": seed_user(connection, "grid_worker", GRID),
            "leader": seed_user(connection, "leader", ISSUE_COUNTY),
            "unit": seed_user(connection, "unit_handler", ISSUE_COUNTY)}


def figure(db, scope, key, period=PERIOD):
    return {f.key: f for f in dashboard.figures(db, scope, period)}[key]


def test_a_meeting_is_recorded_in_the_village_and_its_issues_enter_the_lifecycle(db, people):
    meeting = ledgers.record_meeting(db, people["grid_worker"], {
        "kind": "courtyard", "held_at": "2026-11-20T19:30", "place": "村委会院坝",
        "attendance": "46", "topics": "饮水、道路"})
    assert (meeting.region_code, meeting.attendance) == (VILLAGE, 46)  # the grid's village
    issue = ledgers.raise_issue(db, people["grid_worker"], meeting.id, {
        "title": "三组水管老化", "category": "water", "grid_code": GRID})
    assert issue.status == "reported" and issue.source == "resident"
    assert db.execute(select(MeetingIssue.meeting_id).where(MeetingIssue.issue_id == issue.id)) \
        .scalar() == meeting.id
    [row] = ledgers.meetings(db, people["township"])
    assert (row["id"], row["issues"]) == (meeting.id, 1)
    assert ledgers.meetings(db, people["other_village"]) == []
    with pytest.raises(NotFound):
        ledgers.get_meeting(db, people["other_village"], meeting.id)


@pytest.mark.parametrize("data, field", [
    ({"attendance": "-1", "topics": "x"}, "attendance"),
    ({"attendance": "many", "topics": "x"}, "attendance"),
    ({"attendance": "3", "topics": ""}, "topics"),
    ({"attendance": "3", "topics": "x", "held_at": "2026-12-30T10:00"}, "held_at"),
    ({"attendance": "3", "topics": "x", "region": OTHER_VILLAGE}, "region"),
    ({"attendance": "3", "topics": "x", "lon": "200", "lat": "25"}, "lon"),
])
def test_a_bad_meeting_names_its_field(db, people, data, field):
    with pytest.raises((BadInput, NotFound)) as refused:
        ledgers.record_meeting(db, people["grid_worker"], data)
    assert refused.value.field == field


def test_deeds_take_their_place_from_the_household_and_refuse_what_is_out_of_scope(db, people):
    h0 = people["households"]["H0"]
    deed = ledgers.record_deed(db, people["village"], {
        "title": "帮助更换入户水管", "household_id": str(h0), "cost_yuan": "1,200.50",
        "done_on": "2026-11-21"})
    assert (deed.region_code, str(deed.cost_yuan), deed.cadre_id) == (VILLAGE, "1200.50",
                                                                      people["cadre_id"])
    with pytest.raises(NotFound):
        ledgers.record_deed(db, people["other_village"], {"title": "x", "household_id": str(h0)})
    for bad, field in (({"cost_yuan": "1.234"}, "cost_yuan"), ({"cost_yuan": "-5"}, "cost_yuan"),
                       ({"done_on": "2026-12-25"}, "done_on"), ({"title": ""}, "title"),
                       ({"unit": "NOPE"}, "unit")):
        with pytest.raises(BadInput) as refused:
            ledgers.record_deed(db, people["village"], {"title": "修路", **bad})
        assert refused.value.field == field
    with pytest.raises(Forbidden):
        ledgers.record_deed(db, people["leader"], {"title": "视察"})


def test_the_diary_is_the_visit_notes_plus_free_entries_searchable_and_scoped(db, people):
    ledgers.write_entry(db, people["village"], {"body": f"夜访独居老人，{HOSTILE_NAME}"})
    lines = ledgers.diary(db, people["village"])
    assert [line.source for line in lines] == ["entry", "visit", "visit"]
    assert [line.text for line in ledgers.diary(db, people["village"], q="水管")] == [
        "了解到水管老化，群众盼修"]
    assert [line.source for line in ledgers.diary(db, people["village"], mine=True)] == [
        "entry", "visit"]  # their entry, and the visit of the cadre their account is
    assert ledgers.diary(db, people["other_village"]) == []
    assert ledgers.diary(db, people["village"], q="%") == []  # a wildcard is a character


def test_pairings_list_the_help_each_paired_household_got(db, people):
    ledgers.record_deed(db, people["village"], {"title": "代购药品", "cost_yuan": "80",
                                                "household_id": str(people["households"]["H1"])})
    rows = {row["household"]: row for row in ledgers.pairings(
        db, people["township"], start=PERIOD.start, end=PERIOD.end)}
    assert set(rows) == {"H0", "H1", "J0"}
    assert (rows["H0"]["visits"], rows["H1"]["visits"], rows["H1"]["deeds"]) == (1, 0, 1)
    assert float(rows["H1"]["cost_yuan"]) == 80.0


def test_each_figure_equals_hand_written_sql(db, people):
    scope = Scope.of_user(people["township"])
    visited = db.execute(text(
        "SELECT count(DISTINCT household_id) FROM visit WHERE kind = 'visit'"
        " AND visited_at >= '2026-11-01T00:00+08:00' AND visited_at < '2026-12-01T00:00+08:00'")).scalar()
    grids = db.execute(text("SELECT count(*) FROM grid WHERE valid_to IS NULL"
                            " AND village_code LIKE :t || '%'"), {"t": OPEN_TOWNSHIP}).scalar()
    paired = db.execute(text("SELECT count(DISTINCT household_id) FROM assignment"
                             " WHERE kind = 'household' AND valid_to IS NULL")).scalar()
    reported = db.execute(select(Issue).where(scope.issues(), PERIOD.condition(),
                                              Issue.status != "voided")).all()
    values = {f.key: f.value for f in dashboard.figures(db, scope, PERIOD)}
    assert (values["households_visited"], values["grids"], values["paired_households"]) == (
        visited, grids, paired) == (1, 4, 3)
    assert values["issues_reported"] == len(reported)
    assert figure(db, scope, "households_visited").previous == 1  # October's one visit


def test_one_more_visit_meeting_and_deed_raise_each_figure_by_exactly_one(db, people):
    scope = Scope.of_user(people["leader"])
    before = {f.key: f.value for f in dashboard.figures(db, scope, PERIOD)}
    db.execute(text("INSERT INTO visit (county_code, household_id, visited_at)"
                    " VALUES (:c, :h, '2026-11-22T10:00:00+08:00')"),
               {"c": ISSUE_COUNTY, "h": people["households"]["J1"]})  # not yet visited in November
    ledgers.record_meeting(db, people["village"], {"attendance": "30", "topics": "春节前走访安排",
                                                   "held_at": "2026-11-22T15:00"})
    ledgers.record_deed(db, people["village"], {"title": "修缮村道路灯", "cost_yuan": "300"})
    after = {f.key: f.value for f in dashboard.figures(db, scope, PERIOD)}
    assert {k: after[k] - before[k] for k in ("households_visited", "meetings", "deeds")} == {
        "households_visited": 1, "meetings": 1, "deeds": 1}
    assert after["deeds_cost"] - before["deeds_cost"] == 300
    ids = {row["code"] for row in dashboard.rows(db, scope, "households_visited", PERIOD)}
    assert ids == {"H0", "J1"}
    assert len(dashboard.rows(db, scope, "meetings", PERIOD)) == after["meetings"]


def test_the_ranking_puts_the_worst_township_first_and_counts_its_gaps(db, people):
    scope = Scope.of_user(people["leader"])
    [row] = dashboard.ranking(db, scope, PERIOD)  # the county's one township
    assert row["code"] == OPEN_TOWNSHIP
    # 6 households have no 包户 cadre; all 9 are due a visit except H0 (visited this month)
    assert (row["gap_household"], row["gap_visit"]) == (6, 8)
    assert row["total"] == row["overdue"] + row["gaps"]
    villages = dashboard.ranking(db, Scope.of_user(people["township"]), PERIOD)
    assert [v["code"] for v in villages][0] == VILLAGE
    assert dashboard.ranking(db, Scope.of_user(people["village"]), PERIOD) == []


def test_the_period_is_this_year_by_default_and_the_previous_one_as_long(people):
    period = dashboard.period_of(None, None)
    assert (period.start, period.end) == (date(2026, 1, 1), date(2026, 11, 23))
    before = dashboard.previous(metrics.Period(date(2026, 11, 1), date(2026, 11, 30)))
    assert (before.start, before.end) == (date(2026, 10, 2), date(2026, 10, 31))  # 环比
    last_year = dashboard.previous(period)  # a year so far: 同比, the same dates a year earlier
    assert (last_year.start, last_year.end) == (date(2025, 1, 1), date(2025, 11, 23))
    leap = dashboard.previous(metrics.Period(date(2028, 1, 1), date(2028, 2, 29)))
    assert leap.end == date(2027, 2, 28)
    with pytest.raises(BadInput):
        dashboard.period_of("2026-13-01", None)
    with pytest.raises(BadInput) as ancient:  # schemathesis found it: a year-55 period
        dashboard.period_of("0055-07-07", None)
    assert ancient.value.field == "from"


def test_each_ledger_row_gets_a_code_of_its_kind_date_and_id(db, people):
    """Codes as issues have them (MQ…): GP 挂牌, HY 会议, SS 实事 + China date + the row's id."""
    meeting = ledgers.record_meeting(db, people["grid_worker"], {
        "held_at": "2026-11-20T19:30", "attendance": "20", "topics": "防火"})
    deed = ledgers.record_deed(db, people["village"], {"title": "代购药品", "done_on": "2026-11-21"})
    target = targets.tag(db, people["township"], {"kind": "region", "region": VILLAGE,
                                                  "reason": "矛盾纠纷多发", "due_on": "2027-03-31"})
    assert meeting.code == f"HY20261123{meeting.id:05d}"
    assert deed.code == f"SS20261123{deed.id:05d}"
    assert target.code == f"GP20261123{target.id:05d}"
