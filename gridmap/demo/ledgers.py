"""The demo county's follow-through ledgers: 民情恳谈会 meetings, 办实事 deeds and 挂牌 targets.

Drawn after everything else from their own generator (`rnd`), so the other files' rows stay
as they were. Over the last ~11 months: about 0.4 meetings a village, organised by a cadre
holding that village (包村领导 or 驻村第一书记); deeds for ~8% of the paired households (some
the follow-up of a closed issue of that household); the weak Party branches and the villages
with most issues tagged as targets, in every state (two struck off, one awaiting approval,
the rest listed, one of them overdue). Times are offsets from the moment of loading.
"""

from __future__ import annotations

import random
from collections import Counter

from shapely.geometry import shape

from gridmap.demo.activity import anchored
from gridmap.demo.county import CHADIAN, SHISHAN


def is_community(village_code: str) -> bool:
    """NBS village serials 001–199 are 居委会 (communities), 200–399 村委会."""
    return village_code[9] in "01"

COLUMNS = {
    "targets": ("code", "kind", "party_branch_code", "region_code", "grid_code", "reason", "plan",
                "liaison_cadre_code", "helping_unit_code", "due_on", "status", "tagged_at",
                "close_requested_at", "close_requested_by_login", "closed_at", "evidence"),
    "meetings": ("code", "kind", "region_code", "held_at", "place", "lon", "lat",
                 "organiser_cadre_code", "attendance", "topics"),
    "deeds": ("code", "title", "detail", "region_code", "household_code", "cadre_code",
              "unit_code", "cost_yuan", "done_on", "issue_code"),
}
DAYS = 330  # ~11 months back
MEETINGS_PER_VILLAGE = 0.4
DEED_SHARE = 0.08
REGION_TARGETS = 4

TOPICS = ("村道硬化和维护", "饮水工程管护", "人居环境整治", "低保和临时救助评议", "森林防火",
          "防汛和地质灾害避险", "产业发展和农产品销路", "医保缴费和家庭医生签约", "留守老人儿童关爱",
          "矛盾纠纷排查化解", "村规民约修订", "农村危房改造", "务工就业信息", "护林员和公益岗位",
          "移风易俗", "垃圾清运和公厕管护", "灌溉沟渠修缮", "学生资助政策宣传")
MEETING_PLACES = {"consultation": ("{office}会议室", "{village}党群服务中心", "{village}新时代文明实践站"),
                  "courtyard": ("{village}{group}组院坝", "{village}{group}组活动场", "{village}{group}组村民家中院坝")}
# What was done, and which issue categories it may follow up (a closed issue of that household).
DEEDS = {
    "代购药品": ("为行动不便的老人代购慢性病药品并送药上门", ("medical_aid",)),
    "协助办理医保": ("帮助办理医保参保缴费和慢性病卡申请", ("medical_aid", "minimum_living")),
    "修缮漏雨房屋": ("协调材料和人工，修补屋面、更换破损瓦片", ("unsafe_housing",)),
    "帮助销售农产品": ("联系收购商和消费帮扶渠道，帮助销售核桃、花椒等农产品", ("employment",)),
    "疏通排水沟": ("组织人员清理房前屋后排水沟淤泥", ("sanitation", "irrigation", "neighbour_dispute")),
    "安装路灯": ("协调安装太阳能路灯，方便夜间出行", ("street_light",)),
    "协助申请临时救助": ("帮助整理材料、申请临时救助", ("minimum_living",)),
    "联系务工岗位": ("推荐就近务工岗位并协助签订劳动合同", ("employment",)),
    "维修饮水管道": ("更换破损入户水管，恢复正常供水", ("drinking_water",)),
    "送学习用品": ("为留守儿童送去书包、文具并辅导作业", ("education_aid",)),
}
BRANCH_REASONS = ("软弱涣散：班子不团结、战斗力不强", "软弱涣散：组织生活不规范、“三会一课”不落实")
BRANCH_PLANS = ("选优配强班子，县级领导包联，组织部门每月督导；规范“三会一课”",
                "调整充实支部班子，建立党员联系户制度，驻村工作队帮带")
