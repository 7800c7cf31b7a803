"""The follow-through ledgers (台账) kept from facts entered once: 民情恳谈会 meetings (and the
issues raised at them, which go into the lifecycle), deeds done for residents (办实事), the
民情日记 (visit notes plus entries not tied to a visit) and 结对帮扶 (paired households and the
help they got). Core: no Flask.

Nothing here asks again for what a visit or an issue holds: the diary *is* the visits' notes,
a deed links the issue or visit that prompted it, pairing is read from the 五包 assignments.
Who may read: the region's office and oversight roles (`Scope.in_region` on the row's
`region_code`), and whoever recorded a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, literal, or_, select, union_all

from gridmap import audit, clock, codes, inputs, issues
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Forbidden, NotFound, _
from gridmap.models import (
    MEETING_KINDS,
    AppUser,
    Assignment,
    Cadre,
    Deed,
    DiaryEntry,
    Grid,
    Household,
    Issue,
    Meeting,
    MeetingIssue,
    Region,
    Unit,
    Visit,
)
from gridmap.policy import Scope, allowed

MEETING_KIND_LABELS = {"consultation": _("民情恳谈会"), "courtyard": _("院坝会"),
                       "council": _("村民议事会"), "other": _("其他会议")}
LIMITS = {"topics": 2000, "place": 200, "title": 200, "detail": 2000, "body": 4000, "q": 50}
MAX_ATTENDANCE = 100000
PAGE = 200


def _may(actor, action: str) -> None:
    if actor is None or not allowed(actor.role, action):
        raise Forbidden(_("您的角色无权进行此操作。"))


def _today() -> date:
    return clock.now().astimezone(CHINA_TIME).date()


def home_region(session, actor) -> str | None:
    """The village (or region) an actor's entries belong to when they name none: a grid
    worker's grid's village, a cadre's first paired household's village, else their scope."""
    scope = Scope.of_user(actor)
    if scope.grid_code is not None:
        return session.execute(select(Grid.village_code).where(
            Grid.county_code == actor.county_code, Grid.code == scope.grid_code,
            Grid.current())).scalar()
    if scope.cadre_id is not None:
        return session.execute(select(Household.village_code).where(
            scope.households(), Household.village_code.is_not(None)).order_by(
            Household.village_code).limit(1)).scalar()
    return scope.region_code


def _region(session, actor, data: dict, name: str = "region") -> str:
    """The region code an entry is placed in: given (and inside the actor's reach) or home."""
    code = inputs.text(data, name, 12)
    home = home_region(session, actor)
    if code is None:
        if home is None or len(home) < 9:
            raise BadInput(_("请选择所在的村（社区）或乡镇"), field=name)
        return home
    exists = session.execute(select(Region.code).where(
        Region.county_code == actor.county_code, Region.code == code, Region.current())).scalar()
    scope = Scope.of_user(actor)
    reach = session.execute(select(scope.in_region(literal(code)))).scalar() or code == home
    if exists is None or not reach:
        raise NotFound(_("没有代码为 %(code)s 的地区，或不在您的范围内", code=code), field=name)
    return code


def _seen(model, actor):
    """Rows of `model` the actor may read: in their region, or recorded by them."""
    scope = Scope.of_user(actor)
    recorder = model.recorded_by if hasattr(model, "recorded_by") else model.user_id
    return (model.county_code == actor.county_code) & (
        scope.in_region(model.region_code) | (recorder == actor.id))


def _cadre_of(session, actor, data: dict, name: str) -> int | None:
    code = inputs.text(data, name, 32)
    if code is None:
        return actor.cadre_id
    cadre_id = session.execute(select(Cadre.id).where(
        Cadre.county_code == actor.county_code, Cadre.code == code)).scalar()
    if cadre_id is None:
        raise BadInput(_("没有代码为 %(code)s 的干部", code=code), field=name)
    return cadre_id


def next_id(session, table: str) -> int:
    """The next id of `table`'s serial (the code carries it, as issues' codes do)."""
    return session.execute(select(func.nextval(func.pg_get_serial_sequence(table, "id")))).scalar()


# --- meetings ------------------------------------------------------------------------------


def record_meeting(session, actor, data: dict) -> Meeting:
    """A meeting held (民情恳谈会 …): kind, when, where, organiser, attendance, topics."""
    _may(actor, "record_ledger")
    now = clock.now()
    held_at = inputs.moment(data, "held_at", default=now)
    if held_at > now:
        raise BadInput(_("会议时间不能晚于现在：登记已经开过的会"), field="held_at")
    meeting_id = next_id(session, "meeting")
    meeting = Meeting(
        id=meeting_id, code=codes.ledger_code("meeting", now, meeting_id),
        county_code=actor.county_code, kind=inputs.choice(data, "kind", MEETING_KINDS, "consultation"),
        region_code=_region(session, actor, data), held_at=held_at,
        place=inputs.text(data, "place", LIMITS["place"]), geom=inputs.point(data),
        organiser_cadre_id=_cadre_of(session, actor, data, "organiser"), recorded_by=actor.id,
        attendance=inputs.count(data, "attendance", high=MAX_ATTENDANCE),
        topics=inputs.text(data, "topics", LIMITS["topics"], required=True))
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "ledger_record", f"meeting:{meeting.id}")
    return meeting


