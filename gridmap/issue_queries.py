"""Reading issues: the queue with traffic lights, an issue's timeline, its JSON form.

The SQL of what the issue pages and API show, bounded and scoped (gridmap.policy.Scope);
changes go through gridmap.issues. Core: no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, literal, select, true
from sqlalchemy.dialects.postgresql import insert

from gridmap import clock, files, lifecycle, privacy, settings
from gridmap.errors import BadInput, _
from gridmap.metrics import Period
from gridmap.models import (
    APPEAL_TYPES,
    HANDLING_LEVELS,
    URGENCIES,
    AppUser,
    Cadre,
    Callback,
    Grid,
    Issue,
    IssueCategory,
    IssueEvent,
    IssueExtension,
    IssueSupervision,
    IssueView,
    Region,
    Unit,
)
from gridmap.policy import Scope, allowed

LIGHT_RANK = {"red": 0, "yellow": 1, "green": 2, "none": 3}
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueRow:
    """One open issue in a queue, with its traffic light."""

    id: int
    code: str
    title: str
    status: str
    level: str
    urgency: str
    real_name: bool
    category: str
    unit: str | None
    due: datetime | None
    light: str
    supervision_overdue: bool = False  # a 督办 unanswered past its limit: flagged red


CODE = re.compile(r"[0-9A-Za-z_-]{1,32}")
# The query parameters an AppealFilter reads, as the map page sends them.
PARAMETERS = ("stage", "category", "appeal_type", "urgency", "level", "unit", "from", "to",
              "overdue")


@dataclass(frozen=True)
class AppealFilter:
    """Which open issues the appeals layer and the issue queue show; every field None means
    "all"."""

    stage: str | None = None
    category: str | None = None
    appeal_type: str | None = None
    urgency: str | None = None
    level: str | None = None
    unit: str | None = None  # the responsible unit's code
    period: Period = Period()
    overdue: bool = False

    @classmethod
    def parse(cls, args) -> AppealFilter:
        """From query parameters; BadInput names the parameter that is wrong."""
        def choice(name, allowed):
            value = args.get(name) or None
            if value is not None and value not in allowed:
                raise BadInput(_("%(field)s 应是 %(choices)s 之一", field=name,
                                 choices=", ".join(allowed)), field=name)
            return value

        def code(name):
            value = args.get(name) or None
            if value is not None and not CODE.fullmatch(value):
                raise BadInput(_("%(field)s 应是字母、数字、- 或 _ 组成的编码", field=name),
                               field=name)
            return value

        overdue = args.get("overdue") or ""
        if overdue not in ("", "0", "1", "true", "false"):
            raise BadInput(_("overdue 应是 1 或 0"), field="overdue")
        return cls(stage=choice("stage", lifecycle.OPEN), category=code("category"),
                   appeal_type=choice("appeal_type", APPEAL_TYPES),
                   urgency=choice("urgency", URGENCIES), level=choice("level", HANDLING_LEVELS),
                   unit=code("unit"), period=Period.parse(args.get("from"), args.get("to")),
                   overdue=overdue in ("1", "true"))

    def condition(self, scope: Scope, light):
        """The SQL condition on `issue` (and its traffic light `light`)."""
        parts = [self.period.condition()]
        if self.stage:
            parts.append(Issue.status == self.stage)
        if self.category:
            parts.append(Issue.category == self.category)
        if self.appeal_type:
            parts.append(Issue.category.in_(select(IssueCategory.code).where(
                IssueCategory.county_code == scope.county_code,
                IssueCategory.appeal_type == self.appeal_type)))
        if self.urgency:
            parts.append(Issue.urgency == self.urgency)
        if self.level:
            parts.append(Issue.level == self.level)
        if self.unit:
            parts.append(Issue.responsible_unit_id.in_(select(Unit.id).where(
                Unit.county_code == scope.county_code, Unit.code == self.unit)))
        if self.overdue:
            parts.append(light == "red")
        return and_(true(), *parts)



def stage_due_sql():
    """The deadline of the stage an issue is in (SQL): triage, handling or feedback."""
    return case((Issue.status == "reported", Issue.triage_due),
                (Issue.status.in_(("triaged", "in_progress")), Issue.handling_due),
                (Issue.status == "handled", Issue.feedback_due))


def light_sql(session, county_code: str):
    """(stage due, traffic light) of an issue as SQL: lifecycle.traffic_light's rule with
    the county's traffic_light.yellow_at, at clock.now(). Red means the stage is overdue."""
    values = settings.all(session, county_code)
    now, due, started = literal(clock.now()), stage_due_sql(), Issue.status_changed_at
    used = func.extract("epoch", now - started) / func.nullif(func.extract("epoch", due - started), 0)
    light = case((due.is_(None), "none"), (due <= started, "red"), (now >= due, "red"),
                 (used >= values["traffic_light.yellow_at"], "yellow"), else_="green")
    return due, light


