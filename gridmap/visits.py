"""Recording a visit (走访): who, which household, where, the 三必看/三必问/三必留 checklist, notes.

    recorded = visits.record(session, user, {"household_id": 12, "client_uuid": "…",
                                              "checklist": {"look": ["住房安全"]}, "notes": "…",
                                              "lon": 102.4, "lat": 25.5, "accuracy_m": 12})

The household must lie in the recorder's scope (a grid worker's grid, a 包户 cadre's paired
households, a village's staff their village: policy.Scope.households); otherwise NotFound.
The same `client_uuid` twice gives back the visit the first call made (a tablet resends
what it queued), never a second row. The distance to the household is measured in PostGIS;
a visit farther than `visit.far_from_household_m` is recorded and flagged, not refused (a
household's point may be wrong). Core: no Flask.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2 import Geography
from sqlalchemy import cast, func, select, text
from sqlalchemy.dialects.postgresql import insert

from gridmap import clock, settings
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.models import Household, Visit
from gridmap.policy import Scope, allowed

CHECKLIST_GROUPS = ("look", "ask", "leave")  # 三必看、三必问、三必留
NOTES_LIMIT = 2000  # 民情日记: the visit's notes
ACCURACY_LIMIT_M = 100_000
EARLIEST_DAYS = 30  # a queued visit may arrive this late; older ones are refused
CLOCK_SKEW = timedelta(minutes=10)  # a tablet's clock may run this far ahead


@dataclass(frozen=True)
class Recorded:
    """A recorded visit, its distance from the household (metres, None when unknown) and
    whether this call created it (False: the client_uuid was already recorded)."""

    visit: Visit
    distance_m: float | None
    far: bool
    created: bool


def checklist_items(session, county_code: str) -> dict[str, list[str]]:
    """The county's 三必看/三必问/三必留 items (settings `visit.checklist`), by group."""
    configured = settings.get(session, county_code, "visit.checklist")
    return {group: list(configured.get(group, [])) for group in CHECKLIST_GROUPS}


def validate_checklist(value, items: dict[str, list[str]]) -> dict[str, list[str]]:
    """`value` as stored: each group's ticked items, in the configured order; unknown
    groups or items are refused (the checklist records what the county asks, nothing else)."""
    if value in (None, ""):
        value = {}
    if not isinstance(value, dict):
        raise BadInput(_("checklist 应是对象，如 {\"look\": [\"住房安全\"]}"), field="checklist")
    unknown = sorted(set(value) - set(CHECKLIST_GROUPS))
    if unknown:
        raise BadInput(_("checklist 没有 %(group)r 这一组（应是 look、ask、leave）",
                         group=unknown[0]), field="checklist")
    checked = {}
    for group in CHECKLIST_GROUPS:
        ticked = value.get(group) or []
        if not isinstance(ticked, list) or not all(isinstance(item, str) for item in ticked):
            raise BadInput(_("checklist 的 %(group)s 应是文本列表", group=group), field="checklist")
        strange = [item for item in ticked if item not in items[group]]
        if strange:
            raise BadInput(_("%(item)r 不是本县走访清单的一项", item=strange[0][:40]),
                           field="checklist")
        checked[group] = [item for item in items[group] if item in ticked]
    return checked


def _household(session, scope: Scope, household_id) -> Household:
    try:
        number = int(household_id)
    except (TypeError, ValueError):
        raise BadInput(_("household_id 应是整数"), field="household_id") from None
    household = session.execute(select(Household).where(
        Household.id == number, scope.households())).scalar()
    if household is None:
        raise NotFound(_("没有编号为 %(id)s 的户，或不在您的范围内", id=household_id),
                       field="household_id")
    return household


def _number(data: dict, name: str, low: float, high: float) -> float | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(_("%(field)s 应是数字", field=name), field=name) from None
    if not low <= number <= high:
        raise BadInput(_("%(field)s 超出范围：%(value)s", field=name, value=value), field=name)
    return number


def _point(data: dict) -> tuple[float, float] | None:
    lon, lat = _number(data, "lon", 73, 136), _number(data, "lat", 3, 54)
    if (lon is None) != (lat is None):
        raise BadInput(_("经度和纬度要同时提供"), field="lon")
    return None if lon is None else (lon, lat)


def _visited_at(data: dict, now: datetime) -> datetime:
    value = data.get("visited_at")
    if value in (None, ""):
        return now
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise BadInput(_("visited_at 不是 ISO 8601 时间"), field="visited_at") from None
    if moment.tzinfo is None:
        raise BadInput(_("visited_at 要带时区（如 +08:00）"), field="visited_at")
    if moment > now + CLOCK_SKEW or moment < now - timedelta(days=EARLIEST_DAYS):
        raise BadInput(_("走访时间 %(at)s 不在近 %(days)s 天内", at=value, days=EARLIEST_DAYS),
                       field="visited_at")
    return moment


def _notes(data: dict) -> str | None:
    notes = data.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise BadInput(_("notes 应是文本"), field="notes")
    notes = (notes or "").strip()
    if len(notes) > NOTES_LIMIT:
        raise BadInput(_("民情日记太长（%(n)s 字），至多 %(limit)s 字", n=len(notes), limit=NOTES_LIMIT),
                       field="notes")
    return notes or None


def _client_uuid(value) -> uuid.UUID:
    if value in (None, ""):
        return uuid.uuid4()
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadInput(_("client_uuid 不是 UUID"), field="client_uuid") from None


