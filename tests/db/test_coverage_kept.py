"""The facts the coverage rules and the maps read are kept where they are written (migrations
0026, 0030–0035): after every write path, each household's last visit, each village's part
no grid covers, the households outside their own grid, each grid's median last visit, the active
households per village and grid, the households with no 包户 cadre, what the `visit` rule reads
of each active household and the display text of every grid and region equal what the raw
tables say, and the rules answer as they did from the raw tables."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session
from support import seed_user
from test_import_errors import REGIONS

from gridmap import assignments, grid_edits, handover, register, visits
from gridmap.coverage import CARE_BIT, CARE_FLAGS, MIN_UNCOVERED_M2, gaps
from gridmap.geo import DISPLAY_DECIMALS, DISPLAY_TOLERANCE
from gridmap.importers.core import Source, import_files
from gridmap.maps.gaps import gap_layer_json
from gridmap.maps.layers import grid_household_counts, grid_layer, region_layer
from gridmap.maps.rollup import longest_unvisited
from gridmap.models import Household, Visit
from gridmap.policy import Scope

COUNTY, TOWNSHIP, VILLAGE = "532329", "532329104", "532329104201"
G1, G2 = VILLAGE + "001", VILLAGE + "002"
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
SCOPE = Scope(COUNTY, region_code=COUNTY)

LAST_KEPT = "SELECT household_id, visited_at, walked_at FROM household_last_visit ORDER BY 1"
LAST_FROM_VISITS = ("SELECT household_id, max(visited_at), max(visited_at) FILTER (WHERE kind = 'visit')"
                    " FROM visit GROUP BY household_id ORDER BY 1")
# Villages whose kept row differs from their current shape less their current grids'.
UNCOVERED_DRIFT = """
    WITH fresh AS (
      SELECT v.county_code, v.code,
             ST_Area(v.geom::geography) - sum(ST_Area(g.geom::geography)) AS gap_m2,
             ST_Difference(v.geom, ST_Union(g.geom)) AS geom
      FROM region v JOIN grid g ON g.county_code = v.county_code AND g.village_code = v.code
        AND g.valid_to IS NULL AND g.geom IS NOT NULL
      WHERE v.level = 'village' AND v.valid_to IS NULL AND v.geom IS NOT NULL
      GROUP BY v.county_code, v.code, v.geom)
    SELECT coalesce(f.code, k.village_code) FROM fresh f
    FULL JOIN village_uncovered k ON k.county_code = f.county_code AND k.village_code = f.code
    WHERE f.code IS NULL OR k.village_code IS NULL OR abs(f.gap_m2 - k.gap_m2) > 0.01
       OR (f.gap_m2 < 10000) <> (k.geom IS NULL)
       OR (f.gap_m2 >= 10000 AND (abs(ST_Area(f.geom::geography) - k.m2) > 0.01 OR NOT (
             ST_Equals(f.geom, k.geom) OR (ST_IsEmpty(f.geom) AND ST_IsEmpty(k.geom)))))"""

OUTSIDE_KEPT = "SELECT household_id FROM household_outside_grid ORDER BY 1"
# The `uncovered` rule as it read the raw tables: no grid code, or a point its own current
# grid does not cover (a grid with no shape tests nothing).
OUTSIDE_FROM_POINTS = """
    SELECT h.id FROM household h
    LEFT JOIN grid g ON g.county_code = h.county_code AND g.code = h.grid_code AND g.valid_to IS NULL
    WHERE h.grid_code IS NULL
       OR (h.geom IS NOT NULL AND (g.id IS NULL OR NOT ST_Covers(g.geom, h.geom)))
    ORDER BY 1"""

GRID_LAST_KEPT = "SELECT county_code, grid_code, round(median_epoch) FROM grid_last_visit ORDER BY 1, 2"
# Each grid's median last visit over its active households ever visited, from the visits.
GRID_LAST_FROM_VISITS = """
    WITH last AS (SELECT household_id, max(visited_at) AS at FROM visit GROUP BY household_id)
    SELECT h.county_code, h.grid_code,
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM last.at)::float8))
    FROM household h JOIN last ON last.household_id = h.id
    WHERE h.status = 'active' AND h.grid_code IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2"""


UNASSIGNED_KEPT = "SELECT county_code, household_id FROM household_unassigned ORDER BY 2"
# The `household` rule as it read the raw tables: no current 包户 assignment in its county.
UNASSIGNED_FROM_ASSIGNMENTS = """
    SELECT h.county_code, h.id FROM household h
    WHERE NOT EXISTS (SELECT 1 FROM assignment a WHERE a.household_id = h.id
                      AND a.kind = 'household' AND a.county_code = h.county_code
                      AND a.valid_to IS NULL)
    ORDER BY 2"""


def grid_file(split: float, east: float) -> Source:
    """Two grids of the village, split at longitude `split`, the second ending at `east`
    (the village reaches 102.50: what lies east of `east` is in no grid)."""
    shapes = {G1: box(102.30, 25.40, split, 25.60), G2: box(split, 25.40, east, 25.60)}
    features = [{"type": "Feature", "geometry": mapping(shape),
                 "properties": {"code": code, "village_code": VILLAGE, "name": code[-3:]}}
                for code, shape in shapes.items()]
    return Source("grids.geojson", json.dumps({"type": "FeatureCollection", "features": features}).encode())


COUNT_KEPT = "SELECT county_code, village_code, grid_code, households FROM household_count ORDER BY 1, 2, 3"
# Active households per county, village and grid, counted from the households.
COUNT_FROM_HOUSEHOLDS = """
    SELECT county_code, coalesce(village_code, ''), coalesce(grid_code, ''), count(*)
    FROM household WHERE status = 'active' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""