REGION_REASONS = ("矛盾纠纷多发", "群众反映问题集中", "信访问题突出", "人居环境整治滞后")
REGION_PLANS = ("建立矛盾纠纷排查台账，每周研判，包村领导牵头化解",
                "组织民情恳谈会逐户听取意见，问题清单化、限期办结",
                "落实网格员每日巡查，重点户包保到人",
                "开展“回头看”，对已办结事项逐件回访")


def _days(offset: str) -> int:
    """Whole days back of a `-P12DT3H` offset (12; 0 for `-PT13H44M`, under a day)."""
    days, has_days, _time = offset.removeprefix("-P").partition("D")
    return int(days or 0) if has_days else 0


def build(county, rnd: random.Random) -> None:
    """The three ledger tables, into county.tables."""
    leaders, secretaries = {}, {}
    for row in county.tables["assignments"]:
        if row["kind"] == "village" and row["cadre_code"]:
            leaders[row["region_code"]] = row["cadre_code"]
        elif row["kind"] == "first_secretary" and row["cadre_code"]:
            secretaries[row["region_code"]] = row["cadre_code"]
    units = {c["code"]: c["unit_code"] for c in county.tables["cadres"]}
    county.tables["meetings"] = _meetings(county, rnd, leaders, secretaries)
    county.tables["deeds"] = _deeds(county, rnd, units)
    county.tables["targets"] = _targets(county, rnd, leaders, units)


def _meetings(county, rnd: random.Random, leaders: dict, secretaries: dict) -> list[dict]:
    villages = [r for r in county.regions if r["level"] == "village"]
    names = {r["code"]: r["name"] for r in county.regions}
    count = round(MEETINGS_PER_VILLAGE * len(villages))
    held = sorted(rnd.sample(villages, count), key=lambda v: v["code"])
    rows = []
    for village in held:
        organisers = [c for c in (leaders.get(village["code"]), secretaries.get(village["code"])) if c]
        kind = "courtyard" if rnd.random() < 0.25 else "consultation"
        evening = kind == "courtyard" and rnd.random() < 0.6
        minute = rnd.randint(19 * 60 + 30, 20 * 60 + 15) if evening else rnd.choice((9, 10, 14, 15)) * 60
        point = shape({"type": "MultiPolygon", "coordinates": village["geom"]}).representative_point()
        rows.append({
            "kind": kind, "region_code": village["code"], "_days": rnd.randint(2, DAYS),
            "_minute": minute,
            "place": rnd.choice(MEETING_PLACES[kind]).format(
                village=names[village["code"]], group=rnd.randint(1, 9),
                office=names[village["code"]] + ("居委会" if is_community(village["code"]) else "村委会")),
            "lon": round(point.x + rnd.uniform(-0.002, 0.002), 6),
            "lat": round(point.y + rnd.uniform(-0.002, 0.002), 6),
            "organiser_cadre_code": rnd.choice(organisers) if organisers else "",
            "attendance": rnd.randint(15, 35) if kind == "courtyard" else rnd.randint(25, 80),
            "topics": "；".join(rnd.sample(TOPICS, rnd.randint(2, 4)))})
    rows.sort(key=lambda r: (-r["_days"], r["region_code"]))
    for serial, row in enumerate(rows, start=1):
        row["code"] = f"HY{serial:05d}"
        row["held_at"] = anchored(row.pop("_days"), row.pop("_minute"))
    return rows


def _cost(rnd: random.Random) -> str:
    """Many small sums (a medicine run costs nothing but time), a few thousand yuan."""
    band = rnd.choices(((0, 0), (20, 300), (300, 2000), (2000, 5000)), (30, 45, 20, 5))[0]
    return f"{rnd.randint(*band)}" if band[1] else "0"