def distance_m(session, visit_id: int) -> float | None:
    """Metres between where a visit was recorded and its household (None when either is unknown)."""
    return session.execute(text(
        "SELECT ST_Distance(v.geom::geography, h.geom::geography) FROM visit v"
        " JOIN household h ON h.id = v.household_id AND h.county_code = v.county_code"
        " WHERE v.id = :id"), {"id": visit_id}).scalar()


def record(session, actor, data: dict) -> Recorded:
    """Record a 走访 by `actor` (in the caller's transaction); idempotent per client_uuid.

    The usual visit is three statements: the household (in scope), the county's settings (read
    once per transaction), and the INSERT that returns the row and its distance; a resend is
    found by its client_uuid when the INSERT meets it (a tablet on a slow network waits for
    each round trip)."""
    if not allowed(actor.role, "log_visit"):
        raise Forbidden(_("您的角色无权记录走访。"))
    scope = Scope.of_user(actor)
    client_uuid = _client_uuid(data.get("client_uuid"))
    try:
        household = _household(session, scope, data.get("household_id"))
    except NotFound:  # a resend whose household has since left the scope is still the visit
        known = _known(session, actor, client_uuid)
        if known is None:
            raise
        return known
    now = clock.now()
    point = _point(data)
    accuracy = _number(data, "accuracy_m", 0, ACCURACY_LIMIT_M)
    where = None if point is None else func.ST_SetSRID(func.ST_MakePoint(*point), 4326)
    values = dict(
        county_code=household.county_code, household_id=household.id, user_id=actor.id,
        cadre_id=actor.cadre_id, kind="visit", visited_at=_visited_at(data, now),
        geom=where, accuracy_m=None if point is None else accuracy,
        checklist=validate_checklist(data.get("checklist"),
                                     checklist_items(session, household.county_code)),
        notes=_notes(data), client_uuid=client_uuid)
    # the distance to the household, measured by the INSERT itself (null without both points)
    home = select(Household.geom).where(Household.id == household.id).scalar_subquery()
    distance = func.ST_Distance(cast(Visit.geom, Geography), cast(home, Geography))
    row = session.execute(insert(Visit).values(**values).on_conflict_do_nothing(
        index_elements=[Visit.client_uuid]).returning(Visit, distance)).first()
    if row is None:  # this client_uuid is recorded already (a resend), maybe this moment
        known = _known(session, actor, client_uuid)
        if known is None:
            raise Conflict(_("这条走访已由其他账号记录"), field="client_uuid")
        return known
    visit, metres = row
    return _recorded(session, visit, metres, created=True)


def _known(session, actor, client_uuid: uuid.UUID) -> Recorded | None:
    visit = session.execute(select(Visit).where(
        Visit.county_code == actor.county_code, Visit.client_uuid == client_uuid)).scalar()
    if visit is None:
        return None
    if visit.user_id != actor.id:
        raise Conflict(_("这条走访已由其他账号记录"), field="client_uuid")
    return _recorded(session, visit, distance_m(session, visit.id), created=False)


def _recorded(session, visit: Visit, distance: float | None, created: bool) -> Recorded:
    limit = settings.get(session, visit.county_code, "visit.far_from_household_m")
    return Recorded(visit, distance, distance is not None and distance > limit, created)


def get(session, actor, visit_ref) -> Visit:
    """A visit, by id or by its client_uuid (what a tablet knows before the server answered),
    whose household is in the actor's scope; NotFound otherwise."""
    return _visit_at(session, actor, visit_ref)[0]


def _visit_at(session, actor, visit_ref) -> tuple[Visit, Household]:
    """`get`'s visit and its household, read together."""
    try:
        match = (Visit.id == int(visit_ref)) if str(visit_ref).isdigit() else (
            Visit.client_uuid == uuid.UUID(str(visit_ref)))
    except (TypeError, ValueError, OverflowError):
        raise BadInput(_("visit 应是走访编号或其 client_uuid"), field="visit") from None
    found = session.execute(select(Visit, Household).join(
        Household, (Household.id == Visit.household_id) & (Household.county_code == Visit.county_code))
        .where(match, Visit.county_code == actor.county_code,
               Scope.of_user(actor).households())).first()
    if found is None:
        raise NotFound(_("没有这条走访（%(ref)s），或不在您的范围内", ref=str(visit_ref)[:40]),
                       field="visit")
    visit, household = found
    return visit, household


def report_issue(session, actor, visit_ref, data: dict):
    """Report an issue found on a visit (gridmap.issues.report, placed at the household's grid
    or village) and link it to the visit; a resend with the same client_uuid changes nothing.

    `resolved_on_spot` with a `resolution` note: fixed there and then (就地解决), the issue
    goes straight to handled, as the lifecycle allows from a new report."""
    from gridmap import issues

    data = dict(data)
    on_spot = data.pop("resolved_on_spot", None) in (True, "true", "1", "on", "yes")
    resolution = data.pop("resolution", None)
    if on_spot and not (isinstance(resolution, str) and resolution.strip()):
        raise BadInput(_("就地解决的事项请写明怎样解决的"), field="resolution")
    visit, household = _visit_at(session, actor, visit_ref)
    place = ({"grid_code": household.grid_code} if household.grid_code
             else {"village_code": household.village_code})
    # found at this household: its 回访 is a visit there too
    issue = issues.report(session, actor, {**data, **place, "source": "visit"},
                          household_id=household.id)
    if visit.issue_id is None:
        visit.issue_id = issue.id
    session.flush()
    if on_spot and issue.status == "reported":  # a resend finds it handled already
        issue = issues.apply(session, issue.id, "resolve_on_spot", actor,
                             expected_version=issue.version, note=resolution.strip())
    return issue