VISIT_STATE_KEPT = ("SELECT household_id, county_code, village_code, grid_code, care_mask,"
                    " care_flags_changed_at, last_visited_at FROM household_visit_state ORDER BY 1")


def visit_state_from_households(connection):
    """Each active household's place, care flags as the rule's bits (coverage.CARE_FLAGS, not
    the migration's SQL), care change and last visit, from the households and their visits."""
    mask = sum(case((flag(), 1 << CARE_BIT[name]), else_=0) for name, flag in CARE_FLAGS.items())
    last = (select(func.max(Visit.visited_at)).where(Visit.household_id == Household.id)
            .scalar_subquery())
    return connection.execute(
        select(Household.id, Household.county_code, Household.village_code, Household.grid_code,
               mask, Household.care_flags_changed_at, last)
        .where(Household.status == "active").order_by(Household.id)).all()


def _display_text_drift(table: str, tolerance: str) -> str:
    """Rows of `table` whose kept display text (migration 0035) is not what the layers would
    make of their shapes now: the display shape (else `geom` simplified) as GeoJSON, its one
    ring as an encoded polyline, the label point's [lon, lat]."""
    shape = f"coalesce(geom_display, ST_Multi(ST_SimplifyPreserveTopology(geom, {tolerance})))"
    ring = f"ST_GeometryN({shape}, 1)"
    return f"""
    SELECT '{table}', code, valid_to FROM {table}
    WHERE display_geojson IS DISTINCT FROM ST_AsGeoJSON({shape}, {DISPLAY_DECIMALS})
       OR display_polyline IS DISTINCT FROM CASE
            WHEN ST_NumGeometries({shape}) = 1 AND ST_NumInteriorRings({ring}) = 0
            THEN ST_AsEncodedPolyline(ST_ExteriorRing({ring}), {DISPLAY_DECIMALS}) END
       OR label_lonlat IS DISTINCT FROM (ST_AsGeoJSON(coalesce(geom_label, ST_PointOnSurface(geom)),
                                                     {DISPLAY_DECIMALS})::json -> 'coordinates')::text"""


