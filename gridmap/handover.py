"""交接: when a cadre is transferred, everything they hold in the 五包 chain — villages, areas,
groups (grids), branches, paired households, stationed duties — goes to someone else in one
transaction, so nothing falls into a gap; the coverage map reflects it at once, because the
gap rules read current assignments. Core: no Flask.

Each handed duty ends (valid_to = now) and starts again for the receiver (valid_from = now):
the history of who held what stays. A township's staff hand over what lies in their township.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, update

from gridmap import audit, clock, inputs
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.models import (
    Area,
    Assignment,
    Cadre,
    Grid,
    Household,
    Issue,
    PartyBranch,
    Region,
)
from gridmap.policy import Scope, allowed

KIND_LABELS = {"village": _("包村"), "area": _("包片"), "group": _("包组（网格）"),
               "branch": _("包支部"), "household": _("包户"), "first_secretary": _("驻村第一书记"),
               "work_team": _("驻村工作队")}
OPEN_STATUSES = ("reported", "triaged", "in_progress", "handled", "feedback", "long_term")


def _may(actor) -> None:
    if actor is None or not allowed(actor.role, "manage_people"):
        raise Forbidden(_("您的角色无权进行此操作。"))


def cadre_of(session, actor, cadre_id) -> Cadre:
    """A cadre whose duties the actor may hand over: one holding a duty in the actor's region
    (anyone of the county for a county-wide account). NotFound otherwise."""
    scope = Scope.of_user(actor)
    place, _name = _place()
    query = select(Cadre).where(Cadre.id == inputs.ident(cadre_id, "cadre"),
                                Cadre.county_code == actor.county_code)
    if not scope.county_wide:
        query = query.where(select(Assignment.id).where(
            Assignment.cadre_id == Cadre.id, Assignment.current(),
            scope.in_region(func.coalesce(place, literal("")))).exists())
    cadre = session.execute(query).scalar()
    if cadre is None:
        raise NotFound(_("没有编号为 %(id)s 的干部，或他在您的范围内没有包保任务", id=cadre_id),
                       field="cadre")
    return cadre


def _place():
    """SQL: the region code an assignment's target lies in (village for most, township for an
    area), and its display name."""
    village = case(
        (Assignment.kind.in_(("village", "first_secretary", "work_team")), Assignment.region_code),
        (Assignment.kind == "area", select(Area.township_code).where(
            Area.id == Assignment.area_id).scalar_subquery()),
        (Assignment.kind == "group", select(Grid.village_code).where(
            Grid.code == Assignment.grid_code, Grid.county_code == Assignment.county_code,
            Grid.current()).limit(1).scalar_subquery()),
        (Assignment.kind == "branch", select(PartyBranch.village_code).where(
            PartyBranch.id == Assignment.party_branch_id).scalar_subquery()),
        else_=select(Household.village_code).where(
            Household.id == Assignment.household_id).scalar_subquery())
    name = case(
        (Assignment.kind.in_(("village", "first_secretary", "work_team")), select(Region.name).where(
            Region.code == Assignment.region_code, Region.current()).limit(1).scalar_subquery()),
        (Assignment.kind == "area", select(Area.name).where(
            Area.id == Assignment.area_id).scalar_subquery()),
        (Assignment.kind == "group", select(Grid.name).where(
            Grid.code == Assignment.grid_code, Grid.county_code == Assignment.county_code,
            Grid.current()).limit(1).scalar_subquery()),
        (Assignment.kind == "branch", select(PartyBranch.name).where(
            PartyBranch.id == Assignment.party_branch_id).scalar_subquery()),
        else_=select(Household.code).where(
            Household.id == Assignment.household_id).scalar_subquery())
    return village, name


@dataclass(frozen=True)
class Held:
    """One duty a cadre holds now."""

    assignment_id: int
    kind: str
    target: str | None
    region_code: str | None


def holdings(session, actor, cadre: Cadre) -> list[Held]:
    """What the cadre holds now that lies in the actor's region, by kind then target."""
    place, name = _place()
    scope = Scope.of_user(actor)
    rows = session.execute(
        select(Assignment.id, Assignment.kind, name, place)
        .where(Assignment.county_code == cadre.county_code, Assignment.cadre_id == cadre.id,
               Assignment.current(), scope.in_region(func.coalesce(place, literal(""))))
        .order_by(Assignment.kind, name)).all()
    return [Held(*row) for row in rows]


