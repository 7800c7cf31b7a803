"""The `visit` gap rule reads the kept rows (household_visit_state, migration 0034) branch by
branch; the due list reads the rule per household (VisitState.due_at). Whatever intervals the
county sets and whichever scope asks, both find the same households: never visited, a care
flag turned on since the last visit, a running campaign waiting for a 走访, or the interval of
the household's care flags passed; households moved or taken off the register follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridmap import field_queries
from gridmap.coverage import (
    CARE_FLAGS,
    VisitIntervals,
    VisitState,
    gap_counts,
    gap_rollup,
    gap_rows,
    gaps,
    is_due,
)
from gridmap.maps import rollup
from gridmap.models import Household
from gridmap.policy import Scope

COUNTY, TOWNSHIP = "532329", "532329104"
V1, V2 = TOWNSHIP + "201", TOWNSHIP + "202"
G1, G2, G3 = V1 + "001", V1 + "002", V2 + "001"
# Relative to the database's own clock: a care flag turned on is stamped with now().
NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

# code, grid, care flags (column=value), days since the last visit (None: never), its kind
HOUSEHOLDS = (
    ("N1", G1, {}, None, None),
    ("O1", G1, {}, 100, "visit"),
    ("O2", G1, {}, 10, "visit"),
    ("E1", G1, {"extreme_poverty": "true"}, 45, "visit"),
    ("E2", G2, {"elderly_alone": "true", "minimum_living": "true"}, 40, "visit"),
    ("A1", G2, {"elderly_alone": "true"}, 45, "visit"),
    ("D1", G2, {"disability_grade": "2"}, 70, "visit"),
    ("D2", G2, {"disability_grade": "3"}, 70, "visit"),
    ("K1", G3, {"left_behind_children": "true", "relapse_monitoring": "true"}, 35, "callback"),
    ("C1", G3, {}, 5, "visit"),  # a care flag turned on after this visit
    ("P1", G3, {}, 10, "visit"),  # in the running campaign, walked before it began
    ("P2", G3, {}, 1, "visit"),  # in the running campaign, walked since it began
    ("P3", G1, {}, 1, "callback"),  # in the running campaign, only a 回访 since it began
    ("X1", G1, {}, None, None),  # moved out: on no list
)

SETTINGS = {
    "defaults": VisitIntervals(),
    "lenient": VisitIntervals(default_days=365, flag_days=()),
    "strict": VisitIntervals(default_days=7, flag_days=tuple((flag, 3) for flag in CARE_FLAGS)),
    "a flag longer than the default": VisitIntervals(
        default_days=20, flag_days=(("elderly_alone", 200), ("disability_severe", 50))),
    "due the same day": VisitIntervals(default_days=0, flag_days=(("extreme_poverty", 0),)),
}


@pytest.fixture
def county(connection):
    run = lambda sql, **kw: connection.execute(text(sql), kw)  # noqa: E731
    run("INSERT INTO region (county_code, code, level, name) VALUES"
        " (:c, :c, 'county', '武定县'), (:c, :t, 'township', '插甸镇'),"
        " (:c, :v1, 'village', '插甸村'), (:c, :v2, 'village', '乐茂河村')",
        c=COUNTY, t=TOWNSHIP, v1=V1, v2=V2)
    for grid in (G1, G2, G3):
        run("INSERT INTO grid (county_code, code, village_code, name) VALUES (:c, :g, :v, :g)",
            c=COUNTY, g=grid, v=grid[:12])
    for code, grid, flags, days, kind in HOUSEHOLDS:
        columns = "".join(f", {column}" for column in flags)
        values = "".join(f", {value}" for value in flags.values())
        run(f"INSERT INTO household (county_code, code, grid_code, village_code, head_name{columns})"
            f" VALUES (:c, :code, :g, :v, :code{values})", c=COUNTY, code=code, g=grid, v=grid[:12])
        if days is not None:
            run("INSERT INTO visit (county_code, household_id, visited_at, kind)"
                " SELECT :c, id, :at, :kind FROM household WHERE code = :code",
                c=COUNTY, at=NOW - timedelta(days=days), kind=kind, code=code)
    run("UPDATE household SET left_behind_women = true WHERE code = 'C1'")
    run("UPDATE household SET status = 'moved_out', left_on = current_date WHERE code = 'X1'")
    run("INSERT INTO unit (county_code, code, name, kind, region_code)"
        " VALUES (:c, 'U1', '乐茂河村委会', 'village', :v)", c=COUNTY, v=V2)
    run("INSERT INTO cadre (county_code, code, name) VALUES (:c, 'Q1', '王强')", c=COUNTY)
    run("INSERT INTO assignment (county_code, kind, cadre_id, household_id)"
        " SELECT :c, 'household', (SELECT id FROM cadre WHERE code = 'Q1'), id FROM household"
        " WHERE code IN ('N1', 'E1', 'C1', 'P1', 'D2')", c=COUNTY)
    starts = (NOW - timedelta(days=3)).date()
    run("INSERT INTO campaign (county_code, name, region_code, rule, starts_on, due_on)"
        " VALUES (:c, '春节走访', :c, 'all', :s, :d)", c=COUNTY, s=starts, d=starts + timedelta(days=30))
    run("INSERT INTO campaign_household (campaign_id, household_id, county_code)"
        " SELECT (SELECT id FROM campaign), id, :c FROM household WHERE code IN ('P1', 'P2', 'P3')",
        c=COUNTY)
    return connection


def scopes(connection) -> dict[str, Scope]:
    cadre = connection.execute(text("SELECT id FROM cadre WHERE code = 'Q1'")).scalar()
    unit = connection.execute(text("SELECT id FROM unit WHERE code = 'U1'")).scalar()
    return {"county": Scope(COUNTY, region_code=COUNTY), "township": Scope(COUNTY, region_code=TOWNSHIP),
            "village": Scope(COUNTY, region_code=V2), "grid": Scope(COUNTY, region_code=G1),
            "cadre": Scope(COUNTY, cadre_id=cadre),
            # a village office's handler created with the county's code sees that village only
            "unit": Scope(COUNTY, unit_id=unit, region_code=COUNTY)}


def due_by_rule(connection, scope: Scope, now: datetime, intervals: VisitIntervals) -> set[str]:
    """The rule per household, as the due list reads it (and the gap rule did before 0034)."""
    state = VisitState(scope.county_code, now)
    query = state.join(select(Household.code)).where(
        scope.households(), is_due(state.due_at(intervals), now))
    return set(connection.execute(query).scalars())


def assert_same_households(connection, now: datetime = NOW) -> None:
    session = Session(bind=connection)
    for scope_name, scope in scopes(connection).items():
        for name, intervals in SETTINGS.items():
            expected = due_by_rule(connection, scope, now, intervals)
            where = f"{scope_name}, {name}"
            assert gap_counts(connection, scope, now, intervals, kinds=("visit",)) == {
                "visit": len(expected)}, where
            assert {row["code"] for row in gaps(connection, "visit", scope, now, intervals)} == expected, where
            assert {row["code"] for row in gap_rows(connection, "visit", scope, now, intervals)} == expected, where
            assert sum(row["count"] for row in gap_rollup(connection, "visit", scope, now, intervals)) == len(expected), where
            assert field_queries.counts(session, scope, now, intervals)[1] == len(expected), where
            listed = field_queries.households(session, scope, "admin", now, intervals)
            assert {row.code for row in listed if row.due} == expected, where
            per_village = rollup.values(session, scope, "village", "gap_visit", now, intervals)
            assert sum(per_village.values()) == len(expected), where


def test_each_branch_of_the_rule_finds_its_households(county):
    due = {row["code"] for row in gaps(county, "visit", scopes(county)["county"], NOW)}
    # never visited; 90 days passed; 特困 30; 低保 30 beats 空巢 60; grade-2 disability 60;
    # 监测户 30 (a 回访 is a visit); a flag turned on since the visit; the campaign's 走访 awaited
    assert due == {"N1", "O1", "E1", "E2", "D1", "K1", "C1", "P1", "P3"}


def test_the_kept_rows_and_the_rule_agree_for_every_setting_and_scope(county):
    assert_same_households(county)


def test_households_moved_taken_off_and_back_on_the_register_follow(county):
    county.execute(text("UPDATE household SET grid_code = :g, village_code = :v WHERE code IN ('O1', 'N1')"),
                   {"g": G3, "v": V2})
    county.execute(text("UPDATE household SET grid_code = NULL WHERE code = 'E1'"))
    county.execute(text("UPDATE household SET status = 'deceased', left_on = current_date WHERE code = 'D1'"))
    county.execute(text("UPDATE household SET status = 'active', left_on = NULL WHERE code = 'X1'"))
    assert_same_households(county)


def test_flags_and_visits_changed_after_the_fact_follow(county):
    county.execute(text("UPDATE household SET extreme_poverty = false, disability_grade = 1 WHERE code = 'E1'"))
    county.execute(text("UPDATE household SET elderly_alone = true WHERE code = 'O2'"))
    county.execute(text("DELETE FROM visit WHERE household_id = (SELECT id FROM household WHERE code = 'O1')"))
    county.execute(text("INSERT INTO visit (county_code, household_id, visited_at)"
                        " SELECT county_code, id, :at FROM household WHERE code IN ('C1', 'P1')"),
                   {"at": NOW - timedelta(minutes=5)})
    assert_same_households(county)


def test_a_flag_stamped_after_the_moment_asked_about_is_not_yet_due_by_either(county):
    # C1's flag was turned on at the database's now(): an hour before NOW, after this moment
    earlier = NOW - timedelta(days=2)
    assert "C1" not in due_by_rule(county, scopes(county)["county"], earlier, VisitIntervals())
    assert_same_households(county, earlier)


def test_a_campaign_not_yet_begun_or_ended_waits_for_no_one(county):
    county.execute(text("UPDATE campaign SET starts_on = :s, due_on = :d"),
                   {"s": NOW.date() + timedelta(days=1), "d": NOW.date() + timedelta(days=9)})
    assert_same_households(county)
    county.execute(text("UPDATE campaign SET starts_on = :s, due_on = :d"),
                   {"s": NOW.date() - timedelta(days=20), "d": NOW.date() - timedelta(days=9)})
    assert_same_households(county)