# Every grid and region, of every generation, whose display text drifted from its shapes.
DISPLAY_TEXT_DRIFT = (
    _display_text_drift("grid", repr(DISPLAY_TOLERANCE["grid"])) + " UNION ALL "
    + _display_text_drift("region", f"CASE level WHEN 'village' THEN {DISPLAY_TOLERANCE['village']}"
                                    f" ELSE {DISPLAY_TOLERANCE['township']} END"))


def rows(connection, sql, **params):
    return connection.execute(text(sql), params).all()


def assert_kept(connection):
    assert rows(connection, LAST_KEPT) == rows(connection, LAST_FROM_VISITS)
    assert rows(connection, UNCOVERED_DRIFT) == []
    assert rows(connection, OUTSIDE_KEPT) == rows(connection, OUTSIDE_FROM_POINTS)
    assert rows(connection, GRID_LAST_KEPT) == rows(connection, GRID_LAST_FROM_VISITS)
    assert rows(connection, UNASSIGNED_KEPT) == rows(connection, UNASSIGNED_FROM_ASSIGNMENTS)
    assert rows(connection, COUNT_KEPT) == rows(connection, COUNT_FROM_HOUSEHOLDS)
    assert rows(connection, VISIT_STATE_KEPT) == visit_state_from_households(connection)
    assert rows(connection, DISPLAY_TEXT_DRIFT) == []


def outside(connection) -> set[str]:
    """Codes of the `uncovered` rule's households."""
    return {row["code"] for row in gaps(connection, "uncovered", SCOPE, NOW)}


def household_id(connection, code):
    return connection.execute(text("SELECT id FROM household WHERE code = :c"), {"c": code}).scalar()


