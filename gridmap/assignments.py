"""Assigning and ending single 五包 duties and stationed duties, with dates. Core: no Flask.

    assign(session, actor, {"kind": "household", "cadre_code": "C1", "household_id": "7"})
    end(session, actor, assignment_id, {"ended_on": "2026-11-20", "note": "调离"})

Who may hold what is the importers' rule (gridmap.importers.specs.ASSIGNEE_BY_KIND: a unit
cannot 包户, a cadre cannot 包片). The target must lie in the actor's region; the holder may
be any cadre or unit of the county in post (county cadres pair with village households).
Coverage reads current assignments, so a gap opens or closes with the commit. Every change
is an `assignment_change` audit event (before/after) in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import false, func, insert, literal, select, text, true, update

from gridmap import audit, clock, handover, inputs
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.importers.specs import ASSIGNEE_BY_KIND
from gridmap.models import Area, Assignment, Cadre, Grid, Household, PartyBranch, Region, Unit
from gridmap.policy import Scope, allowed

KIND_LABELS = handover.KIND_LABELS
HOLDER = {kind: column.removesuffix("_code") for kind, column in ASSIGNEE_BY_KIND.items()}
KINDS = tuple(ASSIGNEE_BY_KIND)
TARGET_LABELS = {"village": _("村（社区）代码"), "first_secretary": _("村（社区）代码"),
                 "work_team": _("村（社区）代码"), "area": _("片区代码"), "group": _("网格代码"),
                 "branch": _("支部代码"), "household": _("户编码")}


def _may(actor) -> None:
    if actor is None or not allowed(actor.role, "manage_people"):
        raise Forbidden(_("您的角色无权进行此操作。"))


def _everywhere(scope: Scope):
    return true() if scope.county_wide else false()


def _placed_in(scope: Scope, place):
    """SQL: a duty whose target lies in the scope's region (every duty, county-wide)."""
    return scope.in_region(func.coalesce(place, literal(""))) | _everywhere(scope)


def _today() -> date:
    return clock.now().astimezone(CHINA_TIME).date()


def _holder(session, county: str, kind: str, data: dict) -> dict:
    """{'cadre_id': …} or {'unit_id': …}: the one the kind calls for, in post."""
    wanted = HOLDER[kind]
    other = "unit" if wanted == "cadre" else "cadre"
    if inputs.text(data, f"{other}_code", 32) and not inputs.text(data, f"{wanted}_code", 32):
        raise BadInput(_("%(kind)s 应由%(who)s承担（一个单位不能包户，一名干部不能包片）",
                         kind=KIND_LABELS[kind],
                         who=_("干部个人") if wanted == "cadre" else _("单位")),
                       field=f"{wanted}_code")
    code = inputs.text(data, f"{wanted}_code", 32, required=True)
    model = Cadre if wanted == "cadre" else Unit
    row = session.execute(select(model).where(model.county_code == county,
                                              model.code == code)).scalar()
    if row is None or not row.active:
        raise NotFound(_("没有在岗的干部 %(code)s", code=code) if wanted == "cadre"
                       else _("没有在用的单位 %(code)s", code=code), field=f"{wanted}_code")
    return {f"{wanted}_id": row.id}


def _target(session, scope: Scope, kind: str, data: dict) -> dict:
    """The target columns of the kind from `target` (the code of the village, 片, grid,
    branch or household), checked to lie in the scope."""
    code = inputs.text(data, "target", 32, required=True)
    county = scope.county_code
    if kind == "household":
        found = session.execute(select(Household.id).where(
            Household.code == code, scope.households())).scalar()
        column = "household_id"
    elif kind == "group":
        found = session.execute(select(Grid.code).where(
            Grid.county_code == county, Grid.code == code, Grid.current(), scope.grids())).scalar()
        column = "grid_code"
    elif kind == "area":
        found = session.execute(select(Area.id).where(
            Area.county_code == county, Area.code == code,
            scope.in_region(Area.township_code) | _everywhere(scope))).scalar()
        column = "area_id"
    elif kind == "branch":
        found = session.execute(select(PartyBranch.id).where(
            PartyBranch.county_code == county, PartyBranch.code == code,
            scope.in_region(PartyBranch.village_code))).scalar()
        column = "party_branch_id"
    else:
        found = session.execute(select(Region.code).where(
            Region.county_code == county, Region.code == code, Region.level == "village",
            Region.current(), scope.in_region(Region.code))).scalar()
        column = "region_code"
    if found is None:
        raise NotFound(_("%(kind)s 的对象 %(code)s 不存在、已销户或不在您的范围内",
                         kind=KIND_LABELS[kind], code=code), field="target")
    return {column: found}


