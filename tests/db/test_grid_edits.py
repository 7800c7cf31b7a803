"""Redrawing grids by hand: a split's pieces tile the original, a merge and a moved shared edge
keep the village tiled, households follow their points, and an edit that would leave an
overlap, a gap or a shape outside the village is refused with nothing written."""

import pytest
import shapely
from sqlalchemy import text
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import clock, codes, coverage, grid_edits
from gridmap.assignments import Followed
from gridmap.errors import BadInput, Forbidden, NotFound
from gridmap.policy import Scope

VILLAGE = OPEN_TOWNSHIP + "201"
SOUTH, NORTH = VILLAGE + "001", VILLAGE + "002"  # 102.40–102.45 × 25.50–25.55 and × 25.55–25.60
OTHER_VILLAGE_GRID = OPEN_TOWNSHIP + "202001"


def line(*lonlats):
    return {"type": "LineString", "coordinates": [list(p) for p in lonlats]}


def box(west, south, east, north):
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


@pytest.fixture
def village(db):
    """The open-data county; households H0–H2 west and H3–H6 east in the south grid, J0 in the
    north grid near the shared edge, J1 in the north grid without a point."""
    connection = db.connection()
    seed_open_data_county(connection)
    for code, lon, lat in [*((f"H{n}", 102.41, 25.52) for n in range(3)),
                           *((f"H{n}", 102.44, 25.52) for n in range(3, 7)), ("J0", 102.42, 25.555)]:
        connection.execute(text("UPDATE household SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
                                " WHERE county_code = :c AND code = :code"),
                           {"c": ISSUE_COUNTY, "code": code, "lon": lon, "lat": lat})
    return {"township": seed_user(connection, "township_staff", OPEN_TOWNSHIP),
            "other_township": seed_user(connection, "township_staff", ISSUE_COUNTY + "101"),
            "village_staff": seed_user(connection, "village_staff", VILLAGE)}


def current(db, code):
    return db.execute(text("SELECT ST_AsBinary(geom) FROM grid WHERE code = :code AND valid_to IS NULL"),
                      {"code": code}).scalar()


def grid_of(db, household):
    return db.execute(text("SELECT grid_code FROM household WHERE code = :h"), {"h": household}).scalar()


def m2(db, sql, **params):
    return db.execute(text(sql), params).scalar()


def test_a_split_tiles_the_old_grid_and_households_follow_their_points(db, village):
    old = shapely.from_wkb(bytes(current(db, SOUTH)))
    outcome = grid_edits.edit(db, village["township"], {
        "operation": "split", "grids": [SOUTH], "line": line((102.43, 25.49), (102.43, 25.56))}, save=True)
    assert outcome.saved and outcome.problems == []
    new = VILLAGE + "003"
    assert set(outcome.proposal.shapes) == {SOUTH, new}
    # the union of the two new grids equals the old shape, and they do not overlap
    assert m2(db, """SELECT ST_Area(ST_SymDifference(ST_Union(a.geom, b.geom), ST_GeomFromWKB(:old, 4326))::geography)
                     FROM grid a, grid b WHERE a.code = :a AND b.code = :b AND a.valid_to IS NULL
                       AND b.valid_to IS NULL""", old=shapely.to_wkb(old), a=SOUTH, b=new) < 1.0
    assert m2(db, """SELECT ST_Area(ST_Intersection(a.geom, b.geom)::geography) FROM grid a, grid b
                     WHERE a.code = :a AND b.code = :b AND a.valid_to IS NULL AND b.valid_to IS NULL""",
              a=SOUTH, b=new) < 1.0
    # the larger western piece keeps the code; the eastern households move to the new grid
    assert [grid_of(db, f"H{n}") for n in range(7)] == [SOUTH] * 3 + [new] * 4
    assert {(m.code, m.before, m.after) for m in outcome.moved if m.table == "household"} == {
        (f"H{n}", SOUTH, new) for n in range(3, 7)}
    # the old shape is kept as an ended generation, and the new rows start when it ended
    ended, started = db.execute(text(
        "SELECT (SELECT valid_to FROM grid WHERE code = :a AND valid_to IS NOT NULL),"
        " (SELECT valid_from FROM grid WHERE code = :b)"), {"a": SOUTH, "b": new}).one()
    assert ended is not None and ended == started
    assert db.execute(text("SELECT name, geom_display IS NOT NULL FROM grid WHERE code = :b"),
                      {"b": new}).one() == ("插甸村第3网格", True)
    audit = db.execute(text("SELECT actor, target, detail->>'operation' FROM audit_event"
                            " WHERE action = 'grid_change'")).all()
    assert audit == [(village["township"].login, f"grid:{SOUTH},{new}", "split")]