def _deeds(county, rnd: random.Random, units: dict) -> list[dict]:
    households = {h["code"]: h for h in county.households if h.get("cadre_code")}
    wanted = round(DEED_SHARE * len(households))
    by_category: dict[str, list[str]] = {}
    for title, (_detail, categories) in DEEDS.items():
        for category in categories:
            by_category.setdefault(category, []).append(title)
    followed = [i for i in county.tables["issues"]
                if i["status"] == "closed" and i["household_code"] in households
                and i["category"] in by_category]
    rows, done = [], set()
    for issue in rnd.sample(followed, min(len(followed), wanted // 4)):
        title = rnd.choice(by_category[issue["category"]])
        rows.append(_deed(rnd, households[issue["household_code"]], title, units,
                          max(1, _days(issue["closed_at"])), issue["code"]))
        done.add(issue["household_code"])
    rest = rnd.sample(sorted(set(households) - done), wanted - len(rows))
    for code in rest:
        rows.append(_deed(rnd, households[code], rnd.choice(list(DEEDS)), units,
                          rnd.randint(1, DAYS), ""))
    rows.sort(key=lambda r: (-r["_days"], r["household_code"]))
    for serial, row in enumerate(rows, start=1):
        row["code"] = f"SS{serial:05d}"
        row["done_on"] = f"-P{row.pop('_days')}D"
    return rows


def _deed(rnd, household: dict, title: str, units: dict, days: int, issue_code: str) -> dict:
    cadre = household["cadre_code"]
    return {"title": title, "detail": DEEDS[title][0], "region_code": household["village_code"],
            "household_code": household["code"], "cadre_code": cadre,
            "unit_code": units.get(cadre, ""), "cost_yuan": _cost(rnd), "_days": days,
            "issue_code": issue_code}


def _asker(region_code: str) -> str:
    """The demo account that asks for a 销号 in this place (its township's staff)."""
    return {CHADIAN: "township_staff", SHISHAN: "township_staff_shishan"}.get(region_code[:9], "")


def _targets(county, rnd: random.Random, leaders: dict, units: dict) -> list[dict]:
    weak = [b for b in county.tables["party_branches"] if str(b["weak"]).lower() == "true"]
    issues = Counter(i["village_code"] for i in county.tables["issues"] if i["village_code"])
    busiest = [code for code, _n in sorted(issues.items(), key=lambda p: (-p[1], p[0]))][:REGION_TARGETS]
    rows = []
    for n, branch in enumerate(weak):
        rows.append({"kind": "party_branch", "party_branch_code": branch["code"],
                     "_village": branch["village_code"], "reason": BRANCH_REASONS[n % 2],
                     "plan": BRANCH_PLANS[n % 2]})
    for n, village in enumerate(busiest):
        rows.append({"kind": "region", "region_code": village, "_village": village,
                     "reason": REGION_REASONS[n % len(REGION_REASONS)],
                     "plan": REGION_PLANS[n % len(REGION_PLANS)]})
    # Region targets of the demo's townships carry the states an asker can be named for.
    states = ["listed"] * len(rows)
    regions = [i for i, r in enumerate(rows) if r["kind"] == "region" and _asker(r["_village"])]
    for i, status in zip(regions, ("closed", "closed", "close_requested"), strict=False):
        states[i] = status
    overdue = next(i for i, s in enumerate(states) if s == "listed")
    for serial, (row, status) in enumerate(zip(rows, states, strict=True), start=1):
        village = row.pop("_village")
        leader = leaders.get(village, "")
        tagged = rnd.randint(240, DAYS)
        row |= {"code": f"GP{serial:05d}", "liaison_cadre_code": leader,
                "helping_unit_code": units.get(leader, ""), "status": status,
                "tagged_at": anchored(tagged, rnd.randint(9 * 60, 11 * 60))}
        if status == "listed":
            row["due_on"] = f"-P{rnd.randint(10, 25)}D" if serial - 1 == overdue \
                else f"P{rnd.randint(45, 150)}D"
            continue
        asked = rnd.randint(20, 90) if status == "closed" else rnd.randint(3, 10)
        row |= {"due_on": f"-P{asked - rnd.randint(5, 15)}D" if status == "closed" else f"P{rnd.randint(20, 60)}D",
                "close_requested_at": anchored(asked, rnd.randint(9 * 60, 17 * 60)),
                "close_requested_by_login": _asker(village),
                "evidence": "整改措施全部落实，近三个月群众反映问题按期办结，乡镇验收合格"}
        if status == "closed":
            row["closed_at"] = anchored(asked - rnd.randint(3, 12), rnd.randint(9 * 60, 17 * 60))
    return rows


__all__ = ["COLUMNS", "build"]
