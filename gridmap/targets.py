"""挂牌销号: targets tagged for rectification and struck off one by one when fixed.

    target = targets.tag(session, user, {"kind": "party_branch", "party_branch": "5323291040010001",
                                         "reason": "软弱涣散：班子不健全", "due_on": "2027-03-31",
                                         "milestones": "换届选举\\n建立三会一课台账"})
    targets.request_close(session, village_user, target.id, expected_version=…, evidence="…")
    targets.decide_close(session, county_leader, target.id, expected_version=…, approve=True)

States: listed (挂牌整改中) → close_requested (申请销号) → closed (已销号); a refused request
goes back to listed; a follow-up review after close-out (回头看) either confirms it or reopens
it with a new deadline. Every step is one append-only `target_event` in the caller's
transaction, under an optimistic lock on `target.version` (a stale form is a Conflict).

Close-out needs evidence (销号依据), every step of the plan done, and the approval of the level
above the one who asked: a township's request is approved by the county, a village's by its
township or the county; a county-level request by another county-level account. Never by
the asker. Core: no Flask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on

from gridmap import audit, clock, codes, inputs
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.ledgers import next_id
from gridmap.maps.layers import collection_json, geojson_of, json_object
from gridmap.models import (
    TARGET_KINDS,
    AppUser,
    Cadre,
    Grid,
    PartyBranch,
    Region,
    Target,
    TargetEvent,
    TargetMilestone,
    Unit,
)
from gridmap.policy import Scope, allowed

STATUS_LABELS = {"listed": _("挂牌整改中"), "close_requested": _("申请销号"), "closed": _("已销号")}
KIND_LABELS = {"party_branch": _("党支部"), "region": _("村（社区）/乡镇"), "grid": _("网格")}
ACTION_LABELS = {"tag": _("挂牌"), "note": _("进展"), "milestone": _("完成整改步骤"),
                 "request_close": _("申请销号"), "approve_close": _("批准销号"),
                 "refuse_close": _("退回销号申请"), "review": _("回头看：巩固"),
                 "reopen": _("回头看：重新挂牌")}
LIMITS = {"reason": 500, "plan": 4000, "note": 2000, "evidence": 2000, "milestones": 4000,
          "milestone": 200}
MAX_MILESTONES = 20
MAX_ON_MAP = 2000  # targets on the 挂牌 layer: a county tags tens, not thousands


# --- reading -------------------------------------------------------------------------------


def visible(scope: Scope):
    """The SQL condition "this target is in the scope's region"."""
    return (Target.county_code == scope.county_code) & scope.in_region(Target.region_code)


def get(session, actor, target_id, *, lock: bool = False) -> Target:
    """The target, if the actor may see it; NotFound otherwise (never say which)."""
    query = select(Target).where(Target.id == inputs.ident(target_id, "target"),
                                 visible(Scope.of_user(actor)))
    if lock:
        query = query.with_for_update()
    target = session.execute(query.execution_options(populate_existing=True)).scalar()
    if target is None:
        raise NotFound(_("没有编号为 %(id)s 的挂牌对象，或不在您的范围内", id=target_id),
                       field="target")
    return target


def _today() -> date:
    return clock.now().astimezone(CHINA_TIME).date()


def overdue_condition(today: date):
    """Open (not struck off) and past its deadline."""
    return and_(Target.status != "closed", Target.due_on < today)


def _name_columns():
    """The target's display name and the name of the region it lies in (joined lazily)."""
    branch = select(PartyBranch.name).where(PartyBranch.id == Target.party_branch_id) \
        .scalar_subquery()
    grid = select(Grid.name).where(Grid.code == Target.grid_code, Grid.current(),
                                   Grid.county_code == Target.county_code).limit(1).scalar_subquery()
    region = select(Region.name).where(Region.code == Target.region_code, Region.current()) \
        .limit(1).scalar_subquery()
    name = case((Target.kind == "party_branch", branch), (Target.kind == "grid", grid),
                else_=region)
    return name.label("name"), region.label("region_name")


@dataclass(frozen=True)
class Listed:
    """One row of the 挂牌 list."""

    id: int
    kind: str
    name: str | None
    region_code: str
    region_name: str | None
    reason: str
    status: str
    due_on: date
    overdue: bool
    milestones_done: int
    milestones: int
    liaison: str | None
    helping_unit: str | None