def test_a_new_grid_takes_the_next_serial_of_its_village_history_included():
    assert codes.next_grid_code("532329104201", ["532329104201001", "532329104201007",
                                                 "532329104202009", "53232910420100A"]) == "532329104201008"
    assert codes.next_grid_code("532329104201", []) == "532329104201001"


def test_a_merge_makes_one_grid_and_households_without_a_point_follow(db, village):
    outcome = grid_edits.edit(db, village["township"], {"operation": "merge", "grids": [SOUTH, NORTH]},
                              save=True)
    assert outcome.saved
    assert current(db, NORTH) is None
    assert m2(db, """SELECT ST_Area(ST_SymDifference(g.geom, v.geom)::geography) FROM grid g, region v
                     WHERE g.code = :g AND g.valid_to IS NULL AND v.code = :v""", g=SOUTH, v=VILLAGE) < 1.0
    assert grid_of(db, "J0") == SOUTH and grid_of(db, "J1") == SOUTH
    assert {(m.code, m.before, m.after) for m in outcome.moved if m.table == "household"} == {
        ("J0", NORTH, SOUTH), ("J1", NORTH, SOUTH)}


def group_duties(db):
    """Current 包组 duties as (unit code, grid code)."""
    return set(db.execute(text(
        "SELECT u.code, a.grid_code FROM assignment a JOIN unit u ON u.id = a.unit_id"
        " WHERE a.kind = 'group' AND a.valid_to IS NULL")).all())


def give_group(db, unit_code, grid_code):
    db.execute(text("INSERT INTO unit (county_code, code, name, kind, region_code)"
                    " VALUES (:c, :u, :u || '站', 'station', :t) ON CONFLICT DO NOTHING"),
               {"c": ISSUE_COUNTY, "u": unit_code, "t": OPEN_TOWNSHIP})
    db.execute(text("INSERT INTO assignment (county_code, kind, unit_id, grid_code, valid_from)"
                    " SELECT :c, 'group', id, :g, '2026-01-01' FROM unit WHERE code = :u"),
               {"c": ISSUE_COUNTY, "u": unit_code, "g": grid_code})


def group_gaps(db, village):
    scope = Scope.of_user(village["township"])
    return {row["code"] for row in coverage.gaps(db.connection(), "group", scope, clock.now())}


def test_a_merged_away_grids_group_unit_looks_after_the_merged_grid(db, village):
    give_group(db, "U-N", NORTH)  # the surviving south grid has no 包组 unit
    assert SOUTH in group_gaps(db, village)
    preview = grid_edits.edit(db, village["township"], {"operation": "merge", "grids": [SOUTH, NORTH]})
    assert preview.duties == [Followed("U-N", "U-N站", NORTH, SOUTH)]
    assert group_duties(db) == {("U-N", NORTH)}  # a preview writes nothing
    outcome = grid_edits.edit(db, village["township"], {"operation": "merge", "grids": [SOUTH, NORTH]},
                              save=True)
    assert outcome.saved and outcome.duties == [Followed("U-N", "U-N站", NORTH, SOUTH)]
    assert group_duties(db) == {("U-N", SOUTH)}
    assert SOUTH not in group_gaps(db, village) and NORTH not in group_gaps(db, village)
    history = db.execute(text("SELECT detail FROM audit_event WHERE action = 'assignment_change'"
                              " AND target = 'unit:U-N' ORDER BY id")).scalars().all()
    assert [(h["before"] and h["before"]["target"], h["after"]["target"], h["after"]["to"] is None)
            for h in history] == [(NORTH, NORTH, False), (None, SOUTH, True)]


def test_a_merged_away_grids_group_unit_ends_when_the_survivor_has_its_own(db, village):
    give_group(db, "U-S", SOUTH)
    give_group(db, "U-N", NORTH)
    outcome = grid_edits.edit(db, village["township"], {"operation": "merge", "grids": [SOUTH, NORTH]},
                              save=True)
    assert outcome.saved and outcome.duties == [Followed("U-N", "U-N站", NORTH, None)]
    assert group_duties(db) == {("U-S", SOUTH)}  # no stale duty on the grid that is gone
    assert SOUTH not in group_gaps(db, village)


def test_a_moved_shared_edge_changes_both_neighbours_together(db, village):
    outcome = grid_edits.edit(db, village["township"], {
        "operation": "edge", "grids": [SOUTH, NORTH], "line": line((102.39, 25.56), (102.46, 25.56))},
        save=True)
    assert outcome.saved
    south, north = (shapely.from_wkb(bytes(current(db, code))) for code in (SOUTH, NORTH))
    assert south.bounds == pytest.approx((102.40, 25.50, 102.45, 25.56))
    assert north.bounds == pytest.approx((102.40, 25.56, 102.45, 25.60))
    assert grid_of(db, "J0") == SOUTH  # its point, at 25.555, is south of the new edge
    assert m2(db, "SELECT count(*) FROM grid WHERE code IN (:a, :b) AND valid_to IS NOT NULL",
              a=SOUTH, b=NORTH) == 2


