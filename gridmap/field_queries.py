"""Reading for the field pages: my households by visit due, a household's visits and open
issues, the issues I reported. Scoped by gridmap.policy.Scope, bounded, names and phones
through gridmap.privacy. Due dates are gridmap.coverage's `due_at`, so the list and the
`visit` gap rule count the same households. Core: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from gridmap import coverage, files, lifecycle, privacy
from gridmap.errors import Message, NotFound, _
from gridmap.models import Household, Issue, IssueCategory, Visit
from gridmap.policy import Scope

HOUSEHOLD_LIMIT = 500  # a village's staff see their village: a few hundred households
VISIT_LIMIT = 20
ISSUE_LIMIT = 100

# Care categories as the pages show them: (label, Font Awesome icon), in this order.
CARE_LABELS = {
    "extreme_poverty": (_("特困"), "fa-hand-holding-heart"),
    "minimum_living": (_("低保"), "fa-hand-holding-dollar"),
    "relapse_monitoring": (_("监测户"), "fa-eye"),
    "lifted_from_poverty": (_("脱贫户"), "fa-arrow-trend-up"),
    "elderly_alone": (_("空巢/独居"), "fa-person-cane"),
    "left_behind_children": (_("留守儿童"), "fa-child"),
    "left_behind_women": (_("留守妇女"), "fa-person-dress"),
    "left_behind_elderly": (_("留守老人"), "fa-person-cane"),
    "disability": (_("残疾"), "fa-wheelchair"),
}
_FLAG_COLUMNS = ("extreme_poverty", "minimum_living", "relapse_monitoring", "lifted_from_poverty",
                 "elderly_alone", "left_behind_children", "left_behind_women",
                 "left_behind_elderly")


@dataclass(frozen=True)
class HouseholdRow:
    """A household in a field list: masked head, care flags, last visit and when one is due."""

    id: int
    code: str
    head: str | None
    address: str | None
    care: tuple[str, ...]
    last_visited_at: datetime | None
    due_at: datetime | None
    due: bool
    lonlat: tuple[float, float] | None
    reason: Message | None = None  # why a visit is due (the branch of coverage.VisitState.due_at taken)


def _columns(state: coverage.VisitState, intervals: coverage.VisitIntervals, now: datetime):
    due_at = state.due_at(intervals)
    campaign, campaign_due = state.pending_campaign()
    return (Household.id, Household.code, Household.head_name, Household.address,
            *(getattr(Household, flag) for flag in _FLAG_COLUMNS),
            Household.disability_category, state.last_visited_at.label("last"),
            due_at.label("due_at"), coverage.is_due(due_at, now).label("due"),
            func.ST_X(Household.geom), func.ST_Y(Household.geom),
            state.due_reason(intervals), intervals.days(),
            Household.care_flags_added, campaign, campaign_due)


def due_reason(reason: str, days: int, added, campaign: str | None, campaign_due,
               care: tuple[str, ...]) -> Message:
    """Why a household is due, in words, from the branch of the visit rule it took."""
    if reason == "new":
        return _("新户")
    if reason == "care":
        named = tuple(flag for flag in CARE_LABELS if flag in care and flag in (added or care))
        return _("新增关怀标记：%(flags)s", flags=tuple(CARE_LABELS[f][0] for f in named))
    if reason == "campaign":
        return _("走访活动：%(name)s，截止 %(date)s", name=campaign, date=campaign_due.isoformat())
    return _("超过 %(days)s 天未走访", days=days)


def _row(row, role: str) -> HouseholdRow:
    values = list(row)
    hid, code, head, address = values[:4]
    flags = values[4:4 + len(_FLAG_COLUMNS)]
    (disability, last, due_at, due, lon, lat, reason, days, added, campaign,
     campaign_due) = values[4 + len(_FLAG_COLUMNS):]
    care = tuple(flag for flag, on in zip(_FLAG_COLUMNS, flags, strict=True) if on)
    care += ("disability",) if disability else ()
    why = due_reason(reason, days, added, campaign, campaign_due, care) if due else None
    return HouseholdRow(hid, code, privacy.reveal("name", head, role), address, care, last,
                        due_at, bool(due), None if lon is None else (lon, lat), why)


def households(session, scope: Scope, role: str, now: datetime,
               intervals: coverage.VisitIntervals | None = None,
               limit: int = HOUSEHOLD_LIMIT) -> list[HouseholdRow]:
    """The scope's households, the most overdue first (never visited before all), bounded."""
    intervals = intervals or coverage.VisitIntervals.of_county(session, scope.county_code)
    state = coverage.VisitState(scope.county_code, now)
    columns = _columns(state, intervals, now)
    due_at = columns[len(_FLAG_COLUMNS) + 6]
    rows = session.execute(state.join(select(*columns)).where(scope.households())
                           .order_by(due_at.asc().nulls_first(), Household.code).limit(limit))
    return [_row(row, role) for row in rows]