def open_issues(session, actor, cadre: Cadre) -> list[tuple[str, str, str]]:
    """Open issues of the cadre's paired households (code, title, status): they follow the
    household to its new cadre, listed so the receiver knows what is waiting."""
    scope = Scope.of_user(actor)
    paired = select(Assignment.household_id).where(
        Assignment.cadre_id == cadre.id, Assignment.kind == "household", Assignment.current(),
        Assignment.county_code == cadre.county_code)
    return [tuple(row) for row in session.execute(
        select(Issue.code, Issue.title, Issue.status).where(
            Issue.household_id.in_(paired), Issue.status.in_(OPEN_STATUSES), scope.issues())
        .order_by(Issue.code).limit(500))]


def hand_over(session, actor, cadre_id, data: dict) -> dict:
    """Hand every duty the cadre holds in the actor's region to the receiver (`to`, a cadre
    code) — or per duty (`to_<assignment id>`) — in one transaction; `deactivate` then marks
    the cadre inactive when nothing is left. Returns counts: handed, already held, left."""
    _may(actor)
    cadre = cadre_of(session, actor, cadre_id)
    held = holdings(session, actor, cadre)
    if not held:
        raise Conflict(_("%(name)s 在您的范围内没有承担的包保任务", name=cadre.name), field="cadre")
    default = inputs.text(data, "to", 32)
    receivers: dict[str, Cadre] = {}
    plan = []
    for duty in held:
        code = inputs.text(data, f"to_{duty.assignment_id}", 32) or default
        if code is None:
            raise BadInput(_("请为“%(kind)s %(target)s”选择接手的干部", kind=KIND_LABELS[duty.kind],
                             target=duty.target or ""), field=f"to_{duty.assignment_id}")
        if code not in receivers:
            receiver = session.execute(select(Cadre).where(
                Cadre.county_code == cadre.county_code, Cadre.code == code)).scalar()
            if receiver is None or not receiver.active:
                raise BadInput(_("没有在岗的干部 %(code)s", code=code), field="to")
            if receiver.id == cadre.id:
                raise BadInput(_("不能交接给本人"), field="to")
            receivers[code] = receiver
        plan.append((duty, receivers[code]))
    now, handed, kept = clock.now(), 0, 0
    for duty, receiver in plan:
        old = session.get(Assignment, duty.assignment_id, with_for_update=True)
        if old is None or old.valid_to is not None:
            raise Conflict(_("交接期间分工已被他人改动，请刷新后再试"), field="cadre")
        session.execute(update(Assignment).where(Assignment.id == old.id).values(valid_to=now))
        target = {name: getattr(old, name) for name in (
            "region_code", "area_id", "grid_code", "party_branch_id", "household_id")}
        already = session.execute(select(Assignment.id).where(
            Assignment.county_code == old.county_code, Assignment.kind == old.kind,
            Assignment.cadre_id == receiver.id, Assignment.current(),
            *[getattr(Assignment, k).is_not_distinct_from(v) for k, v in target.items()])).scalar()
        if already is None:
            session.add(Assignment(county_code=old.county_code, kind=old.kind, cadre_id=receiver.id,
                                   valid_from=now, **target))
            handed += 1
        else:
            kept += 1
    session.flush()
    left = session.execute(select(func.count()).where(
        Assignment.cadre_id == cadre.id, Assignment.current())).scalar()
    if data.get("deactivate") in (True, "true", "1", "on") and left == 0:
        cadre.active = False
    audit.record(session, actor, "handover", f"cadre:{cadre.code}",
                 {"to": sorted(receivers), "handed": handed, "already_held": kept})
    session.flush()
    return {"handed": handed, "already_held": kept, "left": left, "deactivated": not cadre.active}
