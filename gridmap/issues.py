"""Every issue change goes through here: a report, or an action of the state machine.

    issue = issues.report(session, user, {"title": …, "category": "drinking_water", …})
    issue = issues.apply(session, issue.id, "triage", user, expected_version=issue.version)

`apply` = gridmap.lifecycle.apply() + the row update under the optimistic lock on
`issue.version` (UPDATE … WHERE version = :expected; no row → Conflict saying the current
state and what is allowed) + one `issue_event` (action, actor user and cadre, unit, level,
the new stage's deadline), in the caller's transaction. Who may act is gridmap.policy's
table; an issue outside the actor's scope is NotFound. `actor=None` is the system (the
`gridmap escalate` command) and may only escalate. Core: no Flask, no click.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, select, text, true, update

from gridmap import audit, categories, clock, inputs, lifecycle, settings
from gridmap.calendar import CHINA_TIME, WorkCalendar
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _, system_text
from gridmap.models import (
    CALLBACK_CHANNELS,
    SATISFACTION,
    URGENCIES,
    Callback,
    Grid,
    Issue,
    IssueEvent,
    Region,
    Unit,
    Visit,
)
from gridmap.policy import Scope, allowed

SOURCES = ("grid_worker", "visit", "hotline", "resident", "office")
SOURCE_LABELS = {"grid_worker": _("网格员上报"), "visit": _("走访发现"), "hotline": _("热线转办"),
                 "resident": _("群众反映"), "office": _("窗口登记")}
URGENCY_LABELS = {"urgent": _("紧急"), "normal": _("一般")}
SATISFACTION_LABELS = {"satisfied": _("满意"), "basically_satisfied": _("基本满意"),
                       "unsatisfied": _("不满意")}
CHANNEL_LABELS = {"phone": _("电话"), "visit": _("上门"), "sms": _("短信"), "in_person": _("当面"),
                  "online": _("网上")}
CALLBACK_FIELDS = ("channel", "reached", "contacted_in_time", "solved", "satisfaction",
                   "unreached_reason", "note", "reporter")
UNSATISFIED_NOTE = "回访不满意，重新处置"
CLOSE_REFUSALS = {
    "real_name_needs_feedback": _("实名反映的事项必须先回访反馈才能结案"),
    "needs_callback_or_reason": _("结案需要回访结果；无法回访（匿名或联系不上）时请在说明中写明原因"),
    "unsatisfied_reopens": _("回访不满意：请重新处置，不能结案"),
}
MERGED_CALLBACK_STATES = ("handled", "feedback", "closed")  # a merged reporter's 回访 is owed
TEXT_LIMITS = {"title": 200, "description": 2000, "reporter_name": 50, "reporter_phone": 32,
               "note": 2000, "unreached_reason": 500}


@dataclass(frozen=True)
class Change:
    """What one action does besides status and level: column values, the event's unit and due."""

    values: dict = field(default_factory=dict)
    unit_id: int | None = None
    due_at: datetime | None = None
    callback: dict | None = None  # the 回访 row a feed_back writes (callback_answers)


# --- reading -------------------------------------------------------------------------------


def scope_of(actor) -> Scope | None:
    """The actor's scope (None for the system, which sees the whole county)."""
    return None if actor is None else Scope.of_user(actor)


def get(session, actor, issue_id, *, lock: bool = False) -> Issue:
    """The issue, if the actor may see it; NotFound otherwise (never say which)."""
    query = select(Issue).where(Issue.id == inputs.ident(issue_id, "issue"))
    scope = scope_of(actor)
    if scope is not None:
        query = query.where(scope.issues())
    if lock:
        query = query.with_for_update()
    issue = session.execute(query.execution_options(populate_existing=True)).scalar()
    if issue is None:
        raise NotFound(_("没有编号为 %(id)s 的事项，或不在您的范围内", id=issue_id), field="issue")
    return issue


def actions_for(issue: Issue, role: str | None) -> list[str]:
    """The actions `role` may take on `issue` now (state machine ∩ policy table)."""
    return [name for name in lifecycle.allowed_actions(issue.status)
            if role is not None and allowed(role, lifecycle.ACTIONS[name].policy)
            and not (name == "close" and lifecycle.close_refusal(
                issue.status, issue.real_name, issue.satisfaction, "reason") is not None)]