def counts(session, scope: Scope, now: datetime,
           intervals: coverage.VisitIntervals | None = None) -> tuple[int, int]:
    """(households in scope, of which due a visit now): the second is the `visit` gap count."""
    intervals = intervals or coverage.VisitIntervals.of_county(session, scope.county_code)
    state = coverage.VisitState(scope.county_code, now)
    due = coverage.is_due(state.due_at(intervals), now)
    total, due_count = session.execute(state.join(select(
        func.count(), func.count().filter(due)).select_from(Household)).where(
        scope.households())).one()
    return total, due_count


@dataclass(frozen=True)
class VisitRow:
    """One visit of a household, as its page lists it."""

    id: int
    kind: str
    visited_at: datetime
    checklist: dict
    notes: str | None
    accuracy_m: float | None
    issue_id: int | None
    client_uuid: object  # uuid.UUID: how the tablet names the visit
    photos: tuple = ()  # its stored photos (gridmap.files), shown as thumbnails


@dataclass(frozen=True)
class IssueRow:
    """An issue as a field list shows it: code, title, category name, stage, when reported."""

    id: int
    code: str
    title: str
    category: str
    status: str
    reported_at: datetime


def household(session, scope: Scope, role: str, household_id: int, now: datetime):
    """(household row, its latest visits, its open issues); NotFound outside the scope."""
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    state = coverage.VisitState(scope.county_code, now)
    row = session.execute(state.join(select(*_columns(state, intervals, now))).where(
        Household.id == household_id, scope.households())).first()
    if row is None:
        raise NotFound(_("没有编号为 %(id)s 的户，或不在您的范围内", id=household_id),
                       field="household_id")
    rows = session.execute(
        select(Visit.id, Visit.kind, Visit.visited_at, Visit.checklist, Visit.notes,
               Visit.accuracy_m, Visit.issue_id, Visit.client_uuid)
        .where(Visit.county_code == scope.county_code, Visit.household_id == household_id)
        .order_by(Visit.visited_at.desc()).limit(VISIT_LIMIT)).all()
    photos = files.visit_photos(session, scope.county_code, [r.id for r in rows])
    visits = [VisitRow(*r, photos=tuple(photos.get(r.id, ()))) for r in rows]
    linked = select(Visit.issue_id).where(Visit.county_code == scope.county_code,
                                         Visit.household_id == household_id,
                                         Visit.issue_id.is_not(None))
    open_issues = _issues(session, Issue.county_code == scope.county_code,
                          or_(Issue.household_id == household_id, Issue.id.in_(linked)),
                          Issue.status.in_(lifecycle.OPEN))
    return _row(row, role), visits, open_issues


def _issues(session, *conditions) -> list[IssueRow]:
    return [IssueRow(*r) for r in session.execute(
        select(Issue.id, Issue.code, Issue.title, func.coalesce(IssueCategory.name, Issue.category),
               Issue.status, Issue.reported_at)
        .outerjoin(IssueCategory, (IssueCategory.county_code == Issue.county_code)
                   & (IssueCategory.code == Issue.category))
        .where(*conditions).order_by(Issue.reported_at.desc(), Issue.id.desc())
        .limit(ISSUE_LIMIT))]


def my_issues(session, actor) -> list[IssueRow]:
    """The issues `actor` reported, newest first, with their stage (bounded)."""
    return _issues(session, Issue.county_code == actor.county_code, Issue.created_by == actor.id)