def queue(session, scope: Scope, limit: int = QUEUE_LIMIT, only=None,
          where: AppealFilter = AppealFilter()) -> list[QueueRow]:
    """Open issues of the scope: red, yellow, green (traffic_light.* of the stage used), then
    real-name reports first (实名优先), then the nearest deadline. Bounded by `limit`.
    `only` narrows it further (e.g. tasks_of, the user's own to-do); `where` is the filter the
    queue page and the appeals map share."""
    due, light = light_sql(session, scope.county_code)
    rank = case(*((light == name, n) for name, n in LIGHT_RANK.items()))
    rows = session.execute(
        select(Issue.id, Issue.code, Issue.title, Issue.status, Issue.level, Issue.urgency,
               Issue.real_name, func.coalesce(IssueCategory.name, Issue.category), Unit.name,
               due, light, supervision_overdue(clock.now()))
        .outerjoin(IssueCategory, (IssueCategory.county_code == Issue.county_code)
                   & (IssueCategory.code == Issue.category))
        .outerjoin(Unit, Unit.id == Issue.responsible_unit_id)
        .where(scope.issues(), Issue.status.in_(lifecycle.OPEN), Issue.merged_into.is_(None),
               where.condition(scope, light), *([only] if only is not None else []))
        .order_by(rank, Issue.real_name.desc(), due.asc().nulls_last(), Issue.id)
        .limit(limit))
    return [QueueRow(*row) for row in rows]


@dataclass(frozen=True)
class QueueCounts:
    """How many open issues a (filtered) queue holds in all, and per traffic light."""

    total: int
    red: int
    yellow: int


def queue_counts(session, scope: Scope, where: AppealFilter = AppealFilter()) -> QueueCounts:
    """The figures above the queue: every open issue the filter keeps, not only those shown."""
    due, light = light_sql(session, scope.county_code)
    total, red, yellow = session.execute(
        select(func.count(), func.count().filter(light == "red"),
               func.count().filter(light == "yellow"))
        .where(scope.issues(), Issue.status.in_(lifecycle.OPEN), Issue.merged_into.is_(None),
               where.condition(scope, light))).one()
    return QueueCounts(total, red, yellow)


def supervision_overdue(now: datetime):
    """SQL: a 督办 of the issue waits for its written answer past its limit (flagged red)."""
    return exists().where(IssueSupervision.county_code == Issue.county_code,
                          IssueSupervision.issue_id == Issue.id,
                          IssueSupervision.answered_at.is_(None),
                          IssueSupervision.answer_due < now)


def tasks_of(user):
    """The SQL condition "an open issue of the user's scope that waits for the user's office":
    the states where the role may act, at its own level — a unit handler's unit's dispatched
    items (签收, 办结), a village's items at village level, a township's at township level and
    new reports to triage, a grid worker's or cadre's handled items (回访). None: no tasks."""
    role = user.role
    states = [s for s in lifecycle.OPEN if any(
        allowed(role, lifecycle.ACTIONS[a].policy) for a in lifecycle.allowed_actions(s))]
    if not states or role not in ("unit_handler", "village_staff", "township_staff",
                                  "grid_worker", "cadre"):
        return None
    condition = Issue.status.in_(states)
    if role == "unit_handler":  # and every 督办 waiting for their written answer
        return (condition & Issue.status.in_(("triaged", "in_progress"))) | _waiting(
            IssueSupervision, IssueSupervision.answered_at)
    if role == "village_staff":
        return condition & (Issue.level == "village")
    if role == "township_staff":  # and every 延期 request waiting for their decision
        return condition & ((Issue.level == "township") | (Issue.status == "reported")
                            | _waiting(IssueExtension, IssueExtension.decision))
    return Issue.status == "handled"  # grid workers and cadres: 回访 due