def listing(session, scope: Scope, *, status: str | None = None, overdue_only: bool = False,
            limit: int = 500) -> list[Listed]:
    """The targets of the scope, overdue first, then by deadline (bounded by `limit`)."""
    today = _today()
    name, region_name = _name_columns()
    done = select(func.count()).where(TargetMilestone.target_id == Target.id,
                                      TargetMilestone.done_on.is_not(None)).scalar_subquery()
    total = select(func.count()).where(TargetMilestone.target_id == Target.id).scalar_subquery()
    overdue = overdue_condition(today)
    query = (select(Target.id, Target.kind, name, Target.region_code, region_name, Target.reason,
                    Target.status, Target.due_on, overdue.label("overdue"), done.label("done"),
                    total.label("total"), Cadre.name.label("liaison"), Unit.name.label("unit"))
             .outerjoin(Cadre, Cadre.id == Target.liaison_cadre_id)
             .outerjoin(Unit, Unit.id == Target.helping_unit_id)
             .where(visible(scope))
             .order_by(case((overdue, 0), (Target.status == "closed", 2), else_=1),
                       Target.due_on, Target.id)
             .limit(limit))
    if status:
        query = query.where(Target.status == inputs.choice({"status": status}, "status",
                                                            tuple(STATUS_LABELS), status))
    if overdue_only:
        query = query.where(overdue)
    return [Listed(*row) for row in session.execute(query)]


def counts(session, scope: Scope) -> dict[str, int]:
    """How many targets are listed, awaiting 销号, closed, and overdue (for the dashboard)."""
    today = _today()
    row = session.execute(select(
        func.count().filter(Target.status == "listed"),
        func.count().filter(Target.status == "close_requested"),
        func.count().filter(Target.status == "closed"),
        func.count().filter(overdue_condition(today)),
    ).where(visible(scope))).one()
    return dict(zip(("listed", "close_requested", "closed", "overdue"), row, strict=True))


def describe(session, target: Target) -> dict:
    """What the target page shows: names, plan, milestones and the timeline with who/when."""
    name, region_name = _name_columns()
    names = session.execute(select(name, region_name).where(Target.id == target.id)).one()
    liaison = target.liaison_cadre_id and session.get(Cadre, target.liaison_cadre_id)
    unit = target.helping_unit_id and session.get(Unit, target.helping_unit_id)
    milestones = session.execute(select(TargetMilestone).where(
        TargetMilestone.target_id == target.id).order_by(
        TargetMilestone.due_on.nulls_last(), TargetMilestone.id)).scalars().all()
    events = session.execute(
        select(TargetEvent, AppUser.display_name, AppUser.login)
        .outerjoin(AppUser, AppUser.id == TargetEvent.by_user_id)
        .where(TargetEvent.target_id == target.id, TargetEvent.county_code == target.county_code)
        .order_by(TargetEvent.at, TargetEvent.id)).all()
    return {"target": target, "name": names.name, "region_name": names.region_name,
            "liaison": liaison.name if liaison else None, "helping_unit": unit.name if unit else None,
            "milestones": milestones, "overdue": target.status != "closed" and target.due_on < _today(),
            "events": [{"event": event, "by": display or login} for event, display, login in events]}


def layer_json(session, scope: Scope) -> str:
    """The 挂牌 map layer as GeoJSON text built in PostGIS (as the map's other layers are,
    gridmap.maps.layers): each target drawn as its grid, or its region (a branch as its
    village), with name, status and overdue."""
    today = _today()
    name, _region_name = _name_columns()
    place = func.coalesce(
        select(func.coalesce(Grid.geom_display, Grid.geom)).where(
            Grid.code == Target.grid_code, Grid.county_code == Target.county_code,
            Grid.current()).limit(1).scalar_subquery(),
        select(func.coalesce(Region.geom_display, Region.geom)).where(
            Region.code == Target.region_code, Region.current()).limit(1).scalar_subquery())
    placed = (select(Target.id, name, Target.kind, Target.status, Target.due_on,
                     overdue_condition(today).label("overdue"), place.label("geom"))
              .where(visible(scope)).subquery())
    rows = (select(placed.c.id.label("fid"), geojson_of(placed.c.geom).label("geometry"),
                   json_object(id=placed.c.id, name=placed.c.name, kind=placed.c.kind,
                               status=placed.c.status, due_on=placed.c.due_on,
                               overdue=placed.c.overdue).label("properties"))
            .where(placed.c.geom.is_not(None)).order_by(placed.c.id).limit(MAX_ON_MAP).subquery())
    return collection_json(session, rows)


