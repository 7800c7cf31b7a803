"""What happens in the demo county: issues with their event history, visits, demo users."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter

from gridmap.demo import categories as demo_categories
from gridmap.demo import people
from gridmap.demo.county import CHADIAN, COUNTY_CODE, SHISHAN
from gridmap.demo.households import visit_note
from gridmap.models import ROLES

COLUMNS = {
    "users": ("login", "password", "role", "scope_code", "unit_code", "cadre_code", "display_name"),
    "issues": ("code", "title", "description", "category", "urgency", "source", "lon", "lat",
               "grid_code", "village_code", "household_code", "reporter_name", "reporter_phone",
               "real_name", "status", "level", "responsible_unit_code", "reported_at",
               "triage_due", "handling_due", "feedback_due", "review_on", "status_changed_at",
               "closed_at", "satisfaction", "client_uuid"),
    "issue_events": ("issue_code", "seq", "from_status", "to_status", "at", "actor_login", "level",
                     "note"),
    "visits": ("client_uuid", "household_code", "cadre_code", "kind", "visited_at", "lon", "lat",
               "accuracy_m", "checklist", "notes", "satisfaction", "issue_code"),
}
WINDOW_MIN = 180 * 1440  # everything happens within the last 180 days
STATUS_WEIGHTS = {"reported": 8, "triaged": 8, "in_progress": 15, "handled": 8, "feedback": 8,
                  "closed": 40, "rejected": 4, "voided": 3, "long_term": 6}
OPEN_DUE = {"reported": "triage_due", "triaged": "handling_due", "in_progress": "handling_due",
            "handled": "feedback_due"}
NOT_VISITED = 30
NEVER_VISITED = 5
DEMO_PASSWORD = "demo-{login}"


def offset(minutes: int) -> str:
    """Minutes from the moment of loading as a signed ISO 8601 duration: -1500 → `-P1DT1H`."""
    sign, rest = ("-" if minutes < 0 else ""), abs(int(minutes))
    days, rest = divmod(rest, 1440)
    hours, mins = divmod(rest, 60)
    clock = ("T" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")) if (hours or mins) else ""
    return f"{sign}P{days}D{clock}" if days or not clock else f"{sign}P{clock}"


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


class Chain:
    """The event history of one issue, in minutes from its report."""

    def __init__(self, rnd: random.Random, source_note: str):
        self.rnd = rnd
        self.events = [[None, "reported", 0, "village", source_note]]
        self.marks: dict[str, int] = {}

    @property
    def status(self) -> str:
        return self.events[-1][1]

    @property
    def level(self) -> str:
        return self.events[-1][3]

    def step(self, to: str, low: int, high: int, note: str, level: str | None = None) -> None:
        at = self.events[-1][2] + self.rnd.randint(low, high)
        self.events.append([self.status, to, at, level or self.level, note])
        self.marks[to] = at


def _chain(rnd: random.Random, status: str, level: str, urgent: bool, limit_days: int,
           unit_name: str, source_note: str) -> tuple[Chain, dict[str, int], list[str]]:
    """Events leading to `status`, the stage deadlines, and the callback results."""
    chain, callbacks = Chain(rnd, source_note), []
    triage = (20, 110) if urgent else (120, 1200)
    if status == "rejected":
        chain.step("rejected", *triage, "不属于受理范围，已告知群众并说明理由")
    elif status == "voided":
        chain.step("voided", *triage, rnd.choice(("重复上报，已合并", "测试数据", "误报")))
    elif status == "reported" and rnd.random() < 0.15:
        chain.step("triaged", *triage, f"分拨至{unit_name}")
        chain.step("reported", 60, 600, "回退：分类有误，重新分拨")
    elif status != "reported":
        chain.step("triaged", *triage, f"分拨至{unit_name}")
    if status in ("in_progress", "handled", "feedback", "closed", "long_term"):
        chain.step("in_progress", 60, 2880, "开始处置")
        for up in ("township", "county")[: ("village", "township", "county").index(level)]:
            chain.step("in_progress", 600, 2880,
                       "村级无法解决，上报乡镇" if up == "township" else "乡镇无法解决，上报县级部门", up)
    if status == "long_term":
        chain.step("long_term", 1440, 7200, "需列入项目计划解决，挂账跟踪")
    if status in ("handled", "feedback", "closed"):
        chain.step("handled", 1440, limit_days * 1440, "已处置完毕，附处置说明")
    if status in ("feedback", "closed"):
        if rnd.random() < 0.15:
            chain.step("feedback", 600, 4320, "回访：群众不满意")
            callbacks.append("unsatisfied")
            chain.step("in_progress", 30, 600, "群众不满意，重新处置")
            chain.step("handled", 1440, 7200, "二次处置完毕")
        result = rnd.choices(("satisfied", "basically_satisfied"), (75, 25))[0]
        chain.step("feedback", 600, 4320, "回访：满意" if result == "satisfied" else "回访：基本满意")
        callbacks.append(result)
    if status == "closed":
        chain.step("closed", 600, 7200, "核查属实，结案")
    due = {"triage_due": 120 if urgent else 1440}
    if "triaged" in chain.marks:
        due["handling_due"] = chain.marks["triaged"] + limit_days * 1440
    if "handled" in chain.marks:
        due["feedback_due"] = chain.marks["handled"] + 3 * 1440
    return chain, due, callbacks


def _start(rnd: random.Random, status: str, last: int, due: dict[str, int]) -> int:
    """When (minutes from now, negative) the issue was reported: overdue or on time on purpose."""
    current = due.get(OPEN_DUE.get(status, ""))
    latest = -last - 5
    if current is not None and current > last + 31 and rnd.random() < 0.65:
        return rnd.randint(-current + 30, -last - 1)  # still within its stage limit
    if current is not None:
        latest = min(latest, -current - 60)  # overdue: the stage deadline has passed
    return rnd.randint(-WINDOW_MIN + last, latest)


def build_issues(county, rnd: random.Random) -> list[dict]:
    """Issues in every status, at every level, some overdue; returns their callbacks as visits."""
    units = {u["name"]: u["code"] for u in county.tables["units"]}
    unit_names = {u["code"]: u["name"] for u in county.tables["units"]}
    names = {r["code"]: r["name"] for r in county.regions}
    categories = list(people.ISSUE_CATEGORIES)
    issues, events, callbacks = [], [], []
    for n in range(1, county.scale.issues + 1):
        household = rnd.choice(county.households)
        category = rnd.choice(categories)
        limit_days, agency, section, titles = people.ISSUE_CATEGORIES[category]
        urgent = rnd.random() < (0.35 if limit_days <= 3 else 0.08)
        status = rnd.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
        level = "village" if status in ("reported", "rejected", "voided") else rnd.choices(
            ("village", "township", "county"), (60, 28, 12))[0]
        village, township = household["village_code"], household["village_code"][:9]
        unit_code = {"village": f"{village}V",
                     "township": units.get(f"{names[township]}{section}", f"{township}G"),
                     "county": units[agency]}[level]
        source = rnd.choices(("grid_worker", "visit", "hotline", "resident"), (45, 20, 20, 15))[0]
        unit_name = unit_names[unit_code]
        chain, due, results = _chain(
            rnd, status, level, urgent, limit_days, unit_name,
            {"grid_worker": "网格员上报", "visit": "走访中发现", "hotline": "12345 热线转办",
             "resident": "群众自行反映"}[source])
        last = chain.events[-1][2]
        start = _start(rnd, status, last, due)
        code = f"MQ{n:06d}"
        real_name = rnd.random() < 0.6
        lonlat = household["lonlat"]
        if lonlat:
            lonlat = (round(lonlat[0] + rnd.uniform(-4e-4, 4e-4), 6),
                      round(lonlat[1] + rnd.uniform(-4e-4, 4e-4), 6))
        place = names[village] + (household["hamlet"] if rnd.random() < 0.3 else "")
        issues.append({
            "code": code, "title": rnd.choice(titles).format(place=place),
            "description": f"{household['address']}附近，{category}问题，群众希望尽快解决。",
            "category": demo_categories.code_of(category), "urgency": "urgent" if urgent else "normal", "source": source,
            "lon": lonlat[0] if lonlat else "", "lat": lonlat[1] if lonlat else "",
            "grid_code": household["grid_code"], "village_code": village,
            "household_code": household["code"] if rnd.random() < 0.8 else "",
            "reporter_name": household["head_name"] if real_name else "",
            "reporter_phone": (household["phone"] or people.phone(rnd)) if real_name else "",
            "real_name": "true" if real_name else "false", "status": status,
            "level": chain.level,
            "responsible_unit_code": "" if status in ("reported", "rejected", "voided") else unit_code,
            "reported_at": offset(start),
            "review_on": f"P{rnd.randint(10, 60)}D" if status == "long_term" else "",
            "status_changed_at": offset(start + last),
            "closed_at": offset(start + last) if status == "closed" else "",
            "satisfaction": results[-1] if results else "", "client_uuid": _uuid(rnd),
            **{k: offset(start + v) for k, v in due.items()}})
        for seq, (from_status, to_status, at, event_level, note) in enumerate(chain.events, 1):
            events.append({"issue_code": code, "seq": seq, "from_status": from_status or "",
                           "to_status": to_status, "at": offset(start + at), "level": event_level,
                           "note": note})
        feedback_times = [start + e[2] for e in chain.events if e[1] == "feedback"]
        if issues[-1]["household_code"]:
            callbacks.extend(
                {"household": household, "kind": "callback", "at": at, "satisfaction": result,
                 "issue_code": code, "notes": "回访：" + {"satisfied": "满意", "unsatisfied": "不满意",
                                                        "basically_satisfied": "基本满意"}[result]}
                for at, result in zip(feedback_times, results, strict=True))
    county.tables["issues"], county.tables["issue_events"] = issues, events
    return callbacks


def anchored(days_back: int, minute_of_day: int, workdays: bool = False) -> str:
    """A day-anchored time cell: `-P12D@09:30`, or in working days (Mon–Fri) `-P9WD@09:30`."""
    return f"-P{days_back}{'WD' if workdays else 'D'}@{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def visit_minute(rnd: random.Random, household: dict) -> int:
    """When in the day a cadre calls: old people in the morning, working families after work.

    Always between 08:00 and 21:00 China time: nobody knocks at night.
    """
    family = household["_family"]
    if family.elderly == family.size or household.get("extreme_poverty"):
        low, high = rnd.choice(((8 * 60 + 30, 11 * 60 + 30), (15 * 60, 17 * 60)))
    elif family.working_age_home and rnd.random() < 0.3:
        low, high = 19 * 60, 20 * 60 + 45  # back from the fields
    else:
        low, high = rnd.choice(((8 * 60 + 30, 12 * 60), (14 * 60 + 30, 18 * 60)))
    return rnd.randint(low, high)


def _rhythm(household: dict, scale) -> tuple[int, tuple[int, int]]:
    """(latest last visit in days, days between visits) by care category."""
    if any(household.get(flag) for flag in ("minimum_living", "extreme_poverty", "relapse_monitoring")):
        return scale.visit_last_max_days[0], scale.visit_interval_days[0]
    watched = any(household.get(flag) for flag in (
        "elderly_alone", "left_behind_children", "left_behind_elderly", "disability_category"))
    if watched:  # 空巢/独居, 留守 and disabled: between the two
        care, other = scale.visit_interval_days
        return (sum(scale.visit_last_max_days) // 2,
                ((care[0] + other[0]) // 2, (care[1] + other[1]) // 2))
    return scale.visit_last_max_days[1], scale.visit_interval_days[1]


def build_visits(county, rnd: random.Random, callbacks: list[dict]) -> None:
    """走访 over the last 180 days, on each household's rhythm; a few households left unvisited.

    Visits are written day-anchored (`-P9WD@10:15`): mostly on working days, in office
    hours or the early evening, whenever the demo is loaded.
    """
    scale = county.scale
    covered = {g["code"] for g in county.gaps}
    candidates = [h for h in county.households if h["code"] not in covered]
    neglected = rnd.sample(candidates, NOT_VISITED + NEVER_VISITED)
    neglect_days = {}
    for i, household in enumerate(neglected):
        care = household.get("minimum_living") or household.get("extreme_poverty")
        days = None if i < NEVER_VISITED else (rnd.randint(40, 60) if care else rnd.randint(100, 170))
        neglect_days[household["code"]] = days
        county.gaps.append({"kind": "household_not_visited", "code": household["code"],
                            "why": "从未走访" if days is None else f"约 {days} 天未走访"})
    visits = []
    for household in county.households:
        last_max, interval = _rhythm(household, scale)
        if household["code"] in neglect_days:
            if neglect_days[household["code"]] is None:
                continue
            day = neglect_days[household["code"]]
        else:
            day = rnd.randint(1, last_max)
        while day < 178:
            on_workday = rnd.random() < 0.93
            count = max(1, round(day * 5 / 7)) if on_workday else day
            visits.append({"household": household, "kind": "visit", "sort": -day,
                           "at": anchored(count, visit_minute(rnd, household), on_workday),
                           "notes": visit_note(rnd, household)})
            day += rnd.randint(*interval)
    for callback in callbacks:
        if callback["at"] <= -1440:  # 回访 in office hours, on the day of the feedback
            day = -callback["at"] // 1440
            visits.append({**callback, "sort": -day, "at": anchored(day, rnd.randint(9 * 60, 17 * 60 + 30))})
    rows = []
    for visit in sorted(visits, key=lambda v: (v["household"]["code"], v["sort"])):
        household, lonlat = visit["household"], visit["household"]["lonlat"]
        checklist = {k: list(v if rnd.random() < 0.8 else v[: rnd.randint(1, 2)])
                     for k, v in people.CHECKLIST.items()}
        rows.append({
            "client_uuid": _uuid(rnd), "household_code": household["code"],
            "cadre_code": household.get("cadre_code", ""), "kind": visit["kind"],
            "visited_at": visit["at"],
            "lon": round(lonlat[0] + rnd.uniform(-1e-4, 1e-4), 6) if lonlat else "",
            "lat": round(lonlat[1] + rnd.uniform(-1e-4, 1e-4), 6) if lonlat else "",
            "accuracy_m": rnd.randint(5, 40) if lonlat else "",
            "checklist": json.dumps(checklist, ensure_ascii=False, separators=(",", ":")),
            "notes": visit["notes"], "satisfaction": visit.get("satisfaction", ""),
            "issue_code": visit.get("issue_code", "")})
    county.tables["visits"] = rows


def build_users(county) -> None:
    """One demo user per role, most of them in 插甸镇, with `demo-<login>` passwords."""

    first_grid = next(g for g in county.grids if g["code"].startswith(CHADIAN))
    village = first_grid["village_code"]
    paired = next(h for h in county.households
                  if h["village_code"] == village and h.get("cadre_code"))
    handled = Counter(i["responsible_unit_code"] for i in county.tables["issues"]
                      if i["responsible_unit_code"].startswith(CHADIAN + "S"))
    unit_code = handled.most_common(1)[0][0] if handled else f"{CHADIAN}S01"
    names = {u["code"]: u["name"] for u in county.tables["units"]}
    rows = [
        ("grid_worker", "grid_worker", first_grid["code"], "", "", "网格员（" + first_grid["name"] + "）"),
        ("cadre", "cadre", "", "", paired["cadre_code"], "包户干部"),
        ("unit_handler", "unit_handler", CHADIAN, unit_code, "", "承办人（" + names[unit_code] + "）"),
        ("village_staff", "village_staff", village, "", "", "村干部（插甸村）"),
        ("township_staff", "township_staff", CHADIAN, "", "", "乡镇干部（插甸镇）"),
        ("township_staff_shishan", "township_staff", SHISHAN, "", "", "乡镇干部（狮山镇）"),
        ("leader", "leader", COUNTY_CODE, "", "", "县领导"),
        ("inspector", "inspector", COUNTY_CODE, "", "", "督查室"),
        ("admin", "admin", COUNTY_CODE, "", "", "系统管理员"),
    ]
    assert {r[1] for r in rows} == set(ROLES)
    county.tables["users"] = [
        {"login": login, "password": DEMO_PASSWORD.format(login=login), "role": role,
         "scope_code": scope, "unit_code": unit, "cadre_code": cadre, "display_name": name}
        for login, role, scope, unit, cadre, name in rows]


def build(county, rnd: random.Random) -> None:
    callbacks = build_issues(county, rnd)
    build_visits(county, rnd, callbacks)
    build_users(county)