def get_meeting(session, actor, meeting_id) -> Meeting:
    """The meeting, if the actor may read it; NotFound otherwise."""
    meeting = session.execute(select(Meeting).where(
        Meeting.id == inputs.ident(meeting_id, "meeting"), _seen(Meeting, actor))).scalar()
    if meeting is None:
        raise NotFound(_("没有编号为 %(id)s 的会议记录，或不在您的范围内", id=meeting_id),
                       field="meeting")
    return meeting


def raise_issue(session, actor, meeting_id, data: dict) -> Issue:
    """An issue raised at the meeting: reported through the lifecycle, linked to the meeting."""
    meeting = get_meeting(session, actor, meeting_id)
    fields = {"source": "resident", **{k: v for k, v in data.items() if v not in (None, "")}}
    grid = Scope.of_user(actor).grid_code
    if not fields.get("village_code") and not fields.get("grid_code"):
        if grid is not None:  # a grid worker's issues are placed in their grid
            fields["grid_code"] = grid
        elif len(meeting.region_code) == 12:
            fields["village_code"] = meeting.region_code
    issue = issues.report(session, actor, fields)
    session.add(MeetingIssue(meeting_id=meeting.id, issue_id=issue.id,
                             county_code=meeting.county_code))
    session.flush()
    return issue


def meetings(session, actor, *, start: date | None = None, end: date | None = None,
             limit: int = PAGE) -> list[dict]:
    """Meetings the actor may read, newest first, with the issues raised at each counted."""
    raised = select(func.count()).where(MeetingIssue.meeting_id == Meeting.id).scalar_subquery()
    query = (select(Meeting.id, Meeting.kind, Meeting.held_at, Meeting.region_code,
                    Region.name.label("region_name"), Meeting.place, Cadre.name.label("organiser"),
                    Meeting.attendance, Meeting.topics, raised.label("issues"))
             .outerjoin(Region, (Region.code == Meeting.region_code) & Region.current())
             .outerjoin(Cadre, Cadre.id == Meeting.organiser_cadre_id)
             .where(_seen(Meeting, actor), *_between(Meeting.held_at, start, end))
             .order_by(Meeting.held_at.desc(), Meeting.id.desc()).limit(limit))
    return [dict(row._mapping) for row in session.execute(query)]


def meeting_issues(session, actor, meeting: Meeting) -> list[dict]:
    """The issues raised at a meeting that the actor may see, with their stage."""
    scope = Scope.of_user(actor)
    query = (select(Issue.id, Issue.code, Issue.title, Issue.status)
             .join(MeetingIssue, MeetingIssue.issue_id == Issue.id)
             .where(MeetingIssue.meeting_id == meeting.id, scope.issues()).order_by(Issue.id))
    return [dict(row._mapping) for row in session.execute(query)]


def _between(column, start: date | None, end: date | None) -> list:
    parts = []
    if start:
        parts.append(column >= inputs.day_start(start))
    if end:
        parts.append(column < inputs.day_start(end) + _one_day())
    return parts


def _one_day():
    from datetime import timedelta
    return timedelta(days=1)


# --- deeds (办实事) ---------------------------------------------------------------------------