def layer(session, scope: Scope) -> dict:
    """The 挂牌 map layer (the parsed layer_json)."""
    return json.loads(layer_json(session, scope))


# --- writing -------------------------------------------------------------------------------


def _may(actor, action: str) -> None:
    if actor is None or not allowed(actor.role, action):
        raise Forbidden(_("您的角色无权进行此操作。"))


def _place(session, actor, data: dict) -> dict:
    """The tagged object's columns, found by its code and checked against the actor's scope."""
    kind = inputs.choice(data, "kind", TARGET_KINDS, "party_branch")
    county, scope = actor.county_code, Scope.of_user(actor)
    code = inputs.text(data, kind, 32, required=True)
    if kind == "party_branch":
        branch = session.execute(select(PartyBranch).where(
            PartyBranch.county_code == county, PartyBranch.code == code)).scalar()
        found = branch and {"party_branch_id": branch.id, "region_code": branch.village_code}
    elif kind == "grid":
        grid = session.execute(select(Grid).where(
            Grid.county_code == county, Grid.code == code, Grid.current())).scalar()
        found = grid and {"grid_code": grid.code, "region_code": grid.village_code}
    else:
        region = session.execute(select(Region).where(
            Region.county_code == county, Region.code == code, Region.current())).scalar()
        found = region and {"region_code": region.code}
    if not found or not session.execute(select(scope.in_region(literal(found["region_code"])))).scalar():
        raise NotFound(_("没有代码为 %(code)s 的%(kind)s，或不在您的范围内", code=code,
                         kind=KIND_LABELS[kind]), field=kind)
    return {"kind": kind, **found}


def _by_code(session, model, county: str, data: dict, name: str):
    code = inputs.text(data, name, 32)
    if code is None:
        return None
    row_id = session.execute(select(model.id).where(model.county_code == county,
                                                    model.code == code)).scalar()
    if row_id is None:
        raise BadInput(_("没有代码为 %(code)s 的%(what)s", code=code,
                         what=_("干部") if model is Cadre else _("单位")), field=name)
    return row_id


def _milestones(data: dict) -> list[tuple[str, date | None]]:
    """Plan steps, one per line, each optionally ending in its date: `换届选举 2027-01-31`."""
    lines = [line.strip() for line in (inputs.text(data, "milestones", LIMITS["milestones"]) or "")
             .splitlines() if line.strip()]
    if len(lines) > MAX_MILESTONES:
        raise BadInput(_("整改步骤至多 %(n)s 条", n=MAX_MILESTONES), field="milestones")
    steps = []
    for number, line in enumerate(lines, start=1):
        title, _sep, last = line.rpartition(" ")
        try:
            due = date.fromisoformat(last)
        except ValueError:
            title, due = line, None
        if len(title) > LIMITS["milestone"]:
            raise BadInput(_("第 %(n)s 条整改步骤太长，至多 %(limit)s 字", n=number,
                             limit=LIMITS["milestone"]), field="milestones")
        steps.append((title.strip(), due))
    return steps


