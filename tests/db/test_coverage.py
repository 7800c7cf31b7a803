"""Each 五包 gap rule, on a tiny village: one covered thing and one gap of every kind."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from gridmap.coverage import RULES, VisitIntervals, gap_counts, gaps
from gridmap.policy import Scope

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COUNTY = "532329"
SQUARE = "MULTIPOLYGON((({x} 25,{x1} 25,{x1} 25.01,{x} 25.01,{x} 25)))"


def square(x):
    return SQUARE.format(x=x, x1=round(x + 0.01, 6))


@pytest.fixture
def village(connection):
    """插甸镇 with two villages (one led, one not), two grids, four households."""
    run = lambda sql, **kw: connection.execute(text(sql), kw)  # noqa: E731
    run("INSERT INTO region (county_code, code, level, name) VALUES"
        " (:c, '532329', 'county', '武定县'),"
        " (:c, '532329104', 'township', '插甸镇'),"
        " (:c, '532329104201', 'village', '插甸村'),"
        " (:c, '532329104202', 'village', '乐茂河村')", c=COUNTY)
    run("INSERT INTO grid (county_code, code, village_code, name, geom) VALUES"
        " (:c, '532329104201001', '532329104201', '一网格', ST_GeomFromText(:g1, 4326)),"
        " (:c, '532329104201002', '532329104201', '二网格', ST_GeomFromText(:g2, 4326))",
        c=COUNTY, g1=square(102.40), g2=square(102.41))
    run("INSERT INTO unit (county_code, code, name, kind) VALUES (:c, 'U1', '县农业农村局', 'agency')", c=COUNTY)
    run("INSERT INTO cadre (county_code, code, name, unit_id) SELECT :c, 'C1', '李四', id FROM unit", c=COUNTY)
    run("INSERT INTO household (county_code, code, grid_code, village_code, head_name, extreme_poverty) VALUES"
        " (:c, 'H1', '532329104201001', '532329104201', '张一', false),"
        " (:c, 'H2', '532329104201001', '532329104201', '张二', true),"
        " (:c, 'H3', '532329104201002', '532329104201', '张三', false),"
        " (:c, 'H4', NULL, '532329104201', '张四', false)", c=COUNTY)
    run("INSERT INTO party_branch (county_code, code, name, village_code) VALUES"
        " (:c, 'B1', '插甸村党总支', '532329104201'), (:c, 'B2', '乐茂河村党支部', '532329104202')", c=COUNTY)
    run("INSERT INTO area (county_code, code, name, township_code) VALUES (:c, 'A1', '插甸片', '532329104')", c=COUNTY)
    run("INSERT INTO area_grid (area_id, grid_code, county_code) SELECT id, '532329104201001', :c FROM area", c=COUNTY)
    cadre = "(SELECT id FROM cadre WHERE code = 'C1')"
    unit = "(SELECT id FROM unit WHERE code = 'U1')"
    run(f"INSERT INTO assignment (county_code, kind, cadre_id, region_code) VALUES (:c, 'village', {cadre}, '532329104201')", c=COUNTY)
    run(f"INSERT INTO assignment (county_code, kind, unit_id, area_id) SELECT :c, 'area', {unit}, id FROM area", c=COUNTY)
    run(f"INSERT INTO assignment (county_code, kind, unit_id, grid_code) VALUES (:c, 'group', {unit}, '532329104201001')", c=COUNTY)
    run(f"INSERT INTO assignment (county_code, kind, cadre_id, party_branch_id) SELECT :c, 'branch', {cadre}, id FROM party_branch WHERE code = 'B1'", c=COUNTY)
    run(f"INSERT INTO assignment (county_code, kind, cadre_id, household_id) SELECT :c, 'household', {cadre}, id FROM household WHERE code IN ('H1', 'H2', 'H3')", c=COUNTY)
    # an ended assignment covers nothing
    run(f"INSERT INTO assignment (county_code, kind, cadre_id, household_id, valid_from, valid_to)"
        f" SELECT :c, 'household', {cadre}, id, now() - interval '2 years', now() - interval '1 year' FROM household WHERE code = 'H4'", c=COUNTY)
    visit = ("INSERT INTO visit (county_code, household_id, visited_at)"
             " SELECT :c, id, :at FROM household WHERE code = :h")
    run(visit, c=COUNTY, at=NOW - timedelta(days=10), h="H1")
    run(visit, c=COUNTY, at=NOW - timedelta(days=45), h="H2")  # 特困: 30 days allowed
    run(visit, c=COUNTY, at=NOW - timedelta(days=45), h="H3")  # ordinary: 90 days allowed
    return Scope(COUNTY, region_code=COUNTY)


def codes(connection, kind, scope, **kw):
    return [row["code"] for row in gaps(connection, kind, scope, NOW, **kw)]


def test_village_without_a_leader_is_a_gap(connection, village):
    assert codes(connection, "village", village) == ["532329104202"]


def test_grid_without_a_unit_is_a_gap(connection, village):
    assert codes(connection, "group", village) == ["532329104201002"]


def test_grid_in_no_covered_area_is_a_gap(connection, village):
    assert codes(connection, "area", village) == ["532329104201002"]


def test_branch_without_a_cadre_is_a_gap(connection, village):
    assert codes(connection, "branch", village) == ["B2"]


def test_weak_branch_without_a_cadre_is_a_gap(connection, village):
    assert codes(connection, "weak_branch", village) == []
    connection.execute(text("UPDATE party_branch SET weak = true"))  # B1 has its cadre
    assert codes(connection, "weak_branch", village) == ["B2"]


def test_household_whose_assignment_ended_is_a_gap(connection, village):
    assert codes(connection, "household", village) == ["H4"]


def test_household_outside_every_grid_is_a_gap(connection, village):
    assert codes(connection, "uncovered", village) == ["H4"]


def test_priority_household_is_due_sooner(connection, village):
    assert codes(connection, "visit", village) == ["H2", "H4"]


def test_visit_intervals_come_from_settings(connection, village):
    lenient = VisitIntervals.from_settings({"extreme_poverty": 60, "default": 90})
    assert codes(connection, "visit", village, intervals=lenient) == ["H4"]


def test_counts_cover_every_rule(connection, village):
    counts = gap_counts(connection, village, NOW)
    assert set(counts) == set(RULES)
    assert counts == {"village": 1, "area": 1, "group": 1, "branch": 1, "weak_branch": 0,
                      "household": 1, "visit": 2, "uncovered": 1,
                      "uncovered_area": 0, "grid_worker": 2}


def test_a_grid_workers_scope_sees_only_their_grid(connection, village):
    scope = Scope(COUNTY, region_code="532329104201002")
    assert codes(connection, "group", scope) == ["532329104201002"]
    assert codes(connection, "household", scope) == []


def test_another_county_sees_no_gaps_here(connection, village):
    counts = gap_counts(connection, Scope("530681", region_code="530681"), NOW)
    assert set(counts.values()) == {0}


def test_unknown_rule_is_named(connection, village):
    with pytest.raises(ValueError, match="no coverage rule 'nonsense'"):
        gaps(connection, "nonsense", village, NOW)
