"""The demo county as committed in data/demo: deterministic, believable, tiled, with its gaps.

Expected gaps come from data/demo/deliberate_gaps.csv and expected counts from the files
themselves, so a regenerated demo does not break these tests.
"""

import csv
import json
import re
from collections import Counter, defaultdict

import pytest
import shapely
from shapely.geometry import Point, shape

from gridmap.demo.county import ROOT
from gridmap.demo.generate import generate, write
from gridmap.demo.people import GIVEN_FEMALE, GIVEN_MALE
from gridmap.importers.fields import id_check_digit
from gridmap.models import ISSUE_STATUSES, ROLES

DEMO = ROOT / "data" / "demo"


def rows(name):
    with (DEMO / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def features(name):
    return json.loads((DEMO / name).read_text(encoding="utf-8"))["features"]


def gaps(kind):
    return {g["code"] for g in rows("deliberate_gaps.csv") if g["kind"] == kind}


@pytest.fixture(scope="module")
def grids():
    return [(f["properties"], shape(f["geometry"])) for f in features("grids.geojson")]


@pytest.fixture(scope="module")
def regions():
    return {f["properties"]["code"]: (f["properties"], shape(f["geometry"]))
            for f in features("regions.geojson")}


@pytest.fixture(scope="module")
def villages(regions):
    return {c: r for c, r in regions.items() if r[0]["level"] == "village"}


@pytest.fixture(scope="module")
def households():
    return [f["properties"] for f in features("households.geojson")]


def test_same_seed_gives_byte_identical_files(tmp_path):
    write(generate(1, "demo"), tmp_path)
    for committed in sorted(DEMO.iterdir()):
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), committed.name


def test_demo_is_small_enough_to_commit():
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 20_000_000


def test_every_township_and_village_of_the_county_is_drawn(regions):
    with (ROOT / "data" / "regions" / "532329.csv").open(encoding="utf-8") as f:
        official = {r["code"]: r["name"] for r in csv.DictReader(f)}
    assert set(regions) == set(official)
    for code, (props, geom) in regions.items():
        assert geom.is_valid and not geom.is_empty, code
        assert official[code].startswith(props["name"].removesuffix("村").removesuffix("社区"))


def test_townships_tile_the_county_outline(regions):
    (county,) = [g for p, g in regions.values() if p["level"] == "county"]
    townships = [g for p, g in regions.values() if p["level"] == "township"]
    assert shapely.coverage_is_valid(townships)  # no overlaps
    union = shapely.union_all(townships)
    assert union.symmetric_difference(county).area < 0.001 * county.area
    assert sum(t.area for t in townships) == pytest.approx(county.area, rel=1e-9)


def test_villages_tile_their_township(regions):
    for code, (props, township) in regions.items():
        if props["level"] != "township":
            continue
        mine = [g for p, g in regions.values() if p["parent_code"] == code]
        assert mine and shapely.coverage_is_valid(mine), code
        assert shapely.union_all(mine).symmetric_difference(township).area < 1e-12, code