def _waiting(model, undecided):
    """SQL: the issue has a row of `model` (督办, 延期) still without its answer/decision."""
    return exists().where(model.county_code == Issue.county_code, model.issue_id == Issue.id,
                          undecided.is_(None))


def task_count(session, user) -> int:
    """How many open issues wait for the user (tasks_of); 0 for roles without tasks."""
    return task_counts(session, user).open


@dataclass(frozen=True)
class TaskCounts:
    """The user's tasks (tasks_of) and how many of them changed since the user last opened them."""

    open: int = 0
    unread: int = 0


def _unread(user):
    """SQL: the issue has an event by someone else newer than the user's last view of it
    (never opened: any such event). Event ids, not times, say "newer": clocks may tie."""
    seen = select(IssueView.seen_event_id).where(
        IssueView.user_id == user.id, IssueView.issue_id == Issue.id).correlate(Issue).scalar_subquery()
    return select(IssueEvent.id).where(
        IssueEvent.issue_id == Issue.id, IssueEvent.id > func.coalesce(seen, 0),
        IssueEvent.actor_id.is_distinct_from(user.id)).correlate(Issue).exists()


def task_counts(session, user) -> TaskCounts:
    """How many open issues wait for the user, and how many of those are unread (_unread)."""
    only = tasks_of(user)
    if only is None:
        return TaskCounts()
    row = session.execute(select(func.count(), func.count().filter(_unread(user))).select_from(
        Issue).where(Scope.of_user(user).issues(), Issue.merged_into.is_(None), only)).one()
    return TaskCounts(*row)


def unread_ids(session, user, issue_ids) -> set[int]:
    """Which of `issue_ids` (a page of the user's tasks) are unread (_unread)."""
    ids = list(issue_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Issue.id).where(
        Issue.id.in_(ids), Issue.county_code == user.county_code, _unread(user))))


def mark_read(session, user, issue: Issue) -> None:
    """The user opened the issue: every event so far is seen (one row per user and issue)."""
    newest = session.scalar(select(func.coalesce(func.max(IssueEvent.id), 0)).where(
        IssueEvent.issue_id == issue.id))
    values = {"seen_event_id": newest, "viewed_at": clock.now()}
    session.execute(insert(IssueView).values(
        county_code=issue.county_code, user_id=user.id, issue_id=issue.id, **values)
        .on_conflict_do_update(index_elements=[IssueView.user_id, IssueView.issue_id],
                               set_=values))


@dataclass(frozen=True)
class Step:
    """One event of an issue's timeline: who, when, which unit."""

    at: datetime
    action: str | None
    from_status: str | None
    to_status: str
    level: str | None
    actor: str | None
    cadre: str | None
    unit: str | None
    due_at: datetime | None
    note: str | None
    issue_code: str | None = None  # whose event: the issue's own, or a duplicate merged into it
    event_id: int | None = None
    photos: tuple = ()  # the stored photos that came with this event (gridmap.files)


def timeline(session, issue: Issue) -> list[Step]:
    """Every event of the issue and of the duplicates merged into it (合并), oldest first,
    each with the photos that came with it (photos older than that link: with the report)."""
    mine = select(Issue.id).where(Issue.county_code == issue.county_code,
                                  (Issue.id == issue.id) | (Issue.merged_into == issue.id))
    owner = Issue.__table__.alias("owner")
    rows = session.execute(
        select(IssueEvent.at, IssueEvent.action, IssueEvent.from_status, IssueEvent.to_status,
               IssueEvent.level, func.coalesce(AppUser.display_name, AppUser.login),
               Cadre.name, Unit.name, IssueEvent.due_at, IssueEvent.note, owner.c.code,
               IssueEvent.id)
        .join(owner, owner.c.id == IssueEvent.issue_id)
        .outerjoin(AppUser, AppUser.id == IssueEvent.actor_id)
        .outerjoin(Cadre, Cadre.id == IssueEvent.actor_cadre_id)
        .outerjoin(Unit, Unit.id == IssueEvent.unit_id)
        .where(IssueEvent.county_code == issue.county_code, IssueEvent.issue_id.in_(mine))
        .order_by(IssueEvent.at, IssueEvent.id).limit(1000)).all()
    photos = files.event_photos(session, issue.county_code, session.scalars(mine))
    steps = []
    for row in rows:
        came_with = photos.get(row[-1], [])
        if not steps:
            came_with = photos.get(None, []) + came_with
        steps.append(Step(*row, photos=tuple(came_with)))
    return steps