def _start(data: dict):
    started = inputs.day(data, "started_on", default=_today())
    if started > _today():
        raise BadInput(_("开始日期不能晚于今天"), field="started_on")
    return clock.now() if started == _today() else inputs.day_start(started)


def assign(session, actor, data: dict) -> Assignment:
    """A new current duty: `kind`, its holder (`cadre_code` or `unit_code`), its target and
    `started_on` (today unless earlier)."""
    _may(actor)
    kind = inputs.choice(data, "kind", KINDS, "")
    scope = Scope.of_user(actor)
    holder = _holder(session, actor.county_code, kind, data)
    target = _target(session, scope, kind, data)
    columns = {"cadre_id": None, "unit_id": None, "region_code": None, "area_id": None,
               "grid_code": None, "party_branch_id": None, "household_id": None,
               **holder, **target}
    held = session.execute(select(Assignment.id).where(
        Assignment.county_code == actor.county_code, Assignment.kind == kind, Assignment.current(),
        *[getattr(Assignment, name).is_not_distinct_from(value)
          for name, value in columns.items()])).scalar()
    if held is not None:
        raise Conflict(_("已有这项包保任务"), field=f"{HOLDER[kind]}_code")
    duty = Assignment(county_code=actor.county_code, kind=kind, valid_from=_start(data),
                      **{name: value for name, value in columns.items() if value is not None})
    session.add(duty)
    session.flush()
    _record(session, actor, duty, None)
    return duty


def get(session, actor, assignment_id, *, lock: bool = False) -> Assignment:
    """A current duty whose target lies in the actor's region; NotFound otherwise."""
    _may(actor)
    place, _name = handover._place()
    scope = Scope.of_user(actor)
    query = select(Assignment).where(
        Assignment.id == inputs.ident(assignment_id, "assignment"),
        Assignment.county_code == actor.county_code, Assignment.current(),
        _placed_in(scope, place))
    duty = session.execute(query.with_for_update(of=Assignment) if lock else query).scalar()
    if duty is None:
        raise NotFound(_("没有编号为 %(id)s 的现行包保任务，或不在您的范围内", id=assignment_id),
                       field="assignment")
    return duty


def end(session, actor, assignment_id, data: dict) -> Assignment:
    """End a current duty on `ended_on` (today unless earlier, and after it began)."""
    duty = get(session, actor, assignment_id, lock=True)
    ended = inputs.day(data, "ended_on", default=_today())
    if ended > _today():
        raise BadInput(_("结束日期不能晚于今天"), field="ended_on")
    at = clock.now() if ended == _today() else inputs.day_start(ended)
    if at <= duty.valid_from:
        raise BadInput(_("结束日期应晚于开始日期 %(day)s",
                         day=duty.valid_from.astimezone(CHINA_TIME).date().isoformat()),
                       field="ended_on")
    before = _shown(session, duty)
    duty.valid_to = at
    session.flush()
    _record(session, actor, duty, before, inputs.text(data, "note", 200))
    return duty


def _record(session, actor, duty: Assignment, before: dict | None, note: str | None = None):
    """The change in the audit log, under the holder (`cadre:C1`, `unit:U1`): their history."""
    after = _shown(session, duty)
    holder = "cadre" if duty.cadre_id else "unit"
    audit.record(session, actor, "assignment_change", f"{holder}:{after['holder']}",
                 {"assignment": duty.id, "kind": duty.kind, "before": before, "after": after,
                  "note": note})


def _shown(session, duty: Assignment) -> dict:
    holder = (session.get(Cadre, duty.cadre_id).code if duty.cadre_id
              else session.get(Unit, duty.unit_id).code)
    target = (duty.region_code or duty.grid_code
              or (duty.area_id and session.get(Area, duty.area_id).code)
              or (duty.party_branch_id and session.get(PartyBranch, duty.party_branch_id).code)
              or (duty.household_id and session.get(Household, duty.household_id).code))
    return {"holder": holder, "target": target,
            "from": duty.valid_from.astimezone(CHINA_TIME).date().isoformat(),
            "to": duty.valid_to and duty.valid_to.astimezone(CHINA_TIME).date().isoformat()}


@dataclass(frozen=True)
class Duty:
    """A current duty as a page lists it."""

    assignment_id: int
    kind: str
    holder_code: str
    holder_name: str
    target: str | None
    started: date


