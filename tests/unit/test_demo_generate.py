"""The demo county as committed in data/demo: deterministic, big enough, tiled, with its gaps."""

import csv
import json
from collections import Counter, defaultdict

import pytest
import shapely
from shapely.geometry import Point, shape

from gridmap.demo.county import ROOT, UNCOVERED_VILLAGE, VILLAGE_WITHOUT_LEADER
from gridmap.demo.generate import generate, write
from gridmap.importers.fields import id_check_digit
from gridmap.models import ISSUE_STATUSES, ROLES

DEMO = ROOT / "data" / "demo"


def rows(name):
    with (DEMO / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def features(name):
    return json.loads((DEMO / name).read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def grids():
    return [(f["properties"], shape(f["geometry"])) for f in features("grids.geojson")]


@pytest.fixture(scope="module")
def villages():
    return {f["properties"]["code"]: (f["properties"], shape(f["geometry"]))
            for f in features("regions.geojson") if f["properties"]["level"] == "village"}


def test_same_seed_gives_byte_identical_files(tmp_path):
    write(generate(1, "demo"), tmp_path)
    for committed in sorted(DEMO.iterdir()):
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), committed.name


def test_demo_is_big_enough_and_small_enough_to_commit(grids, villages):
    townships = {c[:9] for c in villages}
    assert {"532329101", "532329104"} <= townships and 3 <= len(townships) <= 4
    assert len(villages) >= 15 and len(grids) >= 60
    assert len(features("households.geojson")) >= 5000
    assert 450 <= len(rows("issues.csv")) <= 550
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 10_000_000


def test_villages_are_real_nbs_villages_of_wuding(villages):
    with (ROOT / "data" / "regions" / "532329.csv").open(encoding="utf-8") as f:
        official = {r["code"]: r["name"] for r in csv.DictReader(f)}
    assert sum(1 for r in official.values()) == 148  # county + 11 townships + 136 villages
    for code, (props, _) in villages.items():
        assert official[code].startswith(props["name"].removesuffix("村").removesuffix("社区"))


def test_grids_tile_each_village_except_the_marked_gap(grids, villages):
    by_village = defaultdict(list)
    for props, geom in grids:
        assert geom.is_valid and props["code"].startswith(props["village_code"])
        by_village[props["village_code"]].append(geom)
    for code, (_, village) in villages.items():
        union = shapely.union_all(by_village[code])
        assert sum(g.area for g in by_village[code]) == pytest.approx(union.area, abs=1e-14)
        assert shapely.coverage_is_valid(by_village[code])
        uncovered = village.difference(union).area
        if code == UNCOVERED_VILLAGE:
            assert uncovered > 1e-5
        else:
            assert uncovered == 0, code
        assert union.difference(village).area == 0


def test_household_outside_every_grid_is_a_gap(grids, villages):
    _, village = villages[UNCOVERED_VILLAGE]
    gap = village.difference(shapely.union_all([g for p, g in grids if p["village_code"] == UNCOVERED_VILLAGE]))
    uncovered = [f for f in features("households.geojson") if not f["properties"].get("grid_code")]
    assert len(uncovered) >= 10
    for feature in uncovered:
        assert feature["properties"]["village_code"] == UNCOVERED_VILLAGE
        if feature["geometry"]:
            assert gap.contains(shape(feature["geometry"]))


def test_households_lie_in_their_grid(grids):
    by_code = {p["code"]: g for p, g in grids}
    located = [f for f in features("households.geojson")
               if f["geometry"] and f["properties"].get("grid_code")]
    assert all(by_code[f["properties"]["grid_code"]].contains(Point(f["geometry"]["coordinates"]))
               for f in located)
    assert len(located) < len(features("households.geojson"))  # some locations unknown


def test_id_numbers_carry_the_county_prefix_and_a_correct_check_digit():
    numbers = [f["properties"]["id_number"] for f in features("households.geojson")
               if "id_number" in f["properties"]]
    assert len(numbers) > 4000
    assert all(n.startswith("532329") and id_check_digit(n[:17]) == n[17] for n in numbers)


def test_every_status_and_level_present_with_overdue_open_issues():
    issues = rows("issues.csv")
    assert set(Counter(i["status"] for i in issues)) == set(ISSUE_STATUSES)
    assert set(i["level"] for i in issues) == {"village", "township", "county"}
    overdue = [i for i in issues if i["status"] in ("reported", "triaged", "in_progress")
               and (i["handling_due"] or i["triage_due"]).startswith("-")]
    assert len(overdue) >= 20
    assert {i["real_name"] for i in issues} == {"true", "false"}


def test_issue_event_chains_end_in_the_issue_status():
    events = defaultdict(list)
    for e in rows("issue_events.csv"):
        events[e["issue_code"]].append(e)
    for issue in rows("issues.csv"):
        chain = sorted(events[issue["code"]], key=lambda e: int(e["seq"]))
        assert chain[0]["from_status"] == "" and chain[0]["to_status"] == "reported"
        for before, after in zip(chain, chain[1:], strict=False):
            assert after["from_status"] == before["to_status"]
        assert chain[-1]["to_status"] == issue["status"]
        assert chain[-1]["level"] == issue["level"]


def test_deliberate_gaps_are_marked():
    gaps = Counter(g["kind"] for g in rows("deliberate_gaps.csv"))
    assert {"uncovered_area", "village_without_leader", "grid_without_unit",
            "household_without_cadre", "household_not_visited", "branch_without_cadre"} <= set(gaps)
    leaders = {a["region_code"] for a in rows("assignments.csv") if a["kind"] == "village"}
    assert VILLAGE_WITHOUT_LEADER not in leaders


def test_every_assignment_kind_and_visit_kind_present():
    assert {a["kind"] for a in rows("assignments.csv")} == {
        "village", "area", "group", "branch", "household", "first_secretary", "work_team"}
    visits = rows("visits.csv")
    assert {v["kind"] for v in visits} == {"visit", "callback"}
    assert all(v["visited_at"].startswith("-") for v in visits)
    assert any(v["satisfaction"] for v in visits if v["kind"] == "callback")


def test_one_demo_user_per_role():
    users = rows("users.csv")
    assert {u["role"] for u in users} == set(ROLES)
    assert all(u["password"] == f"demo-{u['login']}" for u in users)
