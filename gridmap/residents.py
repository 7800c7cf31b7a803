"""Residents' own pages: report an issue from a village's printed page (its QR code), and
look up its progress with the issue code and the last 4 digits of one's phone. Core: no Flask.

A report is the one reporting service (gridmap.issues.report) acting as `issues.Resident`,
scoped to the page's village: the same validation as a staff report, source 群众反映, lands in
已上报 for triage. A lookup shows the stage, the public timeline (what was done when, by
which unit; never a person, a note or the reporter) and the result; a wrong code and a
wrong phone tail give the same answer. Both are throttled per address (gridmap.throttle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from gridmap import categories, clock, issues, open311, throttle
from gridmap.errors import BadInput, NotFound, _
from gridmap.models import Issue, IssueCategory, IssueEvent, Region, Unit
from gridmap.policy import Scope

TAIL = re.compile(r"^[0-9]{4}$")
CODE = re.compile(r"^[A-Za-z0-9]{4,32}$")
NOT_FOUND = _("没有查到：请核对事项编号和手机号后四位")
FORM_FIELDS = ("title", "description", "category", "place", "lon", "lat", "reporter_name",
               "reporter_phone")
# What the public timeline shows of the ledger: the state moves and these controls.
PUBLIC_ACTIONS = ("report", "triage", "acknowledge", "handle", "resolve_on_spot", "feed_back",
                  "close", "reopen", "rework", "escalate", "dispatch", "defer", "resume",
                  "reject", "grant_extension", "merge")
RESULT_ACTIONS = ("handle", "resolve_on_spot", "reject")
LONG_DIGITS = re.compile(r"\d{7,}")


@dataclass(frozen=True)
class Village:
    """The village a public page is for."""

    code: str
    name: str
    county_code: str
    township: str | None
    outline: str | None  # GeoJSON of its boundary (for the map tap), 5 decimals


def village(session, village_code: str) -> Village:
    """The village of a public page, or NotFound."""
    code = str(village_code or "")
    row = session.execute(
        select(Region.code, Region.name, Region.county_code,
               func.ST_AsGeoJSON(func.ST_SimplifyPreserveTopology(Region.geom, 0.0001), 5))
        .where(Region.code == code, Region.level == "village", Region.current())).first()
    if row is None:
        raise NotFound(_("没有这个村（社区）的反映页面"), field="village")
    township = session.scalar(select(Region.name).where(
        Region.code == code[:9], Region.level == "township", Region.current()))
    return Village(row[0], row[1], row[2], township, row[3])


def categories_for(session, county_code: str) -> list:
    """The categories a resident may choose (the county's, by name)."""
    return sorted(categories.all_of(session, county_code), key=lambda c: c.code)


def report(session, village_code: str, form: dict, address: str) -> Issue:
    """A resident's report from the village's page: anonymous, or by name with a phone (then
    real-name: 实名, with the promise of feedback); at a tapped point or a named place."""
    place = village(session, village_code)
    now = clock.now()
    keys = [f"addr:{address}"]
    throttle.check_public(session, "report", keys, now)
    data = {name: (form.get(name) or "").strip() if isinstance(form.get(name), str) else None
            for name in FORM_FIELDS}
    name, phone = data["reporter_name"] or None, data["reporter_phone"] or None
    if phone and not re.fullmatch(r"[0-9+\- ]{7,20}", phone):
        raise BadInput(_("电话号码应是 7–20 位数字"), field="reporter_phone")
    if name and not phone:
        raise BadInput(_("留名反映请同时留下电话，以便回访；也可以都不填（匿名）"),
                       field="reporter_phone")
    located = {"village_code": place.code}
    if data["lon"] or data["lat"]:
        lon, lat = _number(data, "lon"), _number(data, "lat")
        located = open311.place_of_point(session, Scope(place.county_code, place.code), lon, lat)
    elif not data["place"]:
        raise BadInput(_("请在地图上点出位置，或写明地点（如 某某组、某某路口）"), field="place")
    if len(data["place"] or "") > 200:
        raise BadInput(_("地点太长，至多 200 字"), field="place")
    issue = issues.report(session, issues.Resident(place.county_code, place.code), {
        "title": data["title"], "description": data["description"] or None,
        "category": data["category"], "note": f"地点：{data['place']}" if data["place"] else None,
        "source": "resident", "lon": data["lon"] or None, "lat": data["lat"] or None,
        "reporter_name": name, "reporter_phone": phone, "real_name": bool(name and phone),
        **located})
    throttle.record_public(session, place.county_code, "report", keys, now)
    return issue


def _number(data: dict, name: str) -> float:
    try:
        return float(data[name])
    except (TypeError, ValueError):
        raise BadInput(_("请在地图上点出位置（经纬度不完整）"), field="lon") from None


@dataclass(frozen=True)
class PublicStep:
    """One step of the public timeline: what was done, when, by which unit."""

    at: datetime
    action: str
    status: str
    unit: str | None


@dataclass(frozen=True)
class Progress:
    """What a resident learns of their issue: its stage and the public timeline."""

    code: str
    category: str
    status: str
    reported_at: datetime
    due: datetime | None
    steps: list
    result: str | None  # the handler's result note (办理结果), long digit runs hidden
    satisfaction: str | None
    merged_into: str | None  # the code of the issue it was merged into (合并)


def lookup(session, code: str, tail: str, address: str) -> Progress | None:
    """The progress of the issue `code` whose reporter's phone ends in `tail`; None when either
    is wrong (the same for both; the caller says NOT_FOUND and commits the counted failure)."""
    code, tail, now = str(code or "").strip().upper(), str(tail or "").strip(), clock.now()
    keys = [f"addr:{address}"] + ([f"code:{code}"] if CODE.match(code) else [])
    throttle.check_public(session, "lookup", keys, now)
    issue = None
    if CODE.match(code) and TAIL.match(tail):
        issue = session.scalar(select(Issue).where(func.upper(Issue.code) == code).limit(1))
    phone_digits = re.sub(r"\D", "", (issue.reporter_phone or "")) if issue else ""
    if issue is None or len(phone_digits) < 4 or not phone_digits.endswith(tail):
        throttle.record_public(session, issue.county_code if issue else "000000", "lookup",
                               keys, now)
        return None
    merged_into = None
    if issue.merged_into is not None:  # the survivor carries the work and the feedback
        issue = session.get(Issue, issue.merged_into)
        merged_into = issue.code
    return _progress(session, issue, merged_into)


def _progress(session, issue: Issue, merged_into: str | None) -> Progress:
    mine = select(Issue.id).where(Issue.county_code == issue.county_code,
                                  (Issue.id == issue.id) | (Issue.merged_into == issue.id))
    rows = session.execute(
        select(IssueEvent.at, IssueEvent.action, IssueEvent.to_status, Unit.name, IssueEvent.note)
        .outerjoin(Unit, Unit.id == IssueEvent.unit_id)
        .where(IssueEvent.county_code == issue.county_code, IssueEvent.issue_id.in_(mine),
               IssueEvent.action.in_(PUBLIC_ACTIONS))
        .order_by(IssueEvent.at, IssueEvent.id).limit(200)).all()
    steps = [PublicStep(at, action, status, unit) for at, action, status, unit, _note in rows]
    result = next((note for _at, action, _s, _u, note in reversed(rows)
                   if action in RESULT_ACTIONS and note), None)
    category = session.scalar(select(IssueCategory.name).where(
        IssueCategory.county_code == issue.county_code, IssueCategory.code == issue.category))
    due = {"reported": issue.triage_due, "triaged": issue.handling_due,
           "in_progress": issue.handling_due}.get(issue.status)
    return Progress(issue.code, category or issue.category, issue.status, issue.reported_at, due,
                    steps, LONG_DIGITS.sub("****", result) if result else None,
                    issue.satisfaction, merged_into)

