"""The gap rules the map draws as places: households outside their grid, the part of a
village no grid covers, grids without a grid worker; on a seeded village and on the demo."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import ROOT, load_demo_county

from gridmap.coverage import RULES, gap_counts, gap_rollup, gap_rows, gaps
from gridmap.db import make_engine
from gridmap.maps.gaps import DRAWN_AS, gap_layer_json
from gridmap.policy import Scope

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COUNTY = "532329"
VILLAGE = "532329104201"
BOX = "ST_Multi(ST_MakeEnvelope({}, 25.0, {}, 25.01, 4326))"


@pytest.fixture
def village(connection):
    """A village 0.03° wide with two grids over its western two thirds; households inside
    their grid, in the other grid, in the part no grid covers, and without a location."""
    run = lambda sql, **kw: connection.execute(text(sql), kw)  # noqa: E731
    run("INSERT INTO region (county_code, code, level, name, geom) VALUES"
        f" (:c, '532329', 'county', '县', {BOX.format(102.40, 102.43)}),"
        f" (:c, '532329104', 'township', '镇', {BOX.format(102.40, 102.43)}),"
        f" (:c, :v, 'village', '村', {BOX.format(102.40, 102.43)})", c=COUNTY, v=VILLAGE)
    run("INSERT INTO grid (county_code, code, village_code, name, geom) VALUES"
        f" (:c, :v || '001', :v, '一', {BOX.format(102.40, 102.41)}),"
        f" (:c, :v || '002', :v, '二', {BOX.format(102.41, 102.42)})", c=COUNTY, v=VILLAGE)
    point = "ST_SetSRID(ST_MakePoint(:x, 25.005), 4326)"
    for code, grid, x in (("IN", "001", 102.405), ("EDGE", "001", 102.41),
                          ("WRONG", "001", 102.415), ("HOLE", None, 102.425),
                          ("HOLE_GRID", "002", 102.425)):
        run("INSERT INTO household (county_code, code, grid_code, village_code, head_name, geom)"
            f" VALUES (:c, :code, :grid, :v, '户', {point})",
            c=COUNTY, code=code, grid=VILLAGE + grid if grid else None, v=VILLAGE, x=x)
    run("INSERT INTO household (county_code, code, grid_code, village_code, head_name)"
        " VALUES (:c, 'NOWHERE', :g, :v, '户')", c=COUNTY, g=VILLAGE + "001", v=VILLAGE)
    return Scope(COUNTY, region_code=COUNTY)


def codes(connection, kind, scope):
    return [row["code"] for row in gaps(connection, kind, scope, NOW)]


def test_a_household_outside_its_own_grid_is_a_gap(connection, village):
    # On the boundary counts as inside (ST_Covers); an unknown location is no evidence.
    assert codes(connection, "uncovered", village) == ["HOLE", "HOLE_GRID", "WRONG"]


def test_the_part_of_a_village_no_grid_covers_is_an_area(connection, village, db):
    assert codes(connection, "uncovered_area", village) == [VILLAGE]
    layer = json.loads(gap_layer_json(db, "uncovered_area", village, NOW))
    (area,) = layer["features"]
    assert area["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # Its households are those whose point it covers, counted in SQL.
    inside = connection.execute(text(
        "SELECT count(*) FROM household WHERE ST_Intersects(geom, ST_MakeEnvelope("
        "102.42, 25.0, 102.43, 25.01, 4326))")).scalar()
    assert area["properties"]["households"] == inside == 2
    west, east = 102.42, 102.43
    lons = [lon for ring in area["geometry"]["coordinates"] for lon, _ in ring] \
        if area["geometry"]["type"] == "Polygon" else []
    assert all(west - 1e-6 <= lon <= east + 1e-6 for lon in lons)


def test_a_village_without_any_grid_is_not_an_uncovered_area(connection, village):
    connection.execute(text("DELETE FROM grid"))
    assert codes(connection, "uncovered_area", village) == []


def test_a_grid_without_an_active_grid_worker_is_a_gap(connection, village):
    run = lambda sql, **kw: connection.execute(text(sql), kw)  # noqa: E731
    assert codes(connection, "grid_worker", village) == [VILLAGE + "001", VILLAGE + "002"]
    for login, grid, active in (("gw1", "001", True), ("gw2", "002", False)):
        run("INSERT INTO app_user (county_code, login, password_hash, role, scope_code, active)"
            " VALUES (:c, :login, 'x', 'grid_worker', :g, :active)",
            c=COUNTY, login=login, g=VILLAGE + grid, active=active)
    # Another county's account for the same code covers nothing here.
    run("INSERT INTO app_user (county_code, login, password_hash, role, scope_code)"
        " VALUES ('530681', 'gw3', 'x', 'grid_worker', :g)", g=VILLAGE + "002")
    assert codes(connection, "grid_worker", village) == [VILLAGE + "002"]


def test_a_grid_workers_scope_holds_no_village_area(connection, village):
    scope = Scope(COUNTY, region_code=VILLAGE + "001")
    assert codes(connection, "uncovered_area", scope) == []
    assert codes(connection, "uncovered", scope) == ["WRONG"]


# ---- on the demo county ----

@pytest.fixture(scope="module")
def demo(committed_db_url):
    load_demo_county(committed_db_url)
    engine = make_engine(committed_db_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def deliberate(kind: str) -> list[str]:
    with (ROOT / "data" / "demo" / "deliberate_gaps.csv").open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f) if row["kind"] == kind]


LEADER = Scope(COUNTY, region_code=COUNTY)


def test_the_demos_uncovered_area_is_found_with_its_households(demo):
    now = datetime.now(UTC)
    expected = deliberate("uncovered_area")
    assert expected, "the demo lists an uncovered area"
    found = [row["code"] for row in gaps(demo.connection(), "uncovered_area", LEADER, now)]
    assert set(expected) <= set(found)
    layer = json.loads(gap_layer_json(demo, "uncovered_area", LEADER, now))
    for feature in layer["features"]:
        in_sql = demo.execute(text(
            "SELECT count(*) FROM household h JOIN region v ON v.code = h.village_code"
            " AND v.county_code = h.county_code AND v.valid_to IS NULL"
            " WHERE h.county_code = :c AND h.village_code = :v AND NOT EXISTS ("
            "  SELECT 1 FROM grid g WHERE g.county_code = :c AND g.village_code = :v"
            "  AND g.valid_to IS NULL AND ST_Covers(g.geom, h.geom))"),
            {"c": COUNTY, "v": feature["properties"]["code"]}).scalar()
        assert feature["properties"]["households"] == in_sql > 0


def test_the_demos_households_in_no_grid_are_gaps(demo):
    now = datetime.now(UTC)
    (village,) = deliberate("uncovered_area")
    no_grid = demo.execute(text(
        "SELECT count(*) FROM household WHERE county_code = :c AND village_code = :v"
        " AND grid_code IS NULL"), {"c": COUNTY, "v": village}).scalar()
    rollup = {row["village_code"]: row["count"]
              for row in gap_rollup(demo.connection(), "uncovered", LEADER, now)}
    assert rollup[village] >= no_grid > 0


@pytest.mark.parametrize("kind", RULES)
def test_every_layer_list_and_rollup_adds_up_to_the_count(demo, kind):
    now = datetime.now(UTC)
    count = gap_counts(demo.connection(), LEADER, now)[kind]
    rollup = gap_rollup(demo.connection(), kind, LEADER, now)
    assert sum(row["count"] for row in rollup) == count
    assert len(gap_rows(demo.connection(), kind, LEADER, now)) == count
    features = json.loads(gap_layer_json(demo, kind, LEADER, now))["features"]
    if DRAWN_AS[kind] == "count":
        # Every gap household is in a badge (one without a location at its grid or village).
        assert sum(f["properties"]["households"] for f in features) == count
    else:
        assert len(features) == count


def test_a_township_sees_its_own_share(demo):
    now = datetime.now(UTC)
    county = gap_counts(demo.connection(), LEADER, now)
    townships = demo.execute(text(
        "SELECT code FROM region WHERE county_code = :c AND level = 'township'"
        " AND valid_to IS NULL"), {"c": COUNTY}).scalars().all()
    shares = [gap_counts(demo.connection(), Scope(COUNTY, region_code=t), now)
              for t in townships]
    for kind in ("uncovered", "uncovered_area", "grid_worker", "household"):
        assert sum(share[kind] for share in shares) == county[kind]
