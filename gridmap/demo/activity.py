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
               "closed_at", "satisfaction", "no_callback_reason", "client_uuid"),
    "issue_events": ("issue_code", "seq", "action", "from_status", "to_status", "at", "actor_login",
                     "actor_cadre_code", "level", "unit_code", "due_at", "note"),
    "callbacks": ("issue_code", "seq", "channel", "reached", "contacted_in_time", "solved",
                  "satisfaction", "unreached_reason", "at", "by_login", "by_cadre_code"),
    "visits": ("client_uuid", "household_code", "cadre_code", "kind", "visited_at", "lon", "lat",
               "accuracy_m", "checklist", "notes", "satisfaction", "issue_code"),
}
WINDOW_MIN = 180 * 1440  # everything happens within the last 180 days
# Like a real ledger: most items closed; the open ones recent (their stage started within
# its limit, so mostly green), a minority overdue (OVERDUE_SHARE of the open ones).
STATUS_WEIGHTS = {"reported": 4, "triaged": 4, "in_progress": 11, "handled": 5, "feedback": 4,
                  "closed": 61, "rejected": 4, "voided": 2, "long_term": 5}
OVERDUE_SHARE = 0.2
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


SINCE = ("已有三四天", "上周开始", "持续半个多月", "这个月以来", "前天夜里起", "雨季以来",
         "今年开春后", "已经一个多月", "最近几天")
IMPACT = ("附近十几户群众受影响", "老人孩子出行不便", "群众意见较大", "自行处理过但没解决",
          "存在安全隐患", "影响正常生产生活", "村民小组长已口头反映过", "家里只有老人在")
ASK = ("希望尽快派人查看", "请村委会协调处理", "盼早日解决", "希望有关部门给个答复",
       "请求帮助解决", "希望纳入近期计划", "请帮忙反映上去")
HANDLED = ("已现场核实并处置完毕", "已协调相关单位解决", "已按政策办理并告知本人",
           "已上门核实并落实帮扶措施", "已答复群众并办结", "已会同村民小组长现场处理")
SOURCE_NOTES = {"grid_worker": "网格员上报", "visit": "走访中发现", "hotline": "12345 热线转办",
                "resident": "群众自行反映"}
SATISFACTION_WORDS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


class Chain:
    """The event history of one issue, in minutes from its report, and its 回访.

    Each event: action, statuses, level, the unit handling it after, who acted (a part:
    reporter, village, township, unit) and the new stage deadline (minutes from the report).
    """

    def __init__(self, rnd: random.Random, note: str, triage_minutes: int):
        self.rnd = rnd
        self.events = [{"action": "report", "from": None, "to": "reported", "at": 0,
                        "level": "village", "unit": None, "by": "reporter",
                        "due": triage_minutes, "note": note}]
        self.callbacks: list[dict] = []
        self.dues = {"triage_due": triage_minutes}
        self.cursor = 0  # the latest moment so far: an event's or an unreached 回访's

    @property
    def status(self) -> str:
        return self.events[-1]["to"]

    @property
    def level(self) -> str:
        return self.events[-1]["level"]

    @property
    def unit(self) -> str | None:
        return self.events[-1]["unit"]

    @property
    def last(self) -> int:
        return self.cursor

    def step(self, action: str, to: str, low: int, high: int, note: str, by: str, *,
             level: str | None = None, unit: str | None = "same", due: str | None = None,
             minutes: int = 0) -> None:
        at = self.cursor = self.cursor + self.rnd.randint(low, high)
        event = {"action": action, "from": self.status, "to": to, "at": at,
                 "level": level or self.level, "unit": self.unit if unit == "same" else unit,
                 "by": by, "due": at + minutes if due else None, "note": note}
        if due:
            self.dues[due] = event["due"]
        self.events.append(event)

    def call_back(self, low: int, high: int, by: str, result: str | None, channel: str,
                  reason: str | None = None) -> None:
        """A 回访: reached (result given; a feed_back event) or not (the reason; no event)."""
        at = self.cursor = self.cursor + self.rnd.randint(low, high)
        if result is None:
            self.callbacks.append({"at": at, "channel": channel, "reached": False, "by": by,
                                   "unreached_reason": reason})
            return
        solved = result != "unsatisfied" and (result == "satisfied" or self.rnd.random() < 0.7)
        self.callbacks.append({
            "at": at, "channel": channel, "reached": True, "by": by, "satisfaction": result,
            "solved": solved, "contacted_in_time": self.rnd.random() < (0.95 if solved else 0.6)})
        self.events.append({"action": "feed_back", "from": self.status, "to": "feedback", "at": at,
                            "level": self.level, "unit": self.unit, "by": by, "due": None,
                            "note": "回访：" + SATISFACTION_WORDS[result]})