def test_grid_edges_have_the_detail_of_a_traced_boundary(grids):
    vertices = sorted(shapely.get_num_coordinates(g) for _, g in grids)
    assert vertices[len(vertices) // 2] >= 100


def test_townships_without_grids_are_listed_gaps(regions, grids, households):
    with_grids = {p["village_code"][:9] for p, _ in grids}
    townships = {c for c, (p, _) in regions.items() if p["level"] == "township"}
    assert gaps("township_without_grids") == townships - with_grids
    assert with_grids and not {h["village_code"][:9] for h in households} - with_grids


def test_grids_tile_each_village_except_the_marked_gap(grids, villages):
    by_village = defaultdict(list)
    for props, geom in grids:
        assert geom.is_valid and props["code"].startswith(props["village_code"])
        by_village[props["village_code"]].append(geom)
    uncovered_villages = gaps("uncovered_area")
    assert uncovered_villages
    for code, mine in by_village.items():
        _, village = villages[code]
        union = shapely.union_all(mine)
        assert sum(g.area for g in mine) == pytest.approx(union.area, abs=1e-14)
        assert shapely.coverage_is_valid(mine)
        uncovered = village.difference(union).area
        if code in uncovered_villages:
            assert uncovered > 1e-5
        else:
            assert uncovered == 0, code
        assert union.difference(village).area == 0


def test_household_outside_every_grid_is_a_gap(grids, villages):
    uncovered_villages = gaps("uncovered_area")
    gap = shapely.union_all([villages[code][1].difference(shapely.union_all(
        [g for p, g in grids if p["village_code"] == code])) for code in uncovered_villages])
    uncovered = [f for f in features("households.geojson") if not f["properties"].get("grid_code")]
    assert uncovered
    for feature in uncovered:
        assert feature["properties"]["village_code"] in uncovered_villages
        if feature["geometry"]:
            assert gap.contains(shape(feature["geometry"]))


def test_households_lie_in_their_grid(grids):
    by_code = {p["code"]: g for p, g in grids}
    located = [f for f in features("households.geojson")
               if f["geometry"] and f["properties"].get("grid_code")]
    assert all(by_code[f["properties"]["grid_code"]].contains(Point(f["geometry"]["coordinates"]))
               for f in located)
    assert len(located) < len(features("households.geojson"))  # some locations unknown


def test_id_numbers_are_valid_and_registered_residents_carry_the_county_prefix(households):
    numbers = [(h["id_number"], h["residence_type"]) for h in households if "id_number" in h]
    assert len(numbers) > 0.9 * len(households)
    assert all(id_check_digit(n[:17]) == n[17] for n, _ in numbers)
    assert all(n.startswith("532329") for n, residence in numbers if residence == "registered")


# --- people and households: drawn as families, so their facts agree ---------------------

def test_no_household_is_both_minimum_living_and_extreme_poverty(households):
    assert not [h["code"] for h in households if h.get("minimum_living") and h.get("extreme_poverty")]
    assert any(h.get("minimum_living") for h in households)
    assert any(h.get("extreme_poverty") for h in households)


def test_one_person_households_have_no_children_or_left_behind_wife(households):
    alone = [h for h in households if h["size"] == 1]
    assert alone
    assert not [h["code"] for h in alone if h.get("left_behind_children") or h.get("left_behind_women")]


def test_extreme_poverty_and_elderly_alone_are_households_of_one_or_two(households):
    for flag in ("extreme_poverty", "elderly_alone"):
        flagged = [h["size"] for h in households if h.get(flag)]
        assert flagged and max(flagged) <= 2, flag


def test_surnames_follow_the_county_not_a_uniform_draw(households):
    surnames = Counter(h["head_name"][0] for h in households)
    top = [s for s, _ in surnames.most_common(4)]
    assert top[0] == "李" and {"王", "张", "杨"} & set(top)
    total = sum(surnames.values())
    for yi in ("普", "自", "毕"):  # Yi surnames: present, far less common than 李
        assert 0 < surnames[yi] < surnames["李"] / 4
    assert surnames["余"] and surnames["熊"] and surnames["陶"]  # Lisu and Miao families
    assert surnames["李"] / total < 0.25


def test_given_names_fit_the_sex_on_the_id_number(households):
    checked = 0
    for h in households:
        if "id_number" not in h:
            continue
        male = int(h["id_number"][16]) % 2 == 1
        given = h["head_name"][1:]
        assert set(given) <= set(GIVEN_MALE if male else GIVEN_FEMALE), (h["head_name"], male)
        checked += 1
    assert checked


def test_rural_villages_have_few_migrants(households):
    rural = [h for h in households if h["village_code"][9] not in "01"]
    migrants = sum(h["residence_type"] == "migrant" for h in rural)
    assert rural and migrants / len(rural) < 0.03


def test_addresses_fit_a_village_or_a_community(households):
    for h in households:
        if h["village_code"][9] in "01":
            assert "社区" in h["address"] and "委会" not in h["address"], h["address"]
        else:
            hamlet_and_number = h["address"].partition("村委会")[2]  # village names are real: 鸡街子
            assert hamlet_and_number and not re.search("路|街|栋|单元|室", hamlet_and_number), h["address"]


def test_visit_notes_fit_the_household(households):
    size = {h["code"]: h["size"] for h in households}
    for visit in rows("visits.csv"):
        away = re.search(r"外出务工 (\d+) 人", visit["notes"])
        if away:
            assert int(away.group(1)) < size[visit["household_code"]], visit
        if "孩子" in visit["notes"] or "留守儿童" in visit["notes"]:
            assert size[visit["household_code"]] >= 2, visit


# --- units and cadres ---------------------------------------------------------------------

def test_one_party_secretary_one_county_head_and_leaders_from_the_county():
    titles = Counter(c["title"] for c in rows("cadres.csv"))
    assert titles["县委书记"] == 1
    assert sum(n for t, n in titles.items() if t.endswith("县长") and "副县长" not in t) == 1
    cadres = {c["code"]: c for c in rows("cadres.csv")}
    leaders = [cadres[a["cadre_code"]] for a in rows("assignments.csv") if a["kind"] == "village"]
    assert all(leader["unit_code"].startswith("A") for leader in leaders)  # county agencies
    assert "县委书记" in {leader["title"] for leader in leaders}


def test_every_township_has_the_units_a_township_has(regions):
    units = rows("units.csv")
    for code, (props, _) in regions.items():
        if props["level"] != "township":
            continue
        names = {u["name"].removeprefix(props["name"]) for u in units if u["region_code"] == code}
        assert {"综治中心", "社会保障服务中心", "派出所", "司法所", "卫生院"} <= names, code


# --- time of day ----------------------------------------------------------------------------

def test_visits_are_day_anchored_in_waking_hours_mostly_on_working_days():
    visits = rows("visits.csv")
    anchored = [re.fullmatch(r"-P(\d+)(W?D)@(\d\d):(\d\d)", v["visited_at"]) for v in visits]
    assert all(anchored)
    assert all(7 <= int(m.group(3)) < 22 for m in anchored)
    assert sum(m.group(2) == "WD" for m in anchored) > 0.85 * len(visits)


def minutes(cell: str) -> int:
    """An offset cell (`-P12DT3H5M`) in minutes from the moment of loading."""
    m = re.fullmatch(r"(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", cell)
    assert m, cell
    value = int(m.group(2) or 0) * 1440 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
    return -value if m.group(1) else value


STAGE_DUE = {"reported": "triage_due", "triaged": "handling_due", "in_progress": "handling_due",
             "handled": "feedback_due"}
OPEN = ("reported", "triaged", "in_progress", "handled", "feedback")


def test_every_status_and_level_present_with_a_minority_overdue():
    issues = rows("issues.csv")
    assert set(Counter(i["status"] for i in issues)) == set(ISSUE_STATUSES)
    assert set(i["level"] for i in issues) == {"village", "township", "county"}
    staged = [i for i in issues if i["status"] in STAGE_DUE]
    overdue = [i for i in staged if minutes(i[STAGE_DUE[i["status"]]]) < 0]
    assert 5 <= len(overdue) <= len(staged) / 3  # red lights to show, but not a red queue
    assert {i["real_name"] for i in issues} == {"true", "false"}


def test_the_status_mix_is_like_a_ledger():
    issues = rows("issues.csv")
    old = [i for i in issues if minutes(i["reported_at"]) < -30 * 1440]
    ended = [i for i in old if i["status"] in ("closed", "rejected", "voided", "long_term")]
    assert len(ended) >= 0.9 * len(old) and len(old) > 0.6 * len(issues)
    assert sum(i["status"] == "closed" for i in old) >= 0.75 * len(old)
    still_open = [i for i in issues if i["status"] in OPEN]
    recent = [i for i in still_open if minutes(i["reported_at"]) > -30 * 1440]
    assert len(recent) >= 0.8 * len(still_open)
    assert len({i["description"] for i in issues}) == len(issues)


def test_issues_go_to_the_units_that_own_them_at_their_level():
    units = {u["code"]: u for u in rows("units.csv")}
    owners = {(o["category_code"], o["region_code"]): o["unit_code"] for o in rows("issue_ownership.csv")}
    issues = {i["code"]: i for i in rows("issues.csv")}
    for event in rows("issue_events.csv"):
        if not event["unit_code"]:
            continue
        issue, unit = issues[event["issue_code"]], units[event["unit_code"]]
        expected = {"village": issue["village_code"] + "V",
                    "township": owners[(issue["category"], issue["village_code"][:9])],
                    "county": owners[(issue["category"], issue["village_code"][:6])]}
        assert unit["code"] == expected[event["level"]], (event, unit)
    for issue in issues.values():
        if issue["responsible_unit_code"]:
            assert issue["responsible_unit_code"] == {
                "village": issue["village_code"] + "V",
                "township": owners[(issue["category"], issue["village_code"][:9])],
                "county": owners[(issue["category"], issue["village_code"][:6])]}[issue["level"]]


def test_every_event_names_who_acted_and_closed_issues_have_their_callbacks():
    assert all(e["actor_login"] or e["actor_cadre_code"] for e in rows("issue_events.csv"))
    callbacks = defaultdict(list)
    for c in rows("callbacks.csv"):
        callbacks[c["issue_code"]].append(c)
        assert c["by_login"] or c["by_cadre_code"]
    for issue in rows("issues.csv"):
        reached = [c for c in callbacks[issue["code"]] if c["reached"] == "true"]
        if issue["status"] in ("feedback", "closed") and reached:
            last = max(reached, key=lambda c: int(c["seq"]))
            assert last["satisfaction"] == issue["satisfaction"] != "unsatisfied"
        elif issue["status"] == "closed":  # no 回访: only for an anonymous reporter, with the reason
            assert issue["real_name"] == "false" and issue["no_callback_reason"]
    answers = Counter(c["satisfaction"] for c in rows("callbacks.csv") if c["reached"] == "true")
    assert answers["satisfied"] > answers["basically_satisfied"] > 0 and answers["unsatisfied"] > 0


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
    kinds = Counter(g["kind"] for g in rows("deliberate_gaps.csv"))
    assert {"uncovered_area", "village_without_leader", "grid_without_unit",
            "household_without_cadre", "household_not_visited", "branch_without_cadre",
            "township_without_grids"} <= set(kinds)
    leaders = {a["region_code"] for a in rows("assignments.csv") if a["kind"] == "village"}
    assert gaps("village_without_leader") and not gaps("village_without_leader") & leaders


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