@pytest.fixture
def county(db):
    """One village (102.30–102.50) with two grids up to 102.45; H1 in the first grid, H2 in
    the second (visited), H3 in the part no grid covers."""
    connection = db.connection()
    files = [Source("regions.geojson", json.dumps(REGIONS).encode()), grid_file(102.40, 102.45),
             Source("households.csv", b"code,head_name,lon,lat\nH1,A,102.35,25.5\nH2,B,102.42,25.5\n"
                                      b"H3,C,102.47,25.5\n"),
             Source("visits.csv", b"household_code,visited_at\nH2,2026-11-02T10:00:00+08:00\n")]
    report = import_files(connection, files, COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(connection)
    return connection


def test_imported_visits_move_the_last_visit_and_the_last_walk_apart(county):
    report = import_files(county, [Source(
        "visits.csv", b"household_code,kind,visited_at\nH2,\xe5\x9b\x9e\xe8\xae\xbf,2026-11-20T10:00:00+08:00\n"
                      b"H1,\xe8\xb5\xb0\xe8\xae\xbf,2026-11-19T10:00:00+08:00\n")], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    kept = dict((h, (at, walked)) for h, at, walked in rows(county, LAST_KEPT))
    at, walked = kept[household_id(county, "H2")]
    assert at > walked  # a 回访 is a visit, not a 走访 (campaigns wait for a 走访)


def test_a_visit_logged_on_the_tablet_makes_its_household_no_longer_due(county, db):
    worker = seed_user(county, "grid_worker", G1)
    due = {row["code"] for row in gaps(county, "visit", SCOPE, NOW)}
    assert "H1" in due
    visits.record(db, worker, {"household_id": household_id(county, "H1"),
                               "visited_at": (NOW - timedelta(hours=1)).isoformat()})
    assert_kept(county)
    assert "H1" not in {row["code"] for row in gaps(county, "visit", SCOPE, NOW)}


def test_visits_corrected_or_deleted_in_sql_recompute_the_last_visit(county):
    h1 = household_id(county, "H1")
    county.execute(text("INSERT INTO visit (county_code, household_id, visited_at) VALUES"
                        " (:c, :h, :a), (:c, :h, :b)"), {"c": COUNTY, "h": h1, "a": NOW - timedelta(days=5),
                                                         "b": NOW - timedelta(days=100)})
    assert_kept(county)
    county.execute(text("UPDATE visit SET visited_at = visited_at - interval '200 days'"
                        " WHERE household_id = :h AND visited_at > :cut"), {"h": h1, "cut": NOW - timedelta(days=10)})
    assert_kept(county)
    assert "H1" in {row["code"] for row in gaps(county, "visit", SCOPE, NOW)}
    county.execute(text("DELETE FROM visit WHERE household_id = :h"), {"h": h1})
    assert_kept(county)
    assert household_id(county, "H1") not in [r[0] for r in rows(county, LAST_KEPT)]


def test_a_grid_redrawn_by_import_moves_the_uncovered_part(county):
    assert [g["code"] for g in gaps(county, "uncovered_area", SCOPE, NOW)] == [VILLAGE]
    report = import_files(county, [grid_file(102.40, 102.50)], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    assert gaps(county, "uncovered_area", SCOPE, NOW) == []
    report = import_files(county, [grid_file(102.40, 102.44)], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    assert [g["code"] for g in gaps(county, "uncovered_area", SCOPE, NOW)] == [VILLAGE]


def test_a_grid_drawn_in_the_editor_over_the_uncovered_part_closes_it(county, db):
    staff = seed_user(county, "township_staff", TOWNSHIP)
    outcome = grid_edits.edit(db, staff, {
        "operation": "draw", "village_code": VILLAGE, "name": "东片",
        "polygon": mapping(box(102.45, 25.40, 102.50, 25.60))}, save=True)
    assert outcome.saved, outcome.problems
    assert_kept(county)
    assert gaps(county, "uncovered_area", SCOPE, NOW) == []


def test_a_household_moved_into_the_uncovered_part_is_counted_there(county, db):
    def inside():
        layer = json.loads(gap_layer_json(db, "uncovered_area", SCOPE, NOW))
        (area,) = layer["features"]
        return area["properties"]["households"]

    before = inside()
    county.execute(text("UPDATE household SET geom = ST_SetSRID(ST_MakePoint(102.48, 25.45), 4326),"
                        " grid_code = NULL WHERE code = 'H1'"))
    assert inside() == before + 1
    assert_kept(county)


def test_a_village_boundary_replaced_reshapes_its_uncovered_part(county):
    before = rows(county, "SELECT m2 FROM village_uncovered")[0][0]
    narrower = json.loads(json.dumps(REGIONS))
    narrower["features"][2]["geometry"] = mapping(box(102.30, 25.40, 102.48, 25.60))
    report = import_files(county, [Source("regions.geojson", json.dumps(narrower).encode())],
                          COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    after = rows(county, "SELECT m2 FROM village_uncovered")[0][0]
    assert after == pytest.approx(before * 3 / 5, rel=0.01)


def test_the_rules_floor_is_no_lower_than_where_the_kept_parts_start():
    migration = importlib.import_module("gridmap.migrations.versions.0026_kept_coverage_facts")
    assert MIN_UNCOVERED_M2 >= migration.PART_FROM_M2


def test_display_shapes_and_names_alone_recompute_nothing(county):
    county.execute(text("UPDATE village_uncovered SET m2 = -1"))
    county.execute(text("UPDATE grid SET geom_display = NULL, name = name || '!'"))
    county.execute(text("UPDATE region SET name = name || '!'"))
    assert rows(county, "SELECT DISTINCT m2 FROM village_uncovered") == [(-1,)]
    # The display text follows the shapes, even a display shape dropped in plain SQL.
    assert rows(county, DISPLAY_TEXT_DRIFT) == []


def test_shapes_and_label_points_rewritten_in_sql_rewrite_their_display_text(county):
    before = rows(county, "SELECT display_geojson, display_polyline, label_lonlat FROM grid WHERE code = :g", g=G1)
    county.execute(text("UPDATE grid SET geom_display = ST_Multi(ST_Envelope(geom)),"
                        " geom_label = ST_SetSRID(ST_MakePoint(102.31, 25.41), 4326) WHERE code = :g"), {"g": G1})
    county.execute(text("UPDATE region SET geom = ST_Multi(ST_Buffer(geom, 0.001)), geom_display = NULL"
                        " WHERE level = 'county'"))
    assert_kept(county)
    after = rows(county, "SELECT display_geojson, display_polyline, label_lonlat FROM grid WHERE code = :g", g=G1)
    assert after != before and after[0][2] == "[102.31,25.41]"


def test_the_household_in_no_grid_is_outside_from_its_import(county):
    assert outside(county) == {"H3"}


def test_households_imported_with_a_grid_their_point_is_not_in_are_outside_and_placed_ones_inside(county):
    report = import_files(county, [Source(
        "households.csv", b"code,head_name,grid_code,lon,lat\n"
                          b"H4,D,%s,102.42,25.5\nH5,E,%s,102.42,25.5\nH6,F,,102.43,25.5\nH7,G,%s,,\n"
                          % (G1.encode(), G2.encode(), G1.encode()))], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    assert outside(county) == {"H3", "H4"}
    assert rows(county, "SELECT code, grid_code FROM household WHERE code IN ('H5', 'H6', 'H7') ORDER BY code") == [
        ("H5", G2), ("H6", G2), ("H7", G1)]


def test_households_deleted_in_sql_take_their_kept_rows(county):
    county.execute(text("DELETE FROM household WHERE code IN ('H1', 'H3')"))
    assert_kept(county)
    assert rows(county, "SELECT count(*) FROM household_unassigned") == [(1,)]


def test_a_household_moved_in_sql_out_of_its_grid_is_outside_until_a_redrawn_grid_reaches_it(county):
    county.execute(text("UPDATE household SET geom = ST_SetSRID(ST_MakePoint(102.44, 25.5), 4326)"
                        " WHERE code = 'H1'"))
    assert_kept(county)
    assert outside(county) == {"H1", "H3"}
    county.execute(text("UPDATE household SET head_name = 'A2', size = 3"))  # nothing to test
    assert_kept(county)
    report = import_files(county, [grid_file(102.445, 102.45)], COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    assert outside(county) == {"H3"}


def test_a_grid_ended_or_deleted_in_sql_leaves_its_households_outside(county):
    county.execute(text("UPDATE grid SET valid_to = valid_from + interval '1 second' WHERE code = :g"), {"g": G1})
    assert_kept(county)
    assert outside(county) == {"H1", "H3"}
    county.execute(text("UPDATE grid SET valid_to = NULL WHERE code = :g"), {"g": G1})
    assert_kept(county)
    assert outside(county) == {"H3"}
    county.execute(text("DELETE FROM grid WHERE code = :g"), {"g": G2})
    assert_kept(county)
    assert outside(county) == {"H2", "H3"}


def test_households_of_grids_merged_in_the_editor_stay_inside(county, db):
    staff = seed_user(county, "township_staff", TOWNSHIP)
    outcome = grid_edits.edit(db, staff, {"operation": "merge", "grids": [G1, G2]}, save=True)
    assert outcome.saved, outcome.problems
    assert_kept(county)
    assert outside(county) == {"H3"}


def test_a_household_put_in_a_grid_its_point_is_not_in_is_outside_until_moved_by_position(county, db):
    staff = seed_user(county, "township_staff", TOWNSHIP)
    h1 = household_id(county, "H1")
    register.move(db, staff, h1, {"grid_code": G1, "lon": "102.42", "lat": "25.5"})
    db.flush()
    assert_kept(county)
    assert outside(county) == {"H1", "H3"}
    register.move(db, staff, h1, {"lon": "102.42", "lat": "25.5"})
    db.flush()
    assert_kept(county)
    assert outside(county) == {"H3"}


def test_the_grids_longest_unvisited_follow_visits_moves_and_households_leaving(county):
    def longest():
        layer = longest_unvisited(Session(bind=county), SCOPE, NOW)
        return [(f["id"], f["properties"]["days"]) for f in layer["features"]]

    assert longest() == [(G2, 21)]
    h1, h2 = household_id(county, "H1"), household_id(county, "H2")
    county.execute(text("INSERT INTO visit (county_code, household_id, visited_at) VALUES"
                        " (:c, :h, :a)"), {"c": COUNTY, "h": h1, "a": NOW - timedelta(days=40)})
    assert_kept(county)
    assert longest() == [(G1, 40), (G2, 21)]
    county.execute(text("UPDATE household SET grid_code = :g WHERE id = :h"), {"g": G2, "h": h1})
    assert_kept(county)
    assert longest() == [(G2, 30)]  # the median of 40 and 21 days
    county.execute(text("UPDATE household SET status = 'moved_out', left_on = '2026-11-01' WHERE id = :h"),
                   {"h": h2})
    assert_kept(county)
    assert longest() == [(G2, 40)]
    county.execute(text("DELETE FROM visit WHERE household_id = :h"), {"h": h1})
    county.execute(text("DELETE FROM household WHERE id = :h"), {"h": h2})
    assert_kept(county)
    assert longest() == []


def unpaired(connection) -> set[str]:
    """Codes of the `household` rule's households (no current 包户 cadre)."""
    return {row["code"] for row in gaps(connection, "household", SCOPE, NOW)}


def test_households_paired_by_import_in_the_app_by_hand_over_and_in_sql_follow_their_duties(county, db):
    assert unpaired(county) == {"H1", "H2", "H3"}
    report = import_files(county, [
        Source("cadres.csv", "code,name\nC1,王强\nC2,李新\n".encode()),
        Source("assignments.csv", b"kind,cadre_code,household_code\nhousehold,C1,H1\nhousehold,C1,H2\n")],
        COUNTY, commit=True)
    assert report.ok, report.to_text()
    assert_kept(county)
    assert unpaired(county) == {"H3"}
    admin = seed_user(county, "admin", COUNTY)
    c1 = county.execute(text("SELECT id FROM cadre WHERE code = 'C1'")).scalar()
    h1_duty = county.execute(text("SELECT id FROM assignment WHERE household_id = :h"),
                             {"h": household_id(county, "H1")}).scalar()
    assignments.end(db, admin, h1_duty, {})
    assert_kept(county)
    assert unpaired(county) == {"H1", "H3"}
    assignments.assign(db, admin, {"kind": "household", "cadre_code": "C2", "target": "H3"})
    assert_kept(county)
    assert unpaired(county) == {"H1"}
    handover.hand_over(db, admin, c1, {"to": "C2"})  # H2 changes hands, never unpaired
    assert_kept(county)
    assert unpaired(county) == {"H1"}
    county.execute(text("UPDATE assignment SET household_id = :h1 WHERE household_id = :h2"
                        " AND valid_to IS NULL"),
                   {"h1": household_id(county, "H1"), "h2": household_id(county, "H2")})
    assert_kept(county)
    assert unpaired(county) == {"H2"}
    county.execute(text("DELETE FROM assignment WHERE household_id = :h3"), {"h3": household_id(county, "H3")})
    assert_kept(county)
    assert unpaired(county) == {"H2", "H3"}
    county.execute(text("DELETE FROM household WHERE code = 'H3'"))
    county.execute(text("DELETE FROM household WHERE code = 'H1'"))  # takes its duty with it
    assert_kept(county)
    assert unpaired(county) == {"H2"}


def test_the_maps_count_households_from_the_kept_counts_after_every_change(county):
    def on_the_map(scope=SCOPE):
        session = Session(bind=county)
        grids = {f["id"]: f["properties"]["households"] for f in grid_layer(session, scope)["features"]}
        villages = {f["id"]: f["properties"]["households"]
                    for f in region_layer(session, scope, "village")["features"]}
        return grids, villages, sorted(grid_household_counts(session, scope))

    assert on_the_map() == ({G1: 1, G2: 1}, {VILLAGE: 2}, [1, 1])  # H3: in no village
    h1 = household_id(county, "H1")
    county.execute(text("UPDATE household SET grid_code = :g WHERE id = :h"), {"g": G2, "h": h1})
    assert_kept(county)
    assert on_the_map() == ({G1: 0, G2: 2}, {VILLAGE: 2}, [0, 2])
    county.execute(text("UPDATE household SET status = 'deceased', left_on = '2026-11-01' WHERE id = :h"),
                   {"h": h1})
    assert_kept(county)
    assert on_the_map() == ({G1: 0, G2: 1}, {VILLAGE: 1}, [0, 1])
    county.execute(text("UPDATE household SET status = 'active', left_on = NULL,"
                        " village_code = :v, grid_code = :g WHERE code IN ('H1', 'H3')"),
                   {"v": VILLAGE, "g": G1})
    assert_kept(county)
    assert on_the_map() == ({G1: 2, G2: 1}, {VILLAGE: 3}, [1, 2])
    county.execute(text("DELETE FROM household WHERE code = 'H2'"))
    assert_kept(county)
    assert on_the_map() == ({G1: 2, G2: 0}, {VILLAGE: 2}, [0, 2])
    # a grid worker's scope counts its own grid only
    assert on_the_map(Scope(COUNTY, region_code=G1))[0] == {G1: 2}


def due(connection, now=NOW) -> set[str]:
    """Codes of the `visit` rule's households at `now`."""
    return {row["code"] for row in gaps(connection, "visit", SCOPE, now)}


def test_each_care_flag_turned_on_in_sql_is_its_own_bit_of_the_kept_mask(county):
    h2 = household_id(county, "H2")
    for condition in ("extreme_poverty = true", "minimum_living = true", "relapse_monitoring = true",
                      "elderly_alone = true", "left_behind_children = true", "left_behind_women = true",
                      "left_behind_elderly = true", "disability_grade = 3", "disability_grade = 2",
                      "lifted_from_poverty = true"):  # 脱贫户 and grade 3 shorten no interval
        county.execute(text(f"UPDATE household SET {condition} WHERE id = :h"), {"h": h2})
        assert_kept(county)
    assert county.execute(text("SELECT care_mask FROM household_visit_state WHERE household_id = :h"),
                          {"h": h2}).scalar() == (1 << len(CARE_FLAGS)) - 1


def test_households_edited_moved_and_taken_off_the_register_in_the_app_keep_their_visit_rows(county, db):
    staff = seed_user(county, "township_staff", TOWNSHIP)
    h2 = household_id(county, "H2")
    # after the database's clock, which stamps a care flag turned on
    later = datetime.now(UTC) + timedelta(hours=1)
    assert "H2" not in due(county, later)  # visited on 2 November, 90 days allowed
    register.edit(db, staff, h2, {"extreme_poverty": "on", "disability_grade": "1"})
    db.flush()
    assert_kept(county)
    assert "H2" in due(county, later)  # 特困 since its last visit: due at once
    register.move(db, staff, h2, {"grid_code": G1})
    db.flush()
    assert_kept(county)
    register.mark_left(db, staff, h2, {"status": "moved_out", "note": "迁往昆明"})
    db.flush()
    assert_kept(county)
    assert "H2" not in due(county, later)
    register.reactivate(db, staff, h2, {"note": "误操作"})
    db.flush()
    assert_kept(county)
    assert "H2" in due(county, later)