def duties(session, actor, *, cadre: Cadre | None = None, unit: Unit | None = None,
           **target) -> list[Duty]:
    """Current duties in the actor's region: of a cadre or unit, or on one target
    (household_id=…, grid_code=…, region_code=…), by kind."""
    _may(actor)
    place, name = handover._place()
    scope = Scope.of_user(actor)
    holder_code = func.coalesce(Cadre.code, Unit.code)
    holder_name = func.coalesce(Cadre.name, Unit.name)
    query = (select(Assignment.id, Assignment.kind, holder_code, holder_name, name,
                    Assignment.valid_from)
             .outerjoin(Cadre, Cadre.id == Assignment.cadre_id)
             .outerjoin(Unit, Unit.id == Assignment.unit_id)
             .where(Assignment.county_code == actor.county_code, Assignment.current(),
                    _placed_in(scope, place)))
    if cadre is not None:
        query = query.where(Assignment.cadre_id == cadre.id)
    if unit is not None:
        query = query.where(Assignment.unit_id == unit.id)
    for column, value in target.items():
        query = query.where(getattr(Assignment, column) == value)
    rows = session.execute(query.order_by(Assignment.kind, name).limit(1000)).all()
    return [Duty(row[0], row[1], row[2], row[3], row[4],
                 row[5].astimezone(CHINA_TIME).date()) for row in rows]


# --- a grid merged away -----------------------------------------------------------------------

@dataclass(frozen=True)
class Followed:
    """A 包组 duty on a grid merged away: inherited by the surviving grid (`after`, its code),
    or ended because that grid already has a 包组 unit (`after` None)."""

    unit_code: str
    unit_name: str
    before: str
    after: str | None


def follow_merged_grid(connection, actor, county_code: str, gone: str, keeper: str) -> list[Followed]:
    """包组 duties on the grid `gone`, merged into `keeper`, end now. When `keeper` has no 包组
    unit it inherits them (each starts again on it, as a township secretary expects: the unit
    that looked after the land still does); when it has one they stay ended, listed for the
    township to place the unit anew. Each change is an `assignment_change` audit event in the
    unit's history. On a Connection: the grid editor's savepoint (a preview rolls it back)."""
    duty = Assignment.__table__
    now = clock.now()
    current = duty.c.valid_to.is_(None)
    keeper_held = connection.execute(select(duty.c.id).where(
        duty.c.county_code == county_code, duty.c.kind == "group", duty.c.grid_code == keeper,
        current).limit(1)).first() is not None
    ended = connection.execute(
        update(duty).where(duty.c.county_code == county_code, duty.c.kind == "group",
                           duty.c.grid_code == gone, current)
        # a duty started later today than the pinned clock still ends after it began
        .values(valid_to=func.greatest(now, duty.c.valid_from + text("interval '1 second'")))
        .returning(duty.c.id, duty.c.unit_id, duty.c.valid_from, duty.c.valid_to)).all()
    followed = []
    note = f"{gone} → {keeper}"
    for assignment_id, unit_id, started, stopped in sorted(ended, key=lambda row: row[0]):
        code, name = connection.execute(select(Unit.code, Unit.name).where(Unit.id == unit_id)).one()
        _record_change(connection, actor, assignment_id, code, gone, started, None, stopped, note)
        after = None
        if not keeper_held:
            new_id = connection.execute(insert(duty).values(
                county_code=county_code, kind="group", unit_id=unit_id, grid_code=keeper,
                valid_from=stopped).returning(duty.c.id)).scalar_one()
            _record_change(connection, actor, new_id, code, keeper, stopped, None, None, note,
                           started_here=True)
            after = keeper
        followed.append(Followed(code, name, gone, after))
    return followed


def _record_change(connection, actor, assignment_id: int, unit_code: str, grid_code: str,
                   started, before_end, after_end, note: str, *, started_here: bool = False) -> None:
    """A 包组 duty's change in the audit log, shaped as `_record` writes it (its history)."""
    def day(moment):
        return moment and moment.astimezone(CHINA_TIME).date().isoformat()

    shown = {"holder": unit_code, "target": grid_code, "from": day(started)}
    audit.record(connection, actor, "assignment_change", f"unit:{unit_code}", {
        "assignment": assignment_id, "kind": "group",
        "before": None if started_here else {**shown, "to": day(before_end)},
        "after": {**shown, "to": day(after_end)}, "note": note}, county_code=actor.county_code)