# --- writing -------------------------------------------------------------------------------


def text_field(data: dict, name: str, required: bool = False) -> str | None:
    """A text field of an issue, within its limit (TEXT_LIMITS)."""
    return inputs.text(data, name, TEXT_LIMITS[name], required=required)


def _place(session, scope: Scope, county_code: str, data: dict) -> tuple[str | None, str]:
    """(grid code, village code) of a report, checked against the reporter's scope."""
    grid_code, village_code = data.get("grid_code") or None, data.get("village_code") or None
    if grid_code is not None:
        village_code = session.execute(select(Grid.village_code).where(
            Grid.code == str(grid_code), scope.grids(), Grid.current())).scalar()
        if village_code is None:
            raise BadInput(_("网格 %(code)r 不存在或不在您的范围内", code=grid_code), field="grid_code")
        return grid_code, village_code
    if village_code is None or scope.grid_code is not None:
        raise BadInput(_("请选择事项所在的村（社区）或网格"),
                       field="grid_code" if scope.grid_code else "village_code")
    found = session.execute(select(Region.code).where(
        Region.code == str(village_code), Region.level == "village", scope.regions(),
        Region.current())).scalar()
    if found is None or not found.startswith(county_code):
        raise BadInput(_("村（社区）%(code)r 不存在或不在您的范围内", code=village_code),
                       field="village_code")
    return None, found


@dataclass(frozen=True)
class Resident:
    """The reporter on a residents' public page (gridmap.residents): no account; may only
    report, inside the one village whose printed page (QR code) they opened."""

    county_code: str
    scope_code: str  # the village code
    id: None = None
    role: None = None
    cadre_id: None = None
    login: str = "public"


def report(session, actor, data: dict, *, household_id: int | None = None) -> Issue:
    """A new issue (已上报) from `data`, with its first event; the same client_uuid twice
    gives back the issue the first report made (a tablet may send a report again).
    `household_id`: the household it was found at (a visit's; the caller checked its scope)."""
    if not isinstance(actor, Resident):
        _may(actor, "report_issue")
    client_uuid = _uuid(data.get("client_uuid"))
    if client_uuid is not None:
        known = session.execute(select(Issue.id).where(Issue.client_uuid == client_uuid)).scalar()
        if known is not None:
            return get(session, actor, known)
    county_code, now = actor.county_code, clock.now()
    title = text_field(data, "title", required=True)
    category = categories.require(session, county_code, data.get("category"))
    urgency = inputs.choice(data, "urgency", URGENCIES, "normal")
    grid_code, village_code = _place(session, Scope.of_user(actor), county_code, data)
    real_name = data.get("real_name") in (True, "true", "1", "on", "yes")
    reporter_name, phone = text_field(data, "reporter_name"), text_field(data, "reporter_phone")
    if real_name and not (reporter_name and phone):
        raise BadInput(_("实名反映需要填写反映人姓名和电话"), field="reporter_name")
    limits = categories.StageLimits.of(category)
    issue_id = _new_id(session)
    issue = Issue(
        id=issue_id, county_code=county_code, code=f"MQ{now.astimezone(CHINA_TIME):%Y%m%d}{issue_id:05d}",
        title=title,
        description=text_field(data, "description"), category=category.code, urgency=urgency,
        source=inputs.choice(data, "source", SOURCES, "office"), geom=inputs.point(data),
        grid_code=grid_code, village_code=village_code, household_id=household_id,
        reporter_name=reporter_name,
        reporter_phone=phone, real_name=real_name, status="reported", level="village",
        reported_at=now, status_changed_at=now,
        triage_due=lifecycle.stage_due(now, limits.triage(urgency)), created_by=actor.id,
        **({"client_uuid": client_uuid} if client_uuid else {}))
    session.add(issue)
    session.flush()
    session.add(_event(issue, "report", None, actor, now, Change(due_at=issue.triage_due),
                       text_field(data, "note")))
    _audit(session, actor, issue, "report", None)
    session.flush()
    return issue


def _uuid(value):
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadInput(_("client_uuid 不是 UUID"), field="client_uuid") from None


def _new_id(session) -> int:
    return session.execute(text("SELECT nextval(pg_get_serial_sequence('issue', 'id'))")).scalar()