def tag(session, actor, data: dict) -> Target:
    """挂牌: a new target with its reason, plan, steps, liaison leader, helping unit, deadline."""
    _may(actor, "manage_targets")
    now, county = clock.now(), actor.county_code
    place = _place(session, actor, data)
    open_already = session.execute(select(Target.id).where(
        Target.county_code == county, Target.kind == place["kind"], Target.status != "closed",
        Target.region_code == place["region_code"],
        Target.party_branch_id.is_not_distinct_from(place.get("party_branch_id")),
        Target.grid_code.is_not_distinct_from(place.get("grid_code")))).scalar()
    if open_already is not None:
        raise Conflict(_("该对象已挂牌（编号 %(id)s），尚未销号", id=open_already), field=place["kind"])
    due_on = inputs.day(data, "due_on", required=True)
    if due_on < now.astimezone(CHINA_TIME).date():
        raise BadInput(_("整改期限不能早于今天"), field="due_on")
    target_id = next_id(session, "target")
    target = Target(
        id=target_id, code=codes.ledger_code("target", now, target_id), county_code=county, **place,
        reason=inputs.text(data, "reason", LIMITS["reason"], required=True),
        plan=inputs.text(data, "plan", LIMITS["plan"]),
        liaison_cadre_id=_by_code(session, Cadre, county, data, "liaison"),
        helping_unit_id=_by_code(session, Unit, county, data, "helping_unit"),
        due_on=due_on, status="listed", tagged_at=now, tagged_by=actor.id)
    session.add(target)
    session.flush()
    for title, due in _milestones(data):
        session.add(TargetMilestone(county_code=county, target_id=target.id, title=title, due_on=due))
    _event(session, target, "tag", None, actor, now, note=target.reason)
    return target


def _locked(session, actor, target_id, expected_version) -> Target:
    target = get(session, actor, target_id, lock=True)
    if inputs.ident(expected_version, "version") != target.version:
        raise Conflict(_("该挂牌对象已被他人更新（现为“%(status)s”），请刷新后再试",
                         status=STATUS_LABELS[target.status]), field="version")
    return target


def _event(session, target: Target, action: str, from_status, actor, now, *, note=None,
           evidence=None) -> None:
    session.add(TargetEvent(county_code=target.county_code, target_id=target.id, action=action,
                            from_status=from_status, to_status=target.status, note=note,
                            evidence=evidence, by_user_id=actor.id, at=now))
    audit.record(session, actor, "target_change", f"target:{target.id}",
                 {"action": action, "from": from_status, "to": target.status})
    session.flush()


def _move(session, target: Target, status: str, **values) -> None:
    """Change status (and `values`) under the version lock; bumps the version."""
    done = session.execute(update(Target).where(
        Target.id == target.id, Target.version == target.version).values(
        status=status, version=Target.version + 1, **values)).rowcount
    if done != 1:  # pragma: no cover - the row is locked FOR UPDATE above
        raise Conflict(_("该挂牌对象已被他人更新，请刷新后再试"), field="version")
    session.refresh(target)


def note(session, actor, target_id, *, expected_version, text: str | None) -> Target:
    """A progress note (整改进展); no change of state."""
    _may(actor, "work_on_target")
    target = _locked(session, actor, target_id, expected_version)
    body = inputs.text({"note": text}, "note", LIMITS["note"], required=True)
    _move(session, target, target.status)
    _event(session, target, "note", target.status, actor, clock.now(), note=body)
    return target


def complete_milestone(session, actor, target_id, milestone_id, *, expected_version,
                       done_on=None) -> Target:
    """Mark one step of the plan done (on `done_on`, today by default)."""
    _may(actor, "work_on_target")
    target = _locked(session, actor, target_id, expected_version)
    if target.status == "closed":
        raise Conflict(_("已销号的对象不能再改整改步骤"), field="milestone")
    step = session.execute(select(TargetMilestone).where(
        TargetMilestone.id == inputs.ident(milestone_id, "milestone"),
        TargetMilestone.target_id == target.id)).scalar()
    if step is None:
        raise NotFound(_("这个挂牌对象没有编号为 %(id)s 的整改步骤", id=milestone_id), field="milestone")
    if step.done_on is not None:
        raise Conflict(_("整改步骤“%(title)s”已完成", title=step.title), field="milestone")
    step.done_on = inputs.day({"done_on": done_on}, "done_on", default=_today())
    _move(session, target, target.status)
    _event(session, target, "milestone", target.status, actor, clock.now(), note=step.title)
    return target