def test_a_line_that_does_not_cross_the_grid_is_refused(db, village):
    with pytest.raises(BadInput) as refused:
        grid_edits.edit(db, village["township"], {
            "operation": "split", "grids": [SOUTH], "line": line((102.41, 25.52), (102.42, 25.53))}, save=True)
    assert refused.value.field == "line"
    assert m2(db, "SELECT count(*) FROM grid") == 4


def test_grids_that_are_not_neighbours_or_not_of_one_village_are_not_merged(db, village):
    grid_edits.edit(db, village["township"], {
        "operation": "split", "grids": [SOUTH], "line": line((102.39, 25.52), (102.46, 25.52))}, save=True)
    southmost = VILLAGE + "003"  # 25.50–25.52: no longer touches the north grid
    with pytest.raises(BadInput, match="不相邻"):
        grid_edits.edit(db, village["township"], {"operation": "merge", "grids": [southmost, NORTH]},
                        save=True)
    with pytest.raises(BadInput, match="不在同一个村"):
        grid_edits.edit(db, village["township"], {"operation": "merge", "grids": [SOUTH, OTHER_VILLAGE_GRID]},
                        save=True)


def test_a_drawn_grid_outside_the_village_and_over_its_neighbour_is_shown_and_not_saved(db, village):
    outcome = grid_edits.edit(db, village["township"], {
        "operation": "draw", "village_code": VILLAGE, "polygon": box(102.39, 25.51, 102.41, 25.52)},
        save=True)
    assert not outcome.saved
    assert sorted(p.kind for p in outcome.problems) == ["outside", "overlap"]
    outside = next(p for p in outcome.problems if p.kind == "outside")
    assert outside.where.bounds == pytest.approx((102.39, 25.51, 102.40, 25.52))
    assert m2(db, "SELECT count(*) FROM grid") == 4
    assert m2(db, "SELECT count(*) FROM audit_event WHERE action = 'grid_change'") == 0


def test_a_grid_drawn_over_a_gap_is_saved_and_takes_in_its_households(db, village):
    db.execute(text("UPDATE grid SET geom = ST_Multi(ST_MakeEnvelope(102.40, 25.55, 102.45, 25.58, 4326))"
                    " WHERE code = :g"), {"g": NORTH})
    db.execute(text("UPDATE household SET grid_code = NULL, geom = ST_SetSRID(ST_MakePoint(102.42, 25.59), 4326)"
                    " WHERE code = 'J1'"))
    preview = grid_edits.edit(db, village["township"], {
        "operation": "draw", "village_code": VILLAGE, "polygon": box(102.40, 25.58, 102.45, 25.60),
        "name": "高河网格"})
    assert preview.ok and not preview.saved
    assert [(m.code, m.before, m.after) for m in preview.moved] == [("J1", None, VILLAGE + "003")]
    assert m2(db, "SELECT count(*) FROM grid") == 4  # a preview writes nothing
    saved = grid_edits.edit(db, village["township"], {
        "operation": "draw", "village_code": VILLAGE, "polygon": box(102.40, 25.58, 102.45, 25.60),
        "name": "高河网格"}, save=True)
    assert saved.saved and grid_of(db, "J1") == VILLAGE + "003"


def test_an_edge_that_would_open_a_gap_or_a_sliver_is_refused(db, village):
    # a split line along the grid's own edge leaves a piece of nothing: not two pieces
    with pytest.raises(BadInput):
        grid_edits.edit(db, village["township"], {
            "operation": "split", "grids": [SOUTH], "line": line((102.40, 25.49), (102.40, 25.56))})
    # a split that cuts off a strip 10 cm wide is a sliver
    outcome = grid_edits.edit(db, village["township"], {
        "operation": "split", "grids": [SOUTH], "line": line((102.449999, 25.49), (102.449999, 25.56))})
    assert [p.kind for p in outcome.problems] == ["sliver"]


def test_a_township_cannot_edit_another_townships_grid_nor_a_village_staff_any(db, village):
    with pytest.raises(NotFound):
        grid_edits.edit(db, village["other_township"], {"operation": "merge", "grids": [SOUTH, NORTH]},
                        save=True)
    with pytest.raises(Forbidden):
        grid_edits.edit(db, village["village_staff"], {"operation": "merge", "grids": [SOUTH, NORTH]},
                        save=True)
    assert current(db, NORTH) is not None