def record_deed(session, actor, data: dict) -> Deed:
    """A deed done: what, for which household or village, by whom, cost, date, and the issue
    or visit that prompted it (each must be in the actor's scope)."""
    _may(actor, "record_ledger")
    scope, county = Scope.of_user(actor), actor.county_code
    household_id = inputs.optional_ident(data, "household_id")
    region_code = None
    if household_id is not None:
        household = session.execute(select(Household).where(
            Household.id == household_id, scope.households())).scalar()
        if household is None or household.village_code is None:
            raise NotFound(_("没有编号为 %(id)s 的户，或不在您的范围内", id=household_id),
                           field="household_id")
        region_code = household.village_code
    issue_id = inputs.optional_ident(data, "issue_id")
    if issue_id is not None:
        issue = issues.get(session, actor, issue_id)
        region_code = region_code or issue.village_code
    visit_id = inputs.optional_ident(data, "visit_id")
    if visit_id is not None:
        visit_household = session.execute(select(Household.village_code).join(
            Visit, Visit.household_id == Household.id).where(
            Visit.id == visit_id, Visit.county_code == county, scope.households())).scalar()
        if visit_household is None:
            raise NotFound(_("没有编号为 %(id)s 的走访记录，或不在您的范围内", id=visit_id),
                           field="visit_id")
        region_code = region_code or visit_household
    done_on = inputs.day(data, "done_on", default=_today())
    if done_on > _today():
        raise BadInput(_("办结日期不能晚于今天：登记已经办成的实事"), field="done_on")
    unit_code = inputs.text(data, "unit", 32)
    unit_id = actor.unit_id
    if unit_code is not None:
        unit_id = session.execute(select(Unit.id).where(Unit.county_code == county,
                                                        Unit.code == unit_code)).scalar()
        if unit_id is None:
            raise BadInput(_("没有代码为 %(code)s 的单位", code=unit_code), field="unit")
    deed_id = next_id(session, "deed")
    deed = Deed(
        id=deed_id, code=codes.ledger_code("deed", clock.now(), deed_id), county_code=county,
        title=inputs.text(data, "title", LIMITS["title"], required=True),
        detail=inputs.text(data, "detail", LIMITS["detail"]),
        region_code=region_code or _region(session, actor, data), household_id=household_id,
        cadre_id=_cadre_of(session, actor, data, "cadre"), unit_id=unit_id, recorded_by=actor.id,
        cost_yuan=inputs.money(data, "cost_yuan"), done_on=done_on, issue_id=issue_id,
        visit_id=visit_id)
    session.add(deed)
    session.flush()
    audit.record(session, actor, "ledger_record", f"deed:{deed.id}")
    return deed


def deeds(session, actor, *, start: date | None = None, end: date | None = None,
          limit: int = PAGE) -> list[dict]:
    """Deeds the actor may read, newest first (household named by its code only)."""
    query = (select(Deed.id, Deed.title, Deed.done_on, Deed.region_code,
                    Region.name.label("region_name"), Household.code.label("household"),
                    Cadre.name.label("cadre"), Unit.name.label("unit"), Deed.cost_yuan,
                    Issue.code.label("issue"))
             .outerjoin(Region, (Region.code == Deed.region_code) & Region.current())
             .outerjoin(Household, Household.id == Deed.household_id)
             .outerjoin(Cadre, Cadre.id == Deed.cadre_id)
             .outerjoin(Unit, Unit.id == Deed.unit_id)
             .outerjoin(Issue, Issue.id == Deed.issue_id)
             .where(_seen(Deed, actor), *_dates(Deed.done_on, start, end))
             .order_by(Deed.done_on.desc(), Deed.id.desc()).limit(limit))
    return [dict(row._mapping) for row in session.execute(query)]


def _dates(column, start: date | None, end: date | None) -> list:
    return [*([column >= start] if start else []), *([column <= end] if end else [])]


# --- 民情日记 ---------------------------------------------------------------------------------


def write_entry(session, actor, data: dict) -> DiaryEntry:
    """A diary entry not tied to a visit (a visit's notes are already its entry)."""
    _may(actor, "record_ledger")
    entry = DiaryEntry(county_code=actor.county_code, region_code=_region(session, actor, data),
                       user_id=actor.id, cadre_id=actor.cadre_id, written_at=clock.now(),
                       body=inputs.text(data, "body", LIMITS["body"], required=True))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class DiaryLine:
    """One diary line: from a visit's notes or a free entry."""

    source: str  # "visit" | "entry"
    id: int
    at: datetime
    author: str | None
    place: str | None  # household code or region name
    text: str