def _may(actor, policy_action: str) -> None:
    if actor is None or not allowed(actor.role, policy_action):
        raise Forbidden(_("您的角色无权进行此操作。"))


def apply(session, issue_id, action: str, actor, *, expected_version, note: str | None = None,
          unit: str | None = None, to_level: str | None = None, satisfaction: str | None = None,
          category: str | None = None, urgency: str | None = None,
          callback: dict | None = None, merged_into: int | None = None) -> Issue:
    """Take `action` on the issue as `actor`, if it is still at `expected_version`.

    `feed_back` records a reached 回访: `callback` holds its answers (callback_answers; the
    `satisfaction` argument fills in when `callback` lacks it). record_callback is the usual
    way in: it also records unreached attempts and reopens on 不满意.
    """
    spec = lifecycle.ACTIONS.get(action)
    if spec is None:
        raise BadInput(_("没有这个操作：%(action)r", action=action), field="action")
    if actor is None and action != "escalate":
        raise Forbidden(_("您的角色无权进行此操作。"))
    if actor is not None:
        _may(actor, spec.policy)
    expected = inputs.ident(expected_version, "version")
    note = text_field({"note": note}, "note")
    issue = get(session, actor, issue_id)
    if issue.version != expected:
        raise _stale(issue, actor, action)
    try:
        status, level = lifecycle.apply(issue.status, issue.level, action, note, to_level)
    except lifecycle.TransitionError:
        if issue.status in spec.sources and spec.needs_note and not note:
            raise BadInput(_("「%(action)s」需要填写说明", action=lifecycle.ACTION_LABELS[action]),
                           field="note") from None
        raise _refused(issue, actor, action) from None
    now = clock.now()
    change = _effects(session, issue, action, status, level, now, note=note, unit=unit,
                      satisfaction=satisfaction, category=category, urgency=urgency,
                      callback=callback, merged_into=merged_into)
    values = {"status": status, "level": level, "version": expected + 1, **change.values}
    if status != issue.status:
        values["status_changed_at"] = now
    done = session.execute(update(Issue).where(Issue.id == issue.id, Issue.version == expected)
                           .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise _stale(get(session, None, issue.id), actor, action)
    from_status = issue.status
    issue = get(session, None, issue.id)  # the action may have moved it out of the actor's scope
    session.add(_event(issue, action, from_status, actor, now, change, note))
    _audit(session, actor, issue, action, from_status)
    if change.callback is not None:
        _add_callback(session, issue, actor, now, change.callback)
    session.flush()
    return issue


def record_control(session, issue: Issue, action: str, actor, *, note: str | None = None,
                   due_at: datetime | None = None, values: dict | None = None,
                   expected_version=None) -> Issue:
    """One event of a control that leaves the state as it is (lifecycle.CONTROL_EVENTS), as
    `actor`; with `values`, the issue's row changes too, under the version lock."""
    if action not in lifecycle.CONTROL_EVENTS:
        raise BadInput(_("没有这个操作：%(action)r", action=action), field="action")
    if values:
        expected = inputs.ident(expected_version, "version")
        done = session.execute(update(Issue).where(Issue.id == issue.id, Issue.version == expected)
                               .values(**values, version=expected + 1)
                               .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise _stale(get(session, None, issue.id), actor, action)
        issue = get(session, None, issue.id)
    session.add(_event(issue, action, issue.status, actor, clock.now(), Change(due_at=due_at),
                       note))
    _audit(session, actor, issue, action, issue.status)
    session.flush()
    return issue


def _audit(session, actor, issue: Issue, action: str, from_status) -> None:
    audit.record(session, actor, "issue_transition", f"issue:{issue.code}",
                 {"action": action, "from": from_status, "to": issue.status},
                 county_code=issue.county_code)


# --- 回访 --------------------------------------------------------------------------------------


def _flag(data: dict, name: str, required: bool) -> bool | None:
    value = data.get(name)
    if value in (True, False):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "on", "yes", "是"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "off", "no", "否"):
        return False
    if value in (None, "") and not required:
        return None
    raise BadInput(_("%(field)s 应是“是”或“否”", field=name), field=name)


def callback_answers(data: dict) -> dict:
    """The checked column values of a 回访 (a Callback row) from posted `data`.

    Reached: contacted in time? solved? satisfaction — all three. Not reached (无法回访): why.
    """
    channel = inputs.choice(data, "channel", CALLBACK_CHANNELS, "")
    reached = _flag(data, "reached", required=True)
    note = text_field(data, "note")
    if not reached:
        reason = text_field(data, "unreached_reason") or note
        if not reason:
            raise BadInput(_("未联系上时请写明原因（如匿名、空号、多次未接）"), field="unreached_reason")
        return {"channel": channel, "reached": False, "contacted_in_time": None, "solved": None,
                "satisfaction": None, "unreached_reason": reason, "note": note}
    return {"channel": channel, "reached": True,
            "contacted_in_time": _flag(data, "contacted_in_time", required=True),
            "solved": _flag(data, "solved", required=True),
            "satisfaction": inputs.choice(data, "satisfaction", SATISFACTION, ""),
            "unreached_reason": None, "note": note}


def record_callback(session, issue_id, actor, *, expected_version, data: dict) -> Issue:
    """Record one 回访 of a handled issue as `actor`; the issue after it.

    Reached: the `feed_back` transition with its Callback row (one event); 不满意 then reopens
    the issue (`reopen`, a second event). Not reached: the Callback row alone (the issue stays
    handled; 结案 then needs a 无法回访 reason, and never for a real-name report).
    `data["reporter"]` naming a duplicate merged into the issue (its code): that reporter's
    回访 (merged_callback).
    """
    _may(actor, "callback_issue")
    survivor = get(session, actor, issue_id)  # outside the scope: not found, before any answer
    reporter = _merged_reporter(session, survivor, data.get("reporter"))
    answers = callback_answers(data)
    if reporter is not None:
        return merged_callback(session, survivor, reporter, actor, expected_version, answers)
    if answers["reached"]:
        issue = apply(session, issue_id, "feed_back", actor, expected_version=expected_version,
                      note=answers["note"], callback=answers)
        if issue.satisfaction == "unsatisfied":
            issue = apply(session, issue.id, "reopen", actor, expected_version=issue.version,
                          note=UNSATISFIED_NOTE)
        return issue
    expected = inputs.ident(expected_version, "version")
    issue = get(session, actor, issue_id)
    if issue.version != expected:
        raise _stale(issue, actor, "feed_back")
    if issue.status != "handled":
        raise _refused(issue, actor, "feed_back")
    _add_callback(session, issue, actor, clock.now(), answers)
    session.flush()
    return issue


def _merged_reporter(session, survivor: Issue, ref) -> Issue | None:
    """The duplicate merged into `survivor` that `ref` (its code) names; None for the
    survivor's own reporter (no `ref`, or the survivor's own code)."""
    code = str(ref or "").strip()
    if not code or code == survivor.code:
        return None
    merged = session.scalar(select(Issue).where(
        Issue.county_code == survivor.county_code, Issue.merged_into == survivor.id,
        Issue.code == code[:40]))
    if merged is None:
        raise BadInput(_("反映人应是本事项或并入本事项的事项（%(code)s 不是）", code=code[:40]),
                       field="reporter")
    return merged


def merged_callback(session, survivor: Issue, reporter: Issue, actor, expected_version,
                    answers: dict) -> Issue:
    """The 回访 owed to the reporter of a duplicate merged into `survivor`: a Callback row
    naming that reporter and a `merged_callback` event on the survivor's timeline, the state
    as it is; 不满意 after the survivor's own 回访 reopens it, as its own reporter's would."""
    expected = inputs.ident(expected_version, "version")
    if survivor.version != expected:
        raise _stale(survivor, actor, "merged_callback")
    if survivor.status not in MERGED_CALLBACK_STATES:
        raise Conflict(_("此事项现在是「%(status)s」，办结后才能回访反映人",
                         status=lifecycle.STATUS_LABELS[survivor.status]), field="action")
    _add_callback(session, survivor, actor, clock.now(), answers, reporter)
    if answers["reached"]:
        said = SATISFACTION_LABELS[answers["satisfaction"]].msgid
    else:
        said = "未联系上：" + answers["unreached_reason"]
    note = f"反映人（{reporter.code}）{said}" + (f"；{answers['note']}" if answers["note"] else "")
    issue = record_control(session, survivor, "merged_callback", actor, note=note)
    if answers["reached"] and answers["satisfaction"] == "unsatisfied" \
            and issue.status in lifecycle.ACTIONS["reopen"].sources:
        issue = apply(session, issue.id, "reopen", actor, expected_version=issue.version,
                      note=UNSATISFIED_NOTE)
    return issue


def owed_callbacks(session, issue: Issue, *, real_name_only: bool = False) -> list[str]:
    """Codes of the duplicates merged into `issue` whose reporter has no reached 回访 yet."""
    reached = select(Callback.id).where(
        Callback.county_code == issue.county_code, Callback.issue_id == issue.id,
        Callback.reporter_issue_id == Issue.id, Callback.reached).exists()
    return list(session.scalars(select(Issue.code).where(
        Issue.county_code == issue.county_code, Issue.merged_into == issue.id, ~reached,
        Issue.real_name if real_name_only else true()).order_by(Issue.id).limit(100)))


def _add_callback(session, issue: Issue, actor, now: datetime, answers: dict,
                  reporter: Issue | None = None) -> None:
    """The Callback row (naming `reporter`, a merged duplicate, when it is that one's
    reporter's); for a registered household's report also its `visit` (kind callback)."""
    visit_id, cadre_id = None, getattr(actor, "cadre_id", None) if actor else None
    household_id = (reporter or issue).household_id
    if household_id is not None:
        visit = Visit(county_code=issue.county_code, household_id=household_id,
                      cadre_id=cadre_id, user_id=actor.id if actor else None, kind="callback", visited_at=now, issue_id=issue.id,
                      satisfaction=answers["satisfaction"],
                      notes=answers["note"] or answers["unreached_reason"])
        session.add(visit)
        session.flush()
        visit_id = visit.id
    session.add(Callback(county_code=issue.county_code, issue_id=issue.id, at=now,
                         by_user_id=actor.id if actor else None, by_cadre_id=cadre_id,
                         visit_id=visit_id, reporter_issue_id=reporter.id if reporter else None,
                         **answers))


def _refused(issue: Issue, actor, action: str) -> Conflict:
    allowed_now = tuple(lifecycle.ACTION_LABELS[a] for a in actions_for(
        issue, actor.role if actor else None)) or (_("无"),)
    return Conflict(_("此事项现在是「%(status)s」（%(level)s），不能%(action)s；现在可以：%(allowed)s",
                      status=lifecycle.STATUS_LABELS[issue.status],
                      level=lifecycle.LEVEL_LABELS[issue.level],
                      action=lifecycle.ACTION_LABELS[action], allowed=allowed_now), field="action")


def _stale(issue: Issue, actor, action: str) -> Conflict:
    refusal = _refused(issue, actor, action)
    return Conflict(_("此事项刚被他人更新（现为第 %(version)s 版）。%(detail)s",
                      version=issue.version, detail=refusal.message), field="version")


def _event(issue: Issue, action: str, from_status, actor, now: datetime, change: Change,
           note: str | None) -> IssueEvent:
    return IssueEvent(
        county_code=issue.county_code, issue_id=issue.id, from_status=from_status,
        to_status=issue.status, action=action, at=now, note=note, level=issue.level,
        actor_id=actor.id if actor else None,
        actor_cadre_id=getattr(actor, "cadre_id", None) if actor else None,
        unit_id=change.unit_id if change.unit_id is not None else issue.responsible_unit_id,
        due_at=change.due_at)


# --- what each action does besides the state -------------------------------------------------


def _effects(session, issue: Issue, action: str, status: str, level: str, now: datetime,
             **given) -> Change:
    county = issue.county_code
    values = settings.all(session, county)
    calendar = WorkCalendar.from_settings(values)
    category = issue.category
    if action == "triage" and given.get("category"):
        category = categories.require(session, county, given["category"]).code
    limits = categories.limits_of(session, county, category)

    def handling() -> datetime:
        return calendar.add_working_days(now, limits.handling_days)

    if action in ("triage", "escalate", "dispatch"):
        unit = _unit(session, issue, category, level, given.get("unit"), action != "escalate")
        change = {"responsible_unit_id": unit.id if unit else issue.responsible_unit_id}
        if action == "triage":
            urgency = inputs.choice(given, "urgency", URGENCIES, issue.urgency)
            change |= {"category": category, "urgency": urgency}
        if action == "escalate" and status == "reported":
            due = lifecycle.stage_due(now, limits.triage(issue.urgency))
            return Change({**change, "triage_due": due}, change["responsible_unit_id"], due)
        due = handling()
        if action == "dispatch":
            change["acknowledged_at"] = None
        return Change({**change, "handling_due": due}, change["responsible_unit_id"], due)
    if action == "acknowledge":
        return Change({"acknowledged_at": now}, due_at=issue.handling_due)
    if action in ("handle", "resolve_on_spot"):
        due = now + timedelta(days=limits.feedback_days)
        return Change({"feedback_due": due}, due_at=due)
    if action == "feed_back":
        answers = given.get("callback") or callback_answers(
            {"reached": True, "satisfaction": given.get("satisfaction")})
        if not answers["reached"]:
            raise BadInput(_("未联系上的回访不改变事项状态"), field="reached")
        return Change({"satisfaction": answers["satisfaction"]}, callback=answers)
    if action == "close":
        owed = owed_callbacks(session, issue, real_name_only=True)
        if owed:
            raise Conflict(_("并入本事项的实名反映（%(codes)s）尚未回访，不能结案",
                             codes="、".join(owed)), field="action")
        return _close(issue, now, given.get("note"))
    if action in ("reopen", "rework", "resume"):
        due = handling()
        return Change({"handling_due": due, "closed_at": None}, due_at=due)
    if action == "return":
        due = lifecycle.stage_due(now, limits.triage(issue.urgency))
        return Change({"responsible_unit_id": None, "acknowledged_at": None, "triage_due": due},
                      due_at=due)
    if action == "defer":
        days = values["issue.long_term_review_days"]
        return Change({"review_on": (now + timedelta(days=days)).astimezone(CHINA_TIME).date()})
    if action == "merge":  # gridmap.controls.merge checks the survivor first
        if not given.get("merged_into"):
            raise BadInput(_("合并需要选择并入的事项"), field="into")
        return Change({"merged_into": given["merged_into"]})
    return Change()  # reject, void: the state says it all


def _close(issue: Issue, now: datetime, note: str | None) -> Change:
    refusal = lifecycle.close_refusal(issue.status, issue.real_name, issue.satisfaction, note)
    if refusal is not None:
        raise Conflict(CLOSE_REFUSALS[refusal], field="note" if refusal.startswith("needs") else "action")
    change = {"closed_at": now}
    if issue.status == "handled":
        change["no_callback_reason"] = note
    return Change(change)


def _unit(session, issue: Issue, category: str, level: str, code: str | None,
          required: bool) -> Unit | None:
    """The unit named by `code`, else the owner of the category at `level` (gridmap.categories)."""
    if code:
        unit = session.execute(select(Unit).where(
            Unit.county_code == issue.county_code, Unit.code == str(code))).scalar()
        if unit is None:
            raise BadInput(_("本县没有单位 %(code)r", code=code), field="unit")
        return unit
    unit = categories.owner(session, issue.county_code, category, issue.village_code, level)
    if unit is None and required:
        raise BadInput(_("没有负责此类事项的单位：请选择承办单位"), field="unit")
    return unit


# --- escalation when stuck ---------------------------------------------------------------------

ESCALATE_NOTE = system_text(_("逾期未办，系统自动上交"))


def overdue(session, now: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(id, version) of open issues past their stage deadline below county level, locked for
    this transaction; rows another transaction holds are skipped (it is escalating them)."""
    due = case((Issue.status == "reported", Issue.triage_due), else_=Issue.handling_due)
    return [tuple(row) for row in session.execute(
        select(Issue.id, Issue.version).where(
            Issue.status.in_(("reported", "triaged", "in_progress")), Issue.level != "county",
            Issue.merged_into.is_(None), due < now)
        .order_by(Issue.id).limit(limit).with_for_update(skip_locked=True))]


def escalate_overdue(session, limit: int = 500) -> list[Issue]:
    """Raise every overdue issue one level (上交) with a fresh deadline; returns them.

    Idempotent: an escalated issue has a new deadline, so a second run finds nothing; two runs
    at once never take the same row (row locks, SKIP LOCKED; the version check besides).
    """
    return [apply(session, issue_id, "escalate", None, expected_version=version,
                  note=ESCALATE_NOTE) for issue_id, version in overdue(session, clock.now(), limit)]