@dataclass(frozen=True)
class CallbackRow:
    """One 回访 of an issue: how, whether the reporter was reached, the answers, by whom."""

    at: datetime
    channel: str
    reached: bool
    contacted_in_time: bool | None
    solved: bool | None
    satisfaction: str | None
    unreached_reason: str | None
    note: str | None
    by: str | None
    cadre: str | None
    reporter: str | None = None  # whose 回访: the code of the issue the reporter reported

    def as_json(self) -> dict:
        """The row for JSON (times as ISO 8601)."""
        return {**self.__dict__, "at": self.at.isoformat()}


def callbacks(session, issue: Issue) -> list[CallbackRow]:
    """Every 回访 of the issue, oldest first, each naming whose (bounded: a handful per issue)."""
    reporter = Issue.__table__.alias("reporter")
    rows = session.execute(
        select(Callback.at, Callback.channel, Callback.reached, Callback.contacted_in_time,
               Callback.solved, Callback.satisfaction, Callback.unreached_reason, Callback.note,
               func.coalesce(AppUser.display_name, AppUser.login), Cadre.name,
               func.coalesce(reporter.c.code, issue.code))
        .outerjoin(AppUser, AppUser.id == Callback.by_user_id)
        .outerjoin(reporter, reporter.c.id == Callback.reporter_issue_id)
        .outerjoin(Cadre, Cadre.id == Callback.by_cadre_id)
        .where(Callback.county_code == issue.county_code, Callback.issue_id == issue.id)
        .order_by(Callback.at, Callback.id).limit(100))
    return [CallbackRow(*row) for row in rows]


def place_name(session, issue: Issue) -> str:
    """Where the issue is, as people say it: 'village · grid' names (codes when unnamed)."""
    names = []
    if issue.village_code:
        village = session.scalar(select(Region.name).where(
            Region.county_code == issue.county_code, Region.code == issue.village_code,
            Region.current()))
        names.append(village or issue.village_code)
    if issue.grid_code:
        grid = session.scalar(select(Grid.name).where(
            Grid.county_code == issue.county_code, Grid.code == issue.grid_code, Grid.current()))
        names.append(grid or issue.grid_code)
    return " · ".join(names)


def unit_choices(session, issue: Issue) -> list[tuple[str, str]]:
    """(code, name) of the units an issue may be dispatched to: those of its township and village,
    and the county's agencies (bounded: a county has a few hundred units)."""
    place = issue.village_code or issue.county_code
    rows = session.execute(select(Unit.code, Unit.name).where(
        Unit.county_code == issue.county_code,
        (Unit.region_code == issue.county_code) | (Unit.region_code == place[:9])
        | (Unit.region_code == place)).order_by(Unit.region_code.desc(), Unit.code).limit(300))
    return [tuple(row) for row in rows]


def as_dict(issue: Issue, reporter: privacy.Reporter | None = None) -> dict:
    """The issue for JSON: the reporter as `reporter` says (privacy.reporter_for), else masked."""
    reporter = reporter or privacy.Reporter(privacy.mask_name(issue.reporter_name),
                                            privacy.mask_phone(issue.reporter_phone))
    return {
        "id": issue.id, "code": issue.code, "version": issue.version, "title": issue.title,
        "description": issue.description, "category": issue.category, "urgency": issue.urgency,
        "status": issue.status, "level": issue.level, "real_name": issue.real_name,
        "reporter_name": reporter.name, "reporter_phone": reporter.phone,
        "reporter_withheld": reporter.withheld,
        "grid_code": issue.grid_code, "village_code": issue.village_code,
        "responsible_unit_id": issue.responsible_unit_id, "satisfaction": issue.satisfaction,
        **{name: _iso(getattr(issue, name)) for name in (
            "reported_at", "triage_due", "handling_due", "feedback_due", "acknowledged_at",
            "status_changed_at", "closed_at")},
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
