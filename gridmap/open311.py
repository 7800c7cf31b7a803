"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): our issues as service
requests, our categories as services, for the city's 12345 hotline platform and others.

What a request shows is what the public may see of an issue (gridmap.features'
`public_issue_joins`): its category, stage, unit, dates and a point of its grid; never its
title, description, reporter or address, and never a 举报. Our nine stages map to
Open311's `open`/`closed`, with the stage and level in `status_notes`. Core: no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap import clock, issues, lifecycle
from gridmap.errors import BadInput, NotFound, _
from gridmap.exports.tabular import CHINA_TIME
from gridmap.features import public_issue_joins, public_issue_point
from gridmap.issue_queries import stage_due_sql
from gridmap.models import Grid, Issue, IssueCategory, Region, Unit
from gridmap.policy import Scope

CLOSED = ("closed", "rejected")  # Open311 `closed`; every other public stage is `open`
DEFAULT_DAYS = 90  # no dates given: the most recent 90 days, as the specification says
MAX_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
MAX_IDS = 100
APPEAL_GROUPS = {"inquiry": _("咨询"), "help": _("求助"), "complaint": _("投诉"),
                 "suggestion": _("建议")}


@dataclass(frozen=True)
class Service:
    """One Open311 service: a category of ours that the public may know of."""

    service_code: str
    service_name: str
    description: str
    group: str
    metadata: bool = False
    type: str = "realtime"
    keywords: str = ""


def services(session: Session, county_code: str, translate=str) -> list[Service]:
    """The county's issue categories as services (never a tip-off category)."""
    rows = session.execute(
        select(IssueCategory.code, IssueCategory.name, IssueCategory.appeal_type,
               IssueCategory.handling_days)
        .where(IssueCategory.county_code == county_code, IssueCategory.appeal_type != "tip_off")
        .order_by(IssueCategory.code))
    return [Service(code, name,
                    translate(_("%(name)s：%(days)s 个工作日内处置", name=name, days=days)),
                    translate(APPEAL_GROUPS.get(kind, _("其他"))))
            for code, name, kind, days in rows]


def w3c(moment: datetime | None) -> str | None:
    """A time as the specification writes it (W3C, with the China offset)."""
    return None if moment is None else moment.astimezone(CHINA_TIME).isoformat(timespec="seconds")


