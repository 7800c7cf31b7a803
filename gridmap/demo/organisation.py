"""Units, cadres, 片 areas, Party branches and the 五包 assignments, with deliberate gaps."""

from __future__ import annotations

import math
import random

from gridmap.demo import people
from gridmap.demo.county import BRANCH_WITHOUT_CADRE, COUNTY_CODE, VILLAGE_WITHOUT_LEADER

COLUMNS = {
    "units": ("code", "name", "kind", "region_code"),
    "cadres": ("code", "name", "phone", "title", "unit_code"),
    "areas": ("code", "name", "township_code"),
    "area_grids": ("area_code", "grid_code"),
    "party_branches": ("code", "name", "village_code", "weak"),
    "assignments": ("kind", "cadre_code", "unit_code", "region_code", "area_code", "grid_code",
                    "branch_code", "household_code", "valid_from"),
}
GRIDS_WITHOUT_UNIT = 3
HOUSEHOLDS_WITHOUT_CADRE = 40


class Roster:
    """Hands out cadre codes and keeps the cadre table."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.rows: list[dict] = []

    def add(self, unit_code: str, title: str, male: bool | None = None) -> str:
        code = f"C{len(self.rows) + 1:06d}"
        male = self.rnd.random() < 0.6 if male is None else male
        name = people.person_name(self.rnd, male, people.ethnicity(self.rnd, None))
        self.rows.append({"code": code, "name": name, "phone": people.phone(self.rnd),
                          "title": title, "unit_code": unit_code})
        return code


def _since(rnd: random.Random, low_days: int, high_days: int) -> str:
    return f"-P{rnd.randint(low_days, high_days)}D"


def build_units(county, townships: list[dict], villages: list[dict]) -> dict[str, list[str]]:
    """Units by kind: county agencies, enterprises, section units per township, offices."""

    units, by_kind = [], {"agency": [], "enterprise": [], "section": [], "township": [], "village": []}

    def add(code, name, kind, region_code):
        units.append({"code": code, "name": name, "kind": kind, "region_code": region_code})
        by_kind[kind].append(code)

    for i, name in enumerate(people.COUNTY_AGENCIES, 1):
        add(f"A{i:03d}", name, "agency", COUNTY_CODE)
    for i, name in enumerate(people.ENTERPRISES, 1):
        add(f"E{i:03d}", name, "enterprise", COUNTY_CODE)
    for township in townships:
        add(f"{township['code']}G", f"{township['name']}人民政府", "township", township["code"])
        for i, section in enumerate(people.SECTION_UNITS, 1):
            add(f"{township['code']}S{i:02d}", f"{township['name']}{section}", "section", township["code"])
    for village in villages:
        office = "居民委员会" if village["name"].endswith("社区") else "村民委员会"
        add(f"{village['code']}V", f"{village['name'].removesuffix('村')}{office}", "village",
            village["code"])
    county.tables["units"] = units
    return by_kind


def build(county, rnd: random.Random) -> None:
    """Every table of the organisation and the 五包 chain."""

    townships = [r for r in county.regions if r["level"] == "township"]
    villages = [r for r in county.regions if r["level"] == "village"]
    units = build_units(county, townships, villages)
    roster = Roster(rnd)
    assignments: list[dict] = []

    def assign(kind, target_column, target, cadre_code="", unit_code=""):
        assignments.append({"kind": kind, "cadre_code": cadre_code, "unit_code": unit_code,
                            target_column: target, "valid_from": _since(rnd, 200, 700)})

    # 包村: the county leadership by rank (书记 and 县长 one village each, the others two),
    # then agency heads (two each), then their deputies; one village left without.
    shuffled = rnd.sample(villages, len(villages))
    leaders = _village_leaders(units, roster, rnd, len(villages))
    for village, leader in zip((v for v in shuffled if v["code"] != VILLAGE_WITHOUT_LEADER),
                               leaders, strict=False):
        assign("village", "region_code", village["code"], cadre_code=leader)
    county.gaps.append({"kind": "village_without_leader", "code": VILLAGE_WITHOUT_LEADER,
                        "why": "没有县处级领导包村"})
    # 驻村第一书记 and 帮扶工作队 in a third of the villages, from the same agency.
    for village in shuffled[: len(villages) // 3]:
        agency = rnd.choice(units["agency"][2:])
        assign("first_secretary", "region_code", village["code"],
               cadre_code=roster.add(agency, "驻村第一书记"))
        assign("work_team", "region_code", village["code"], unit_code=agency)

    _areas(county, rnd, townships, villages, units, assign)
    _groups(county, rnd, units, assign)
    _branches(county, rnd, villages, units, roster, assign, BRANCH_WITHOUT_CADRE)
    _households(county, rnd, units, roster, assign)
    county.tables["cadres"] = roster.rows
    county.tables["assignments"] = assignments


def _village_leaders(units, roster, rnd, villages: int) -> list[str]:
    """Cadre codes in the order they take villages, one entry per village they 包."""
    agencies = list(zip(units["agency"], people.COUNTY_AGENCIES, strict=True))
    ranked = []
    for title, office in people.LEADERS:
        code = roster.add(agencies[office][0], title, male=rnd.random() < 0.8)
        ranked += [code] * (1 if title in ("县委书记", "县委副书记、县长") else 2)
    for unit_code, name in agencies:
        ranked += [roster.add(unit_code, people.head_title(name), male=rnd.random() < 0.75)] * 2
    for unit_code, name in agencies:
        if len(ranked) >= villages:
            break
        ranked.append(roster.add(unit_code, "副" + people.head_title(name).removeprefix("常务")))
    return ranked


def _areas(county, rnd, townships, villages, units, assign) -> None:
    """片: villages of a township in runs of about five, each 包片 by an agency or enterprise."""
    areas, area_grids = [], []
    grids_by_village: dict[str, list[str]] = {}
    for grid in county.grids:
        grids_by_village.setdefault(grid["village_code"], []).append(grid["code"])
    sponsors = units["agency"][2:] + units["enterprise"]
    for township in townships:
        mine = [v for v in villages if v["parent_code"] == township["code"]
                and v["code"] in grids_by_village]
        if not mine:  # a township without grids has no 片 yet
            continue
        for n, start in enumerate(range(0, len(mine), 5), 1):
            code = f"{township['code']}P{n:02d}"
            areas.append({"code": code, "name": f"{township['name']}第{n}片区",
                          "township_code": township["code"]})
            for village in mine[start:start + 5]:
                area_grids.extend({"area_code": code, "grid_code": g}
                                  for g in grids_by_village.get(village["code"], []))
            assign("area", "area_code", code, unit_code=rnd.choice(sponsors))
    county.tables["areas"], county.tables["area_grids"] = areas, area_grids


def _groups(county, rnd, units, assign) -> None:
    """包组: a section-level unit of the township for every grid, but a few grids get none."""
    without = set(rnd.sample([g["code"] for g in county.grids], GRIDS_WITHOUT_UNIT))
    for grid in county.grids:
        if grid["code"] in without:
            county.gaps.append({"kind": "grid_without_unit", "code": grid["code"],
                                "why": "网格没有股所级单位包组"})
            continue
        township = grid["code"][:9]
        sections = [u for u in units["section"] if u.startswith(township)]
        assign("group", "grid_code", grid["code"], unit_code=rnd.choice(sections))


def _branches(county, rnd, villages, units, roster, assign, gap_township) -> None:
    """支部: one per village; 组工干部 包支部, six branches each; one branch left without."""
    branches = []
    organisers = [roster.add(units["agency"][2], rnd.choice(("组织员", "组织科科长", "干事")))
                  for _ in range(math.ceil(len(villages) / 6))]
    weak = set(rnd.sample([v["code"] for v in villages], 2))
    gap_done = False
    for i, village in enumerate(villages):
        code = f"{village['code']}D1"
        branches.append({"code": code, "name": f"中共{village['name']}支部委员会",
                         "village_code": village["code"],
                         "weak": "true" if village["code"] in weak else "false"})
        if not gap_done and village["code"].startswith(gap_township):
            gap_done = True
            county.gaps.append({"kind": "branch_without_cadre", "code": code,
                                "why": "支部没有组工干部包支部"})
            continue
        assign("branch", "branch_code", code, cadre_code=organisers[i % len(organisers)])
    county.tables["party_branches"] = branches


def _households(county, rnd, units, roster, assign) -> None:
    """包户: cadres and employees paired with 10–20 households of one village each."""
    pool = units["agency"] + units["enterprise"] + units["section"]
    without = set(rnd.sample(range(len(county.households)), HOUSEHOLDS_WITHOUT_CADRE))
    cadre, left, village = "", 0, ""
    for i, household in enumerate(county.households):
        if i in without:
            county.gaps.append({"kind": "household_without_cadre", "code": household["code"],
                                "why": "没有干部职工包户（结对）"})
            continue
        if left == 0 or household["village_code"] != village:
            village = household["village_code"]
            local = [u for u in units["section"] if u.startswith(village[:9])]
            cadre = roster.add(rnd.choice(local if rnd.random() < 0.5 else pool),
                               rnd.choice(people.STAFF_TITLES))
            left = rnd.randint(*county.scale.households_per_cadre)
        household["cadre_code"] = cadre
        left -= 1
        assign("household", "household_code", household["code"], cadre_code=cadre)