def request_close(session, actor, target_id, *, expected_version, evidence: str | None,
                  note: str | None = None) -> Target:
    """申请销号: needs evidence and every step done; the level above decides."""
    _may(actor, "work_on_target")
    target = _locked(session, actor, target_id, expected_version)
    if target.status != "listed":
        raise Conflict(_("现为“%(status)s”，只有挂牌整改中的对象可以申请销号",
                         status=STATUS_LABELS[target.status]), field="status")
    proof = inputs.text({"evidence": evidence}, "evidence", LIMITS["evidence"])
    if not proof:
        raise BadInput(_("申请销号需要写明销号依据（整改成效、会议记录、验收材料等）"),
                       field="evidence")
    undone = session.execute(select(TargetMilestone.title).where(
        TargetMilestone.target_id == target.id, TargetMilestone.done_on.is_(None)).order_by(
        TargetMilestone.id)).scalars().all()
    if undone:
        raise Conflict(_("还有整改步骤未完成：%(steps)s", steps="、".join(undone)), field="milestones")
    _move(session, target, "close_requested", close_requested_by=actor.id)
    _event(session, target, "request_close", "listed", actor, clock.now(),
           note=inputs.text({"note": note}, "note", LIMITS["note"]), evidence=proof)
    return target


def level_above(approver, asker) -> bool:
    """Is `approver` a level above `asker` (and not the same account)?

    Levels are the lengths of the scopes' region codes: county 6 < township 9 < village 12.
    A county-level request goes to another county-level account.
    """
    if approver.id == asker.id:
        return False
    mine, theirs = Scope.of_user(approver).region_code, Scope.of_user(asker).region_code
    if not mine or not theirs or not codes.is_region_code(mine):
        return False
    if len(mine) == len(codes.county_of(mine)) and theirs == mine:
        return True
    return len(mine) < len(theirs) and theirs.startswith(mine)


def decide_close(session, actor, target_id, *, expected_version, approve: bool,
                 note: str | None = None) -> Target:
    """批准 or 退回 a 销号 request, as the level above the asker (never the asker)."""
    _may(actor, "manage_targets")
    target = _locked(session, actor, target_id, expected_version)
    if target.status != "close_requested":
        raise Conflict(_("现为“%(status)s”，没有待审批的销号申请", status=STATUS_LABELS[target.status]),
                       field="status")
    asker = session.get(AppUser, target.close_requested_by)
    if asker is None or not level_above(actor, asker):
        raise Forbidden(_("销号须由申请人的上一级审批，申请人本人或同级不能批准"))
    reason = inputs.text({"note": note}, "note", LIMITS["note"], required=not approve)
    now = clock.now()
    if approve:
        _move(session, target, "closed", closed_at=now)
        _event(session, target, "approve_close", "close_requested", actor, now, note=reason)
    else:
        _move(session, target, "listed", close_requested_by=None)
        _event(session, target, "refuse_close", "close_requested", actor, now, note=reason)
    return target


def review(session, actor, target_id, *, expected_version, holds: bool, note: str | None,
           due_on=None) -> Target:
    """回头看 after 销号: the change holds (recorded), or it does not and the target is listed
    again with a new deadline (限期补课)."""
    _may(actor, "manage_targets")
    target = _locked(session, actor, target_id, expected_version)
    if target.status != "closed":
        raise Conflict(_("回头看针对已销号的对象；现为“%(status)s”", status=STATUS_LABELS[target.status]),
                       field="status")
    body = inputs.text({"note": note}, "note", LIMITS["note"], required=True)
    now = clock.now()
    if holds:
        _move(session, target, "closed")
        _event(session, target, "review", "closed", actor, now, note=body)
        return target
    new_due = inputs.day({"due_on": due_on}, "due_on", required=True)
    if new_due < now.astimezone(CHINA_TIME).date():
        raise BadInput(_("整改期限不能早于今天"), field="due_on")
    _move(session, target, "listed", closed_at=None, close_requested_by=None, due_on=new_due)
    _event(session, target, "reopen", "closed", actor, now, note=body)
    return target


def history_consistent(session, county_code: str) -> list[int]:
    """Targets whose status is not the `to_status` of their last event (should be none)."""
    last = (select(TargetEvent.target_id, TargetEvent.to_status)
            .where(TargetEvent.county_code == county_code)
            .ext(distinct_on(TargetEvent.target_id))
            .order_by(TargetEvent.target_id, TargetEvent.at.desc(), TargetEvent.id.desc())
            .subquery())
    return list(session.execute(select(Target.id).outerjoin(last, last.c.target_id == Target.id)
                                .where(Target.county_code == county_code,
                                       or_(last.c.to_status.is_(None),
                                           last.c.to_status != Target.status))).scalars())