def _instant(value: str, name: str) -> datetime:
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(_("%(name)s 应为 W3C 时间，如 2026-01-01T00:00:00+08:00，收到 %(value)s",
                         name=name, value=text[:40]), field=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET requests, read and checked."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()

    @classmethod
    def parse(cls, args: dict[str, str]) -> RequestQuery:
        """From the query string: comma lists, W3C dates (at most 90 days apart), open/closed."""
        def listed(name: str, pattern: str, limit: int) -> tuple[str, ...]:
            items = tuple(v.strip() for v in (args.get(name) or "").split(",") if v.strip())
            if len(items) > limit:
                raise BadInput(_("%(name)s 最多 %(n)s 个", name=name, n=limit), field=name)
            for item in items:
                if not re.fullmatch(pattern, item):
                    raise BadInput(_("%(name)s 中的 %(value)s 格式不对", name=name,
                                     value=item[:40]), field=name)
            return items

        ids = listed("service_request_id", r"[A-Za-z0-9_-]{1,32}", MAX_IDS)
        codes = listed("service_code", r"[A-Za-z0-9_.-]{1,32}", MAX_IDS)
        statuses = listed("status", r"open|closed", 2)
        start = _instant(args["start_date"], "start_date") if args.get("start_date") else None
        end = _instant(args["end_date"], "end_date") if args.get("end_date") else None
        if start and end and (end < start or end - start > MAX_SPAN):
            raise BadInput(_("start_date 与 end_date 须先后有序，且相隔不超过 90 天"),
                           field="end_date")
        return cls(ids, codes, start, end, statuses)


TITLE_LENGTH = 40


def _number(form: dict, name: str) -> float | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise BadInput(_("%(name)s 应是数字，如 25.55", name=name), field=name) from None


def place_of_point(session: Session, scope: Scope, lon: float, lat: float) -> dict:
    """{"grid_code": …} of the grid in `scope` covering the point, else {"village_code": …}."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    grid = session.execute(select(Grid.code).where(
        scope.grids(), Grid.current(), func.ST_Covers(Grid.geom, point)).limit(1)).scalar()
    if grid is not None:
        return {"grid_code": grid}
    village = session.execute(select(Region.code).where(
        scope.regions(), Region.level == "village", Region.current(),
        func.ST_Covers(Region.geom, point)).limit(1)).scalar()
    if village is None:
        raise BadInput(_("位置 %(lat)s, %(long)s 不在本县任何村（社区）内；请核对纬度 lat 与经度 long",
                         lat=lat, long=lon), field="lat")
    return {"village_code": village}


def _place_of_address(session: Session, scope: Scope, address: str) -> dict:
    """The village whose name the address names (the longest match: 东岳社区 before 东岳)."""
    names = session.execute(select(Region.code, Region.name).where(
        scope.regions(), Region.level == "village", Region.current())).all()
    found = [(len(name), code) for code, name in names if name and name in address]
    if not found:
        raise BadInput(_("地址“%(address)s”中找不到本县的村（社区）名；请写明村（社区），"
                         "或给出 lat / long", address=address[:60]), field="address_string")
    return {"village_code": max(found)[1]}


def create_request(session: Session, actor, form: dict) -> Issue:
    """POST Service Request: a new reported issue (source 热线转办) from the Open311 form.

    The place comes from lat/long (the grid, else the village, that covers it) or from the
    village named in address_string; the reporter is real-name when both a name and a phone
    are given. Everything else is checked by the one reporting service, gridmap.issues."""
    scope = Scope.of_user(actor)
    lat, lon = _number(form, "lat"), _number(form, "long")
    address = (form.get("address_string") or "").strip()
    if lat is not None and lon is not None:
        place = place_of_point(session, scope, lon, lat)
    elif address:
        place = _place_of_address(session, scope, address)
    else:
        raise BadInput(_("请给出位置：lat 和 long，或 address_string"), field="lat")
    description = (form.get("description") or "").strip()
    service_code = (form.get("service_code") or "").strip()
    name = "".join(part.strip() for part in (form.get("last_name") or "",
                                              form.get("first_name") or ""))
    phone = (form.get("phone") or "").strip()
    title = description[:TITLE_LENGTH] or service_code
    data = {"title": title, "description": description or None, "category": service_code,
            "source": "hotline", "reporter_name": name or None, "reporter_phone": phone or None,
            "real_name": bool(name and phone), "lon": lon, "lat": lat,
            "note": address or None, **place}
    if not service_code:
        raise BadInput(_("请给出 service_code（服务代码，见 services.json）"), field="service_code")
    return issues.report(session, actor, data)


def _columns():
    point = public_issue_point()
    return (Issue.code, Issue.status, Issue.level, Issue.category, IssueCategory.name,
            Unit.name, Issue.reported_at, Issue.status_changed_at, stage_due_sql(),
            func.ST_X(point), func.ST_Y(point))


def requests(session: Session, county_code: str, query: RequestQuery,
             translate=str) -> list[dict]:
    """Service requests matching `query`, newest first, at most MAX_REQUESTS.

    Asked for by id, the ids decide alone (as the specification says); otherwise the dates
    default to the most recent 90 days."""
    statement = public_issue_joins(select(*_columns()), county_code).outerjoin(
        Unit, Unit.id == Issue.responsible_unit_id)
    if query.ids:
        statement = statement.where(Issue.code.in_(query.ids))
    else:
        end = query.end or clock.now()
        start = query.start or (end - timedelta(days=DEFAULT_DAYS))
        statement = statement.where(Issue.reported_at >= start, Issue.reported_at <= end)
        if query.service_codes:
            statement = statement.where(Issue.category.in_(query.service_codes))
        if query.statuses == ("open",):
            statement = statement.where(Issue.status.not_in(CLOSED))
        elif query.statuses == ("closed",):
            statement = statement.where(Issue.status.in_(CLOSED))
    rows = session.execute(statement.order_by(Issue.reported_at.desc(), Issue.code)
                           .limit(MAX_REQUESTS))
    return [_request(row, translate) for row in rows]


def request(session: Session, county_code: str, code: str, translate=str) -> dict:
    """One service request by its id (our issue code), or NotFound."""
    found = requests(session, county_code, RequestQuery(ids=(code,)), translate)
    if not found:
        raise NotFound(_("没有编号为 %(id)s 的公开诉求", id=code[:40]))
    return found[0]


def _request(row, translate) -> dict:
    (code, status, level, category, category_name, unit, reported, changed, due, lon,
     lat) = row
    notes = translate(_("%(stage)s（%(level)s）", stage=lifecycle.STATUS_LABELS[status],
                        level=lifecycle.LEVEL_LABELS[level]))
    return {
        "service_request_id": code,
        "status": "closed" if status in CLOSED else "open",
        "status_notes": notes,
        "service_name": category_name,
        "service_code": category,
        "agency_responsible": unit,
        "requested_datetime": w3c(reported),
        "updated_datetime": w3c(changed),
        "expected_datetime": w3c(due),
        "lat": round(lat, 6) if lat is not None else None,
        "long": round(lon, 6) if lon is not None else None,
    }