def _office(level: str) -> str:
    return "village" if level == "village" else "township"


def _chain(rnd: random.Random, status: str, level: str, urgent: bool, limit_days: int,
           triage_minutes: int, units: dict[str, tuple[str, str]], source: str,
           anonymous: bool) -> Chain:
    """Events leading to `status` at `level`: triaged to the 村委会 first (小事不出村), raised
    (上交) to the township's and then the county's owner of the category when needed."""
    chain = Chain(rnd, SOURCE_NOTES[source], triage_minutes)
    handling = limit_days * 1440
    triage = (20, max(30, triage_minutes * 3 // 4))
    village_unit, village_name = units["village"]
    if status == "rejected":
        chain.step("reject", "rejected", *triage, "不属于受理范围，已告知群众并说明理由", "village")
        return chain
    if status == "voided":
        chain.step("void", "voided", *triage, rnd.choice(("重复上报，已合并到原事项", "测试数据",
                                                           "误报，经核实不存在")), "village")
        return chain
    chain.step("triage", "triaged", *triage, f"分拨至{village_name}", "village",
               unit=village_unit, due="handling_due", minutes=handling)
    if status == "reported":  # sent back for re-triage (退单)
        chain.step("return", "reported", 60, 600, "退单：不属于本村职责，请重新分拨", "unit",
                   unit=None, due="triage_due", minutes=triage_minutes)
        return chain
    if status == "triaged":
        return chain
    chain.step("acknowledge", "in_progress", 30, 1440, "已签收", "unit")
    for up in ("township", "county")[: ("village", "township", "county").index(level)]:
        code, name = units[up]
        chain.step("escalate", "in_progress", 600, 2880,
                   f"{'村级' if up == 'township' else '乡镇'}无法解决，上交{name}", "unit",
                   level=up, unit=code, due="handling_due", minutes=handling)
    if status == "in_progress":
        return chain
    if status == "long_term":
        chain.step("defer", "long_term", 1440, 7200, "需列入项目计划解决，挂账跟踪", "township")
        return chain
    chain.step("handle", "handled", 1440, max(1500, handling * 4 // 5), rnd.choice(HANDLED),
               "unit", due="feedback_due", minutes=3 * 1440)
    if rnd.random() < 0.05:  # the check failed (返工)
        chain.step("rework", "in_progress", 120, 1440, "核查未通过：现场仍有问题，返工",
                   _office(chain.level), due="handling_due", minutes=handling)
        chain.step("handle", "handled", 1440, 5760, "返工完毕，已复核", "unit",
                   due="feedback_due", minutes=3 * 1440)
    if status == "handled":
        return chain
    office = _office(chain.level)
    if anonymous and status == "closed" and rnd.random() < 0.6:
        chain.step("close", "closed", 600, 4320, "匿名反映，无法回访；经现场核查已办结", office)
        return chain
    channel = rnd.choices(("phone", "visit", "in_person"), (70, 20, 10))[0]
    if rnd.random() < 0.1:
        chain.call_back(120, 1440, office, None, "phone", rnd.choice(("电话无人接听", "关机", "外出务工未联系上")))
    if rnd.random() < 0.08:
        chain.call_back(600, 2880, office, "unsatisfied", channel)
        chain.step("reopen", "in_progress", 30, 600, "回访不满意，重新处置", office,
                   due="handling_due", minutes=handling)
        chain.step("handle", "handled", 1440, 7200, "二次处置完毕", "unit",
                   due="feedback_due", minutes=3 * 1440)
    chain.call_back(600, 3600, office, rnd.choices(("satisfied", "basically_satisfied"), (75, 25))[0],
                    channel)
    if status == "closed":
        chain.step("close", "closed", 600, 4320, "经核查，办理属实，予以结案", office)
    return chain


def _start(rnd: random.Random, chain: Chain) -> int:
    """When (minutes from now, negative) the issue was reported. Closed and ended items at
    any time in the window; open ones so that their stage is running: mostly within its limit,
    OVERDUE_SHARE of them a little past it."""
    last, status = chain.last, chain.status
    due = {"reported": chain.dues.get("triage_due"), "triaged": chain.dues.get("handling_due"),
           "in_progress": chain.dues.get("handling_due"),
           "handled": chain.dues.get("feedback_due")}.get(status)
    if due is not None and due > last + 31:
        if rnd.random() >= OVERDUE_SHARE:
            return rnd.randint(-due + 30, -last - 1)
        return rnd.randint(-due - rnd.randint(60, 10 * 1440), -due - 60)
    if status == "feedback":
        return rnd.randint(-last - 2 * 1440, -last - 5)
    return rnd.randint(-WINDOW_MIN + last, -last - 5)


def _actors(county) -> tuple[dict, dict]:
    """Who acts for each village and township office: a cadre row of the 村委会 / 乡镇人民政府
    (added to the cadres file here), and the demo users of those offices."""
    offices: dict[str, str] = {}
    units = {u["code"]: u for u in county.tables["units"]}
    lived_in = {h["village_code"] for h in county.households}
    lived_in |= {code[:9] for code in lived_in}
    for unit in sorted(units.values(), key=lambda u: u["code"]):
        if unit["kind"] in ("village", "township") and unit["region_code"] in lived_in:
            code = f"CO{unit['region_code']}"
            offices[unit["code"]] = code
            county.tables["cadres"].append({
                "code": code, "name": people.person_name(random.Random(code), None),
                "phone": people.phone(random.Random(code + "p")),
                "title": "村（社区）党组织书记、主任" if unit["kind"] == "village" else "党政综合办公室干部",
                "unit_code": unit["code"]})
    by_unit: dict[str, list[str]] = {}
    for cadre in county.tables["cadres"]:
        if units.get(cadre["unit_code"], {}).get("kind") in ("section", "agency", "enterprise"):
            by_unit.setdefault(cadre["unit_code"], []).append(cadre["code"])
    return offices, by_unit


def build_issues(county, rnd: random.Random) -> list[dict]:
    """Issues with their event history (actors, units, deadlines) and 回访; returns the 回访 of
    registered households, which are also visits of kind callback."""
    units = {u["name"]: u["code"] for u in county.tables["units"]}
    unit_names = {u["code"]: u["name"] for u in county.tables["units"]}
    names = {r["code"]: r["name"] for r in county.regions}
    logins = {u["role"] + ":" + (u["unit_code"] if u["role"] == "unit_handler" else u["scope_code"]):
              u["login"] for u in county.tables["users"]}
    worker_grid = next(u["scope_code"] for u in county.tables["users"] if u["role"] == "grid_worker")
    offices, unit_cadres = _actors(county)
    categories = list(people.ISSUE_CATEGORIES)
    issues, events, callback_rows, visits = [], [], [], []
    for n in range(1, county.scale.issues + 1):
        household = rnd.choice(county.households)
        category = rnd.choice(categories)
        limit_days, agency, section, titles = people.ISSUE_CATEGORIES[category]
        fast = limit_days <= 3
        urgent = rnd.random() < (0.35 if fast else 0.08)
        triage_minutes = 60 * ((1 if fast else 2) if urgent else (8 if fast else 24))
        status = rnd.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
        level = "village" if status in ("reported", "triaged", "rejected", "voided") else rnd.choices(
            ("village", "township", "county"), (62, 28, 10))[0]
        village, township = household["village_code"], household["village_code"][:9]
        level_units = {"village": f"{village}V",
                       "township": units.get(f"{names[township]}{section}", f"{township}G"),
                       "county": units[agency]}
        source = rnd.choices(("grid_worker", "visit", "hotline", "resident"), (45, 20, 20, 15))[0]
        real_name = rnd.random() < 0.6
        chain = _chain(rnd, status, level, urgent, limit_days, triage_minutes,
                       {k: (v, unit_names[v]) for k, v in level_units.items()}, source,
                       anonymous=not real_name)
        start = _start(rnd, chain)
        code = f"MQ{n:06d}"
        lonlat = household["lonlat"]
        if lonlat:
            lonlat = (round(lonlat[0] + rnd.uniform(-4e-4, 4e-4), 6),
                      round(lonlat[1] + rnd.uniform(-4e-4, 4e-4), 6))
        place = names[village] + (household["hamlet"] if rnd.random() < 0.3 else "")
        template = rnd.choice(titles)
        household_code = household["code"] if rnd.random() < 0.8 else ""

        def actor(by: str, unit: str | None, household=household, village=village,
                  township=township, source=source, grid=household["grid_code"], serial=n):
            """(login, cadre code) of who did a step."""
            if by == "reporter":
                if source == "visit" and household.get("cadre_code"):
                    return "", household["cadre_code"]
                if source == "grid_worker" and grid == worker_grid:
                    return logins["grid_worker:" + grid], offices.get(f"{village}V", "")
                by = "township" if source == "hotline" else "village"
            if by == "unit" and unit and unit in unit_cadres:
                cadres = unit_cadres[unit]
                return (logins.get("unit_handler:" + unit, ""),
                        cadres[serial % len(cadres)])
            if by == "unit":
                by = "village" if (unit or "").endswith("V") else "township"
            if by == "village":
                return logins.get("village_staff:" + village, ""), offices.get(f"{village}V", "")
            return logins.get("township_staff:" + township, ""), offices.get(f"{township}G", "")

        closed_without_callback = chain.status == "closed" and not chain.callbacks
        issues.append({
            "code": code, "title": template.format(place=place),
            "description": f"{household['address']}附近，{rnd.choice(SINCE)}"
                           f"{template.format(place='')}，{rnd.choice(IMPACT)}，{rnd.choice(ASK)}。",
            "category": demo_categories.code_of(category), "urgency": "urgent" if urgent else "normal",
            "source": source,
            "lon": lonlat[0] if lonlat else "", "lat": lonlat[1] if lonlat else "",
            "grid_code": household["grid_code"], "village_code": village,
            "household_code": household_code,
            "reporter_name": household["head_name"] if real_name else "",
            "reporter_phone": (household["phone"] or people.phone(rnd)) if real_name else "",
            "real_name": "true" if real_name else "false", "status": chain.status,
            "level": chain.level, "responsible_unit_code": chain.unit or "",
            "reported_at": offset(start),
            "review_on": f"P{rnd.randint(10, 60)}D" if status == "long_term" else "",
            "status_changed_at": offset(start + chain.last),
            "closed_at": offset(start + chain.last) if chain.status == "closed" else "",
            "satisfaction": next((c["satisfaction"] for c in reversed(chain.callbacks)
                                  if c["reached"]), ""),
            "no_callback_reason": "匿名反映，无法回访" if closed_without_callback else "",
            "client_uuid": _uuid(rnd),
            **{k: offset(start + v) for k, v in chain.dues.items()}})
        for seq, event in enumerate(chain.events, 1):
            login, cadre = actor(event["by"], event["unit"] if event["action"] != "escalate"
                                 else chain.events[seq - 2]["unit"])
            events.append({"issue_code": code, "seq": seq, "action": event["action"],
                           "from_status": event["from"] or "", "to_status": event["to"],
                           "at": offset(start + event["at"]), "actor_login": login,
                           "actor_cadre_code": cadre, "level": event["level"],
                           "unit_code": event["unit"] or "",
                           "due_at": offset(start + event["due"]) if event["due"] is not None else "",
                           "note": event["note"]})
        for seq, callback in enumerate(chain.callbacks, 1):
            login, cadre = actor(callback["by"], None)
            if callback["channel"] == "visit" and household.get("cadre_code"):
                cadre = household["cadre_code"]
            callback_rows.append({
                "issue_code": code, "seq": seq, "channel": callback["channel"],
                "reached": "true" if callback["reached"] else "false",
                "contacted_in_time": _flag(callback.get("contacted_in_time")),
                "solved": _flag(callback.get("solved")),
                "satisfaction": callback.get("satisfaction", ""),
                "unreached_reason": callback.get("unreached_reason", ""),
                "at": offset(start + callback["at"]), "by_login": login, "by_cadre_code": cadre})
            if household_code:  # a registered household's 回访 is also a visit (kind callback)
                visits.append({"household": household, "kind": "callback",
                               "at": start + callback["at"], "reached": callback["reached"],
                               "satisfaction": callback.get("satisfaction", ""), "issue_code": code,
                               "notes": "回访：" + SATISFACTION_WORDS[callback["satisfaction"]]
                               if callback["reached"] else callback["unreached_reason"]})
    county.tables["issues"], county.tables["issue_events"] = issues, events
    county.tables["callbacks"] = callback_rows
    return visits


def _flag(value) -> str:
    return "" if value is None else "true" if value else "false"


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
    # 回访 in office hours, on the day of the feedback. Those of the last day and the unreached
    # attempts draw from their own generator, so the other visits stay as they were.
    later, later_rnd = [], random.Random(f"{rnd.getstate()[1][:4]}:callback-visits")
    for callback in callbacks:
        if callback["reached"] and callback["at"] <= -1440:
            day = -callback["at"] // 1440
            visits.append({**callback, "sort": -day, "at": anchored(day, rnd.randint(9 * 60, 17 * 60 + 30))})
        else:  # a day-anchored time never lies ahead: the last day's 回访 is filed as yesterday's
            day = max(1, -callback["at"] // 1440)
            later.append({**callback, "sort": -day,
                          "at": anchored(day, later_rnd.randint(9 * 60, 17 * 60 + 30))})
    rows = [row for _key, row in sorted(
        _visit_rows(visits, rnd) + _visit_rows(later, later_rnd), key=lambda pair: pair[0])]
    county.tables["visits"] = rows


def _visit_rows(visits: list[dict], rnd: random.Random) -> list[tuple[tuple, dict]]:
    """((household code, sort), CSV row) of each visit, drawn in household order."""
    rows = []
    for visit in sorted(visits, key=lambda v: (v["household"]["code"], v["sort"])):
        household, lonlat = visit["household"], visit["household"]["lonlat"]
        checklist = {k: list(v if rnd.random() < 0.8 else v[: rnd.randint(1, 2)])
                     for k, v in people.CHECKLIST.items()}
        rows.append(((household["code"], visit["sort"]), {
            "client_uuid": _uuid(rnd), "household_code": household["code"],
            "cadre_code": household.get("cadre_code", ""), "kind": visit["kind"],
            "visited_at": visit["at"],
            "lon": round(lonlat[0] + rnd.uniform(-1e-4, 1e-4), 6) if lonlat else "",
            "lat": round(lonlat[1] + rnd.uniform(-1e-4, 1e-4), 6) if lonlat else "",
            "accuracy_m": rnd.randint(5, 40) if lonlat else "",
            "checklist": json.dumps(checklist, ensure_ascii=False, separators=(",", ":")),
            "notes": visit["notes"], "satisfaction": visit.get("satisfaction", ""),
            "issue_code": visit.get("issue_code", "")}))
    return rows


def build_users(county) -> None:
    """One demo user per role, most of them in 插甸镇, with `demo-<login>` passwords."""

    first_grid = next(g for g in county.grids if g["code"].startswith(CHADIAN))
    village = first_grid["village_code"]
    paired = next(h for h in county.households
                  if h["village_code"] == village and h.get("cadre_code"))
    handled = Counter(o["unit_code"] for o in county.tables["issue_ownership"]
                      if o["unit_code"].startswith(CHADIAN + "S"))  # the 站所 owning most categories
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
    build_users(county)  # first: the issues' events name their actors
    callbacks = build_issues(county, rnd)
    build_visits(county, rnd, callbacks)