def diary(session, actor, *, q: str | None = None, mine: bool = False,
          limit: int = PAGE) -> list[DiaryLine]:
    """The 民情日记 the actor may read: visit notes of households in scope, plus entries in
    their region or their own, newest first; `q` finds a substring (Chinese words need no
    segmentation); `mine` keeps only what the actor wrote."""
    scope = Scope.of_user(actor)
    needle = inputs.text({"q": q}, "q", LIMITS["q"])
    author = func.coalesce(Cadre.name, AppUser.display_name, AppUser.login)
    visits = (select(literal("visit").label("source"), Visit.id.label("id"),
                     Visit.visited_at.label("at"), author.label("author"),
                     Household.code.label("place"), Visit.notes.label("text"))
              .join(Household, Household.id == Visit.household_id)
              .outerjoin(Cadre, Cadre.id == Visit.cadre_id)
              .outerjoin(AppUser, AppUser.id == Visit.user_id)
              .where(Visit.county_code == actor.county_code, Visit.kind == "visit",
                     Visit.notes.is_not(None), scope.households()))
    entries = (select(literal("entry").label("source"), DiaryEntry.id.label("id"),
                      DiaryEntry.written_at.label("at"), author.label("author"),
                      Region.name.label("place"), DiaryEntry.body.label("text"))
               .outerjoin(Cadre, Cadre.id == DiaryEntry.cadre_id)
               .outerjoin(AppUser, AppUser.id == DiaryEntry.user_id)
               .outerjoin(Region, (Region.code == DiaryEntry.region_code) & Region.current())
               .where(_seen(DiaryEntry, actor)))
    if needle:
        visits = visits.where(Visit.notes.contains(needle, autoescape=True))
        entries = entries.where(DiaryEntry.body.contains(needle, autoescape=True))
    if mine:
        visits = visits.where(or_(Visit.user_id == actor.id,
                                  (Visit.cadre_id == actor.cadre_id) if actor.cadre_id else False))
        entries = entries.where(DiaryEntry.user_id == actor.id)
    both = union_all(visits, entries).subquery()
    rows = session.execute(select(both).order_by(both.c.at.desc(), both.c.id.desc()).limit(limit))
    return [DiaryLine(*row) for row in rows]


# --- 结对帮扶 ---------------------------------------------------------------------------------


def pairings(session, actor, *, start: date | None = None, end: date | None = None,
             limit: int = 500) -> list[dict]:
    """Paired households (current 包户 assignments) in scope with the help they got in the
    period: visits, deeds and their cost, and the last visit. Household by code only."""
    scope = Scope.of_user(actor)
    visits = select(func.count()).where(
        Visit.household_id == Household.id, Visit.county_code == Household.county_code,
        Visit.kind == "visit", *_between(Visit.visited_at, start, end)).scalar_subquery()
    last = select(func.max(Visit.visited_at)).where(
        Visit.household_id == Household.id, Visit.county_code == Household.county_code,
        Visit.kind == "visit").scalar_subquery()
    deed_count = select(func.count()).where(
        Deed.household_id == Household.id, *_dates(Deed.done_on, start, end)).scalar_subquery()
    cost = select(func.sum(Deed.cost_yuan)).where(
        Deed.household_id == Household.id, *_dates(Deed.done_on, start, end)).scalar_subquery()
    query = (select(Cadre.name.label("cadre"), Household.id.label("household_id"),
                    Household.code.label("household"), Household.village_code,
                    visits.label("visits"), last.label("last_visit"), deed_count.label("deeds"),
                    cost.label("cost_yuan"))
             .join(Assignment, (Assignment.household_id == Household.id)
                   & (Assignment.kind == "household") & Assignment.current())
             .join(Cadre, Cadre.id == Assignment.cadre_id)
             .where(scope.households(), Assignment.county_code == actor.county_code)
             .order_by(Cadre.name, Household.code).limit(limit))
    return [dict(row._mapping) for row in session.execute(query)]
