"""Case controls (CJ/T 214): 延期 extension, 督办 supervision, 催办 reminders, 挂账 reviews,
duplicates and 合并 merge. Core: no Flask.

Each control is one event of the issue's ledger. Those that change the state (merge: the
duplicate becomes 已作废 with reason 合并) go through gridmap.issues.apply; the others leave
the state as it is (issues.record_control: lifecycle.CONTROL_EVENTS), and change the issue's
row only under its version lock (a granted extension moves `handling_due`, a review moves
`review_on`). Who may do what is gridmap.policy's table; `take` is the one entry the web uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from gridmap import clock, inputs, issues, lifecycle, privacy, settings
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.models import (
    HANDLING_LEVELS,
    AppUser,
    Callback,
    Issue,
    IssueCategory,
    IssueEvent,
    IssueExtension,
    IssueSupervision,
    Unit,
)
from gridmap.policy import COUNTY_WIDE_ROLES, Scope, allowed

HANDLING = ("triaged", "in_progress")  # the stage whose deadline an extension moves
CONTROLS = ("ask_extension", "grant_extension", "deny_extension", "supervise", "remind",
            "answer", "review", "merge")
LEDGER_LIMIT = 300


def _may(actor, policy_action: str) -> None:
    if actor is None or not allowed(actor.role, policy_action):
        raise Forbidden(_("您的角色无权进行此操作。"))


def _note(data: dict, name: str, required_message) -> str:
    value = issues.text_field({"note": data.get(name)}, "note")
    if not value:
        raise BadInput(required_message, field=name)
    return value


def _moment(value, name: str, keep: datetime | None = None) -> datetime:
    """A date ('2026-12-10', at the clock time of `keep`, else 18:00 China time) or an ISO time."""
    text = str(value or "").strip()
    if not text:
        raise BadInput(_("请填写 %(field)s", field=name), field=name)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            clock_time = keep.astimezone(CHINA_TIME).timetz() if keep else time(18, tzinfo=CHINA_TIME)
            return datetime.combine(day, clock_time)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(_("%(field)s 应是日期（如 2026-12-10）", field=name), field=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)


def _open(issue: Issue, action: str) -> None:
    if issue.status not in lifecycle.OPEN or issue.merged_into is not None:
        raise Conflict(_("此事项现在是「%(status)s」，不能%(action)s",
                         status=lifecycle.STATUS_LABELS[issue.status],
                         action=lifecycle.ACTION_LABELS[action]), field="action")


# --- 延期 ----------------------------------------------------------------------------------


def rank_of(session, user) -> int:
    """How high an account sits: 0 field, 1 village, 2 township, 3 county (a unit handler:
    their unit's region)."""
    if user.role in COUNTY_WIDE_ROLES:
        return 3
    if user.role == "unit_handler":
        region = session.scalar(select(func.coalesce(Unit.region_code, Unit.county_code))
                                .where(Unit.id == user.unit_id)) or ""
        return {6: 3, 9: 2}.get(len(region), 1)
    return {"township_staff": 2, "village_staff": 1}.get(user.role, 0)


def pending_extension(session, issue: Issue, *, lock: bool = False) -> IssueExtension | None:
    """The issue's extension request still waiting for a decision (at most one)."""
    query = select(IssueExtension).where(IssueExtension.county_code == issue.county_code,
                                         IssueExtension.issue_id == issue.id,
                                         IssueExtension.decision.is_(None))
    return session.scalar(query.with_for_update() if lock else query)


def ask_extension(session, issue_id, actor, data: dict) -> Issue:
    """申请延期: the handler asks for a later handling deadline, with a reason."""
    _may(actor, "handle_issue")
    issue = issues.get(session, actor, issue_id, lock=True)
    reason = _note(data, "note", _("申请延期需要写明理由"))
    if issue.status not in HANDLING or issue.handling_due is None:
        raise Conflict(_("只有处置中的事项可以申请延期；此事项现在是「%(status)s」",
                         status=lifecycle.STATUS_LABELS[issue.status]), field="action")
    new_due = _moment(data.get("new_due"), "new_due", keep=issue.handling_due)
    if new_due <= issue.handling_due:
        raise BadInput(_("新的办理期限应晚于现在的期限 %(due)s",
                         due=f"{issue.handling_due.astimezone(CHINA_TIME):%Y-%m-%d %H:%M}"),
                       field="new_due")
    if pending_extension(session, issue) is not None:
        raise Conflict(_("此事项已有一条待审批的延期申请，请等上级审批后再申请"), field="action")
    session.add(IssueExtension(county_code=issue.county_code, issue_id=issue.id,
                               asked_by=actor.id, asked_at=clock.now(), reason=reason,
                               old_due=issue.handling_due, new_due=new_due))
    return issues.record_control(session, issue, "ask_extension", actor, note=reason,
                                 due_at=new_due)


def decide_extension(session, issue_id, actor, data: dict, *, grant: bool) -> Issue:
    """批准/不批准延期: by the level above the asker, never the asker; granted, the handling
    deadline moves (under the issue's version lock)."""
    _may(actor, "approve_extension")
    issue = issues.get(session, actor, issue_id, lock=True)
    request = pending_extension(session, issue, lock=True)
    if request is None:
        raise Conflict(_("此事项没有待审批的延期申请"), field="action")
    if request.asked_by == actor.id:
        raise Forbidden(_("不能审批自己的延期申请：请由上一级审批"), field="action")
    asker = session.get(AppUser, request.asked_by)
    needed = min(max(rank_of(session, asker), HANDLING_LEVELS.index(issue.level) + 1) + 1, 3)
    if rank_of(session, actor) < needed:
        raise Forbidden(_("此延期申请须由%(level)s审批", level=lifecycle.LEVEL_LABELS[
            HANDLING_LEVELS[needed - 1]]), field="action")
    note = issues.text_field({"note": data.get("note")}, "note")
    if not grant and not note:
        raise BadInput(_("不批准延期需要写明理由"), field="note")
    now = clock.now()
    request.decision, request.decided_by = ("granted" if grant else "denied"), actor.id
    request.decided_at, request.decision_note = now, note
    if not grant:
        return issues.record_control(session, issue, "deny_extension", actor, note=note)
    if issue.status not in HANDLING:
        raise Conflict(_("此事项已不在处置阶段（现为「%(status)s」），延期无从批准",
                         status=lifecycle.STATUS_LABELS[issue.status]), field="action")
    return issues.record_control(
        session, issue, "grant_extension", actor, note=note or request.reason,
        due_at=request.new_due, values={"handling_due": request.new_due},
        expected_version=data.get("version"))


# --- 督办 / 催办 ------------------------------------------------------------------------------


def supervise(session, issue_id, actor, data: dict) -> Issue:
    """督办: a written instruction the handler must answer by a date (default: the county's
    `issue.supervision_answer_days` from now)."""
    _may(actor, "supervise_issue")
    issue = issues.get(session, actor, issue_id)
    _open(issue, "supervise")
    instruction = _note(data, "note", _("督办需要写明督办意见"))
    now = clock.now()
    if data.get("answer_due"):
        due = _moment(data.get("answer_due"), "answer_due")
        if due <= now:
            raise BadInput(_("答复期限应晚于现在"), field="answer_due")
    else:
        days = settings.all(session, issue.county_code)["issue.supervision_answer_days"]
        due = now + timedelta(days=days)
    session.add(IssueSupervision(county_code=issue.county_code, issue_id=issue.id,
                                 by_user_id=actor.id, at=now, instruction=instruction,
                                 answer_due=due))
    return issues.record_control(session, issue, "supervise", actor, note=instruction, due_at=due)


@dataclass(frozen=True)
class OverdueSupervision:
    """A 督办 not answered by its limit: the issue, the instruction, who must answer, since when."""

    issue_id: int
    code: str
    title: str
    instruction: str
    at: datetime
    answer_due: datetime
    unit: str | None


def overdue_supervisions(session, scope: Scope, now: datetime,
                         limit: int = LEDGER_LIMIT) -> list[OverdueSupervision]:
    """Unanswered 督办 past their limit in scope, the longest overdue first (for the ledger;
    the queue flags the same with issue_queries.supervision_overdue)."""
    rows = session.execute(
        select(Issue.id, Issue.code, Issue.title, IssueSupervision.instruction,
               IssueSupervision.at, IssueSupervision.answer_due, Unit.name)
        .join(IssueSupervision, (IssueSupervision.county_code == Issue.county_code)
              & (IssueSupervision.issue_id == Issue.id))
        .outerjoin(Unit, Unit.id == Issue.responsible_unit_id)
        .where(scope.issues(), IssueSupervision.answered_at.is_(None),
               IssueSupervision.answer_due < now)
        .order_by(IssueSupervision.answer_due, IssueSupervision.id).limit(limit))
    return [OverdueSupervision(*row) for row in rows]


def remind(session, issue_id, actor, data: dict) -> Issue:
    """催办: a reminder to the handler (an event; counted per issue and unit)."""
    _may(actor, "supervise_issue")
    issue = issues.get(session, actor, issue_id)
    _open(issue, "remind")
    return issues.record_control(session, issue, "remind", actor,
                                 note=issues.text_field({"note": data.get("note")}, "note"))


def answer(session, issue_id, actor, data: dict) -> Issue:
    """督办回复: the handler's written answer to the oldest unanswered 督办 (or the one named)."""
    _may(actor, "handle_issue")
    issue = issues.get(session, actor, issue_id)
    text = _note(data, "note", _("请填写督办回复"))
    query = select(IssueSupervision).where(
        IssueSupervision.county_code == issue.county_code, IssueSupervision.issue_id == issue.id,
        IssueSupervision.answered_at.is_(None))
    if data.get("supervision"):
        query = query.where(IssueSupervision.id == inputs.ident(data["supervision"], "supervision"))
    row = session.scalar(query.order_by(IssueSupervision.at, IssueSupervision.id).limit(1)
                         .with_for_update())
    if row is None:
        raise Conflict(_("此事项没有待回复的督办"), field="action")
    row.answer, row.answered_by, row.answered_at = text, actor.id, clock.now()
    return issues.record_control(session, issue, "answer", actor, note=text)


# --- 挂账 -----------------------------------------------------------------------------------


def review(session, issue_id, actor, data: dict) -> Issue:
    """挂账复核: a logged review of a long-term item and its next review date."""
    _may(actor, "triage_issue")
    issue = issues.get(session, actor, issue_id)
    if issue.status != "long_term":
        raise Conflict(_("只有挂账事项需要复核；此事项现在是「%(status)s」",
                         status=lifecycle.STATUS_LABELS[issue.status]), field="action")
    note = _note(data, "note", _("复核需要写明情况"))
    today = clock.now().astimezone(CHINA_TIME).date()
    if data.get("review_on"):
        next_review = _moment(data["review_on"], "review_on").astimezone(CHINA_TIME).date()
    else:
        next_review = today + timedelta(
            days=settings.all(session, issue.county_code)["issue.long_term_review_days"])
    if next_review <= today:
        raise BadInput(_("下次复核日期应晚于今天"), field="review_on")
    return issues.record_control(session, issue, "review", actor, note=note,
                                 values={"review_on": next_review},
                                 expected_version=data.get("version"))


# --- duplicates and 合并 ---------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A likely duplicate: same category, near in place and time."""

    id: int
    code: str
    title: str
    status: str
    reported_at: datetime
    metres: float | None


def duplicates(session, actor, issue: Issue, limit: int = 10) -> list[Candidate]:
    """Issues of the actor's scope that may report the same thing: the same category, within
    `issue.duplicate_metres` (or, without a point, the same grid/village) and
    `issue.duplicate_days` of each other, neither voided nor merged; nearest first."""
    values = settings.all(session, issue.county_code)
    window = timedelta(days=values["issue.duplicate_days"])
    other = select(Issue.geom).where(Issue.id == issue.id).scalar_subquery()
    metres = func.ST_Distance(func.geography(Issue.geom), func.geography(other))
    if issue.geom is not None:
        near = func.ST_DWithin(func.geography(Issue.geom), func.geography(other),
                               values["issue.duplicate_metres"])
    elif issue.grid_code:
        near = Issue.grid_code == issue.grid_code
    else:
        near = Issue.village_code == issue.village_code
    rows = session.execute(
        select(Issue.id, Issue.code, Issue.title, Issue.status, Issue.reported_at, metres)
        .where(issues.scope_of(actor).issues(), Issue.county_code == issue.county_code,
               Issue.id != issue.id, Issue.category == issue.category,
               Issue.status.notin_(("voided", "rejected")), Issue.merged_into.is_(None),
               Issue.reported_at.between(issue.reported_at - window, issue.reported_at + window),
               near)
        .order_by(metres.asc().nulls_last(), Issue.reported_at.desc()).limit(limit))
    return [Candidate(*row) for row in rows]


def merge(session, issue_id, actor, data: dict) -> Issue:
    """合并: the issue (a duplicate) becomes 已作废 with reason 合并 and `merged_into` the
    survivor, named by `into` (its id or code). Refused across counties, into a voided or
    rejected issue, into itself. The survivor's timeline then shows both histories."""
    _may(actor, "triage_issue")
    duplicate = issues.get(session, actor, issue_id)
    into = str(data.get("into") or "").strip()
    if not into:
        raise BadInput(_("合并需要选择并入的事项"), field="into")
    column = Issue.id if into.isdigit() and len(into) < 10 else Issue.code
    survivor = session.scalar(select(Issue).where(column == (int(into) if column is Issue.id
                                                             else into)).limit(1))
    if survivor is None:
        raise NotFound(_("没有编号为 %(id)s 的事项，或不在您的范围内", id=into[:40]), field="into")
    if survivor.county_code != duplicate.county_code:
        raise Conflict(_("不能跨县合并事项"), field="into")
    survivor = issues.get(session, actor, survivor.id)  # outside the actor's scope: not found
    if survivor.id == duplicate.id:
        raise BadInput(_("不能把事项并入它自己"), field="into")
    if survivor.status in ("voided", "rejected") or survivor.merged_into is not None:
        raise Conflict(_("不能并入「%(status)s」的事项 %(code)s",
                         status=lifecycle.STATUS_LABELS[survivor.status], code=survivor.code),
                       field="into")
    extra = issues.text_field({"note": data.get("note")}, "note")
    note = f"{lifecycle.MERGE_NOTE}：并入 {survivor.code}" + (f"；{extra}" if extra else "")
    return issues.apply(session, duplicate.id, "merge", actor,
                        expected_version=data.get("version"), note=note,
                        merged_into=survivor.id)


def merged_ids(session, issue: Issue) -> list[int]:
    """The issues merged into this one (bounded)."""
    return list(session.scalars(select(Issue.id).where(
        Issue.county_code == issue.county_code, Issue.merged_into == issue.id)
        .order_by(Issue.id).limit(100)))


@dataclass(frozen=True)
class Reporter:
    """Who reported an issue the survivor carries (masked): each gets the feedback."""

    code: str
    name: str | None
    phone: str | None
    real_name: bool
    called_back: bool = False  # a 回访 reached this reporter


def reporters(session, issue: Issue) -> list[Reporter]:
    """The reporters of the issue and of every issue merged into it: the 回访 reaches them all
    (issues.record_callback with `reporter`), each marked once one reached them."""
    reporter = func.coalesce(Callback.reporter_issue_id, Callback.issue_id)
    reached = select(Callback.id).where(
        Callback.county_code == issue.county_code, Callback.issue_id == issue.id,
        Callback.reached, reporter == Issue.id).exists()
    rows = session.execute(select(Issue.code, Issue.reporter_name, Issue.reporter_phone,
                                  Issue.real_name, reached).where(
        Issue.county_code == issue.county_code,
        (Issue.id == issue.id) | (Issue.merged_into == issue.id)).order_by(Issue.id).limit(101))
    return [Reporter(code, privacy.mask_name(name), privacy.mask_phone(phone), real, called)
            for code, name, phone, real, called in rows]


# --- one entry, the panel of the detail page, the ledger -------------------------------------


def take(session, issue_id, control: str, actor, data: dict) -> Issue:
    """Take the control named `control` on the issue as `actor` with the posted `data`."""
    issues.get(session, actor, issue_id)  # outside the actor's scope: not found, before all else
    if control == "ask_extension":
        return ask_extension(session, issue_id, actor, data)
    if control in ("grant_extension", "deny_extension"):
        return decide_extension(session, issue_id, actor, data,
                                grant=control == "grant_extension")
    handlers = {"supervise": supervise, "remind": remind, "answer": answer, "review": review,
                "merge": merge}
    if control not in handlers:
        raise BadInput(_("没有这个操作：%(action)r", action=control), field="control")
    return handlers[control](session, issue_id, actor, data)


@dataclass(frozen=True)
class Panel:
    """What the detail page shows of the controls and which of them the user may take."""

    extension: IssueExtension | None
    supervisions: list
    reminders: int
    duplicates: list
    reporters: list
    merged_into: str | None
    allowed: tuple
    overdue: frozenset = frozenset()  # ids of 督办 unanswered past their limit (red)


def panel(session, issue: Issue, actor) -> Panel:
    """The issue's controls for its page: a waiting extension, 督办 rows, 催办 count,
    duplicate suggestions, reporters (with merged ones) and the controls allowed now."""
    role = actor.role
    open_now = issue.status in lifecycle.OPEN and issue.merged_into is None
    extension = pending_extension(session, issue)
    supervisions = list(session.scalars(select(IssueSupervision).where(
        IssueSupervision.county_code == issue.county_code, IssueSupervision.issue_id == issue.id)
        .order_by(IssueSupervision.at).limit(50)))
    reminders = session.scalar(select(func.count()).select_from(IssueEvent).where(
        IssueEvent.county_code == issue.county_code, IssueEvent.issue_id == issue.id,
        IssueEvent.action == "remind")) or 0
    may = []
    if issue.status in HANDLING and extension is None and allowed(role, "handle_issue"):
        may.append("ask_extension")
    if extension is not None and allowed(role, "approve_extension") and extension.asked_by != actor.id:
        may += ["grant_extension", "deny_extension"]
    if open_now and allowed(role, "supervise_issue"):
        may += ["supervise", "remind"]
    if any(s.answered_at is None for s in supervisions) and allowed(role, "handle_issue"):
        may.append("answer")
    if issue.status == "long_term" and allowed(role, "triage_issue"):
        may.append("review")
    mergeable = issue.status in lifecycle.ACTIONS["merge"].sources and issue.merged_into is None
    if mergeable and allowed(role, "triage_issue"):
        may.append("merge")
    into = session.scalar(select(Issue.code).where(Issue.id == issue.merged_into)) \
        if issue.merged_into else None
    now = clock.now()
    overdue = frozenset(s.id for s in supervisions if s.answered_at is None and s.answer_due < now)
    return Panel(extension, supervisions, reminders,
                 duplicates(session, actor, issue) if "merge" in may else [],
                 reporters(session, issue), into, tuple(may), overdue)


@dataclass(frozen=True)
class LedgerRow:
    """One row of the 挂账/作废 ledger."""

    id: int
    code: str
    title: str
    status: str
    category: str
    review_on: date | None
    since: datetime
    reason: str | None
    last_review: datetime | None
    merged_into: str | None


def ledger(session, scope: Scope, limit: int = LEDGER_LIMIT) -> list[LedgerRow]:
    """挂账 items (review date soonest first), then voided ones (newest first), in scope: each
    with the reason of the move (the note of its 挂账/作废/合并 event) and its last review."""
    event = IssueEvent
    reason = (select(event.note).where(event.county_code == Issue.county_code,
                                       event.issue_id == Issue.id,
                                       event.action.in_(("defer", "void", "merge")))
              .order_by(event.at.desc(), event.id.desc()).limit(1).scalar_subquery())
    last_review = select(func.max(event.at)).where(
        event.county_code == Issue.county_code, event.issue_id == Issue.id,
        event.action == "review").scalar_subquery()
    survivor_issue = Issue.__table__.alias("survivor")
    survivor = select(survivor_issue.c.code).where(
        survivor_issue.c.id == Issue.merged_into).scalar_subquery()
    rows = session.execute(
        select(Issue.id, Issue.code, Issue.title, Issue.status,
               func.coalesce(IssueCategory.name, Issue.category), Issue.review_on,
               Issue.status_changed_at, reason, last_review, survivor)
        .outerjoin(IssueCategory, (IssueCategory.county_code == Issue.county_code)
                   & (IssueCategory.code == Issue.category))
        .where(scope.issues(), Issue.status.in_(("long_term", "voided")))
        .order_by((Issue.status == "voided"), Issue.review_on.asc().nulls_last(),
                  Issue.status_changed_at.desc(), Issue.id)
        .limit(limit))
    return [LedgerRow(*row) for row in rows]
