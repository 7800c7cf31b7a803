"""People and units of the 五包 chain: add, edit, deactivate (停用) and reactivate cadres and
units, and link a user account to a cadre. Core: no Flask.

A township's staff manage the units placed in their township and the cadres of those units
(or holding a duty there); an administrator the whole county. Codes never change once given
(they name the row in the audit log and in imports). Every change is one audit event with
who, when and the values before and after (`cadre_change`, `unit_change`), written in the
caller's transaction, so a refusal leaves nothing half-written.
"""

from __future__ import annotations

import re

from sqlalchemy import func, literal, or_, select

from gridmap import audit, handover, inputs, users
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.importers.fields import CellProblem, parse_phone
from gridmap.models import AppUser, Assignment, AuditEvent, Cadre, Issue, Region, Unit
from gridmap.policy import Scope, allowed

CODE_PATTERN = r"[0-9A-Za-z_.-]{1,32}"
UNIT_KINDS = {"agency": _("机关"), "enterprise": _("企事业单位"), "section": _("股所级单位"),
              "township": _("乡镇"), "village": _("村（社区）")}  # as the import reads them
CADRE_FIELDS = {"name": _("姓名"), "phone": _("电话"), "title": _("职务"), "unit_code": _("所在单位"),
                "active": _("在岗")}
UNIT_FIELDS = {"name": _("名称"), "kind": _("类型"), "region_code": _("所在区划"), "active": _("在用")}
PAGE = 200


def _may(actor) -> None:
    if actor is None or not allowed(actor.role, "manage_people"):
        raise Forbidden(_("您的角色无权进行此操作。"))


def unit_scope(scope: Scope):
    """SQL: units placed in the scope's region (a county-wide scope: every unit, placed or not)."""
    if scope.county_wide:
        return Unit.county_code == scope.county_code
    return (Unit.county_code == scope.county_code) & scope.in_region(
        func.coalesce(Unit.region_code, literal("")))


def cadre_scope(scope: Scope):
    """SQL: cadres the scope manages: of a unit in its region, or holding a duty there."""
    if scope.county_wide:
        return Cadre.county_code == scope.county_code
    place, _name = handover._place()
    return (Cadre.county_code == scope.county_code) & or_(
        Cadre.unit_id.in_(select(Unit.id).where(unit_scope(scope))),
        select(Assignment.id).where(
            Assignment.cadre_id == Cadre.id, Assignment.current(),
            scope.in_region(func.coalesce(place, literal("")))).exists())


def cadres(session, actor, q: str | None = None, *, inactive: bool = False) -> list:
    """(cadre, unit name) rows of the actor's scope by code; `q` a substring of name or code,
    or the name of their unit."""
    _may(actor)
    query = (select(Cadre, Unit.name).outerjoin(Unit, Unit.id == Cadre.unit_id)
             .where(cadre_scope(Scope.of_user(actor)), Cadre.active.is_(not inactive)))
    if q:
        query = query.where(or_(Cadre.name.contains(q, autoescape=True),
                                Cadre.code.contains(q, autoescape=True),
                                Unit.name.contains(q, autoescape=True)))
    return session.execute(query.order_by(Cadre.code).limit(PAGE)).all()


def units(session, actor, q: str | None = None, *, inactive: bool = False) -> list[Unit]:
    """Units of the actor's scope by code; `q` a substring of name or code."""
    _may(actor)
    query = select(Unit).where(unit_scope(Scope.of_user(actor)), Unit.active.is_(not inactive))
    if q:
        query = query.where(or_(Unit.name.contains(q, autoescape=True),
                                Unit.code.contains(q, autoescape=True)))
    return list(session.execute(query.order_by(Unit.region_code, Unit.code).limit(PAGE)).scalars())


def get_cadre(session, actor, cadre_id, *, lock: bool = False) -> Cadre:
    """The cadre, if the actor manages them; NotFound otherwise."""
    _may(actor)
    query = select(Cadre).where(Cadre.id == inputs.ident(cadre_id, "cadre"),
                                cadre_scope(Scope.of_user(actor)))
    cadre = session.execute(query.with_for_update(of=Cadre) if lock else query).scalar()
    if cadre is None:
        raise NotFound(_("没有编号为 %(id)s 的干部，或不在您的范围内", id=cadre_id), field="cadre")
    return cadre


def get_unit(session, actor, unit_id, *, lock: bool = False) -> Unit:
    """The unit, if the actor manages it; NotFound otherwise."""
    _may(actor)
    query = select(Unit).where(Unit.id == inputs.ident(unit_id, "unit"),
                               unit_scope(Scope.of_user(actor)))
    unit = session.execute(query.with_for_update() if lock else query).scalar()
    if unit is None:
        raise NotFound(_("没有编号为 %(id)s 的单位，或不在您的范围内", id=unit_id), field="unit")
    return unit


def _code(data: dict, existing_model, county: str, session) -> str:
    code = inputs.text(data, "code", 32, required=True)
    if not re.fullmatch(CODE_PATTERN, code):
        raise BadInput(_("代码只能用字母、数字和 _ . -（至多 32 位）"), field="code")
    if session.execute(select(existing_model.id).where(
            existing_model.county_code == county, existing_model.code == code)).scalar():
        raise Conflict(_("代码 %(code)s 已被使用", code=code), field="code")
    return code


def _unit_by_code(session, actor, code: str | None) -> Unit | None:
    """The unit named in a cadre form: in the actor's scope (any unit of the county for a
    county-wide account, which may also leave it empty)."""
    scope = Scope.of_user(actor)
    if not code:
        if not scope.county_wide:
            raise BadInput(_("请选择所在单位（您范围内的单位）"), field="unit_code")
        return None
    unit = session.execute(select(Unit).where(Unit.code == code, unit_scope(scope))).scalar()
    if unit is None:
        raise NotFound(_("单位 %(code)s 不存在或不在您的范围内", code=code), field="unit_code")
    if not unit.active:
        raise BadInput(_("单位 %(code)s 已停用", code=code), field="unit_code")
    return unit


def _cadre_values(session, actor, data: dict) -> dict:
    phone = inputs.text(data, "phone", 32)
    if phone:
        try:
            phone = parse_phone(phone)
        except CellProblem as problem:
            raise BadInput(problem.message, field="phone") from None
    unit = _unit_by_code(session, actor, inputs.text(data, "unit_code", 32))
    return {"name": inputs.text(data, "name", 50, required=True), "phone": phone,
            "title": inputs.text(data, "title", 100), "unit_id": unit.id if unit else None}


def _cadre_shown(session, cadre: Cadre) -> dict:
    unit = session.get(Unit, cadre.unit_id) if cadre.unit_id else None
    return {"name": cadre.name, "phone": cadre.phone, "title": cadre.title,
            "unit_code": unit.code if unit else None, "active": cadre.active}


def _record(session, actor, action: str, target: str, before: dict | None, after: dict) -> dict:
    changed = {name: [None if before is None else before.get(name), value]
               for name, value in after.items() if before is None or before.get(name) != value}
    if changed:
        audit.record(session, actor, action, target,
                     {"before": before, "after": after, "changed": sorted(changed)})
        session.flush()
    return changed


def create_cadre(session, actor, data: dict) -> Cadre:
    """A new cadre (code, name, phone, title, unit)."""
    _may(actor)
    code = _code(data, Cadre, actor.county_code, session)
    cadre = Cadre(county_code=actor.county_code, code=code, **_cadre_values(session, actor, data))
    session.add(cadre)
    session.flush()
    _record(session, actor, "cadre_change", f"cadre:{code}", None, _cadre_shown(session, cadre))
    return cadre


def edit_cadre(session, actor, cadre_id, data: dict) -> dict:
    """Change name, phone, title or unit; returns what changed (field → [before, after])."""
    cadre = get_cadre(session, actor, cadre_id, lock=True)
    if not cadre.active:
        raise Conflict(_("该干部已停用，请先恢复在岗再修改"), field="active")
    before = _cadre_shown(session, cadre)
    for name, value in _cadre_values(session, actor, data).items():
        setattr(cadre, name, value)
    session.flush()
    return _record(session, actor, "cadre_change", f"cadre:{cadre.code}", before,
                   _cadre_shown(session, cadre))


def set_cadre_active(session, actor, cadre_id, active: bool) -> dict:
    """停用 a cadre (only once nothing is held: hand over first) or bring them back."""
    cadre = get_cadre(session, actor, cadre_id, lock=True)
    if not active:
        held = session.execute(select(func.count()).where(
            Assignment.cadre_id == cadre.id, Assignment.current())).scalar()
        if held:
            raise Conflict(_("%(name)s 仍承担 %(n)s 项包保任务，请先交接", name=cadre.name, n=held),
                           field="active")
    before = _cadre_shown(session, cadre)
    cadre.active = active
    session.flush()
    return _record(session, actor, "cadre_change", f"cadre:{cadre.code}", before,
                   _cadre_shown(session, cadre))


def linked_accounts(session, cadre: Cadre) -> list[AppUser]:
    """Accounts linked to the cadre."""
    return list(session.execute(select(AppUser).where(
        AppUser.cadre_id == cadre.id, AppUser.county_code == cadre.county_code)
        .order_by(AppUser.login)).scalars())


def link_account(session, actor, cadre_id, data: dict) -> dict:
    """Link the account `login` to the cadre (what they visit and record is then theirs), or
    unlink it (`unlink`). The account must be of the actor's county and, for a township's
    staff, placed in their township; a 包户干部 account cannot be left without a cadre."""
    cadre = get_cadre(session, actor, cadre_id, lock=True)
    login = inputs.text(data, "login", 64, required=True)
    account = users.find_user(session, login)
    scope = Scope.of_user(actor)
    if account is None or account.county_code != cadre.county_code or not (
            scope.county_wide or (account.scope_code or "").startswith(scope.region_code or "-")):
        raise NotFound(_("没有账号 %(login)s，或不在您的范围内", login=login), field="login")
    unlink = data.get("unlink") in (True, "1", "on", "true")
    before = account.cadre_id
    if unlink:
        if account.cadre_id != cadre.id:
            raise BadInput(_("账号 %(login)s 没有关联到该干部", login=account.login), field="login")
        if account.role == "cadre":
            raise Conflict(_("包户干部账号必须关联一名干部；请改为关联到其他干部，或由管理员更改其角色"),
                           field="login")
        account.cadre_id = None
    else:
        if not cadre.active:
            raise Conflict(_("该干部已停用，不能关联账号"), field="login")
        account.cadre_id = cadre.id
    if account.cadre_id == before:
        return {}
    if account.role == "cadre":  # their scope (paired households) changes: sign them out
        users.end_sessions(account)
    session.flush()
    audit.record(session, actor, "cadre_change", f"cadre:{cadre.code}",
                 {"account": account.login, "before": {"cadre_id": before},
                  "after": {"cadre_id": account.cadre_id}, "changed": ["account"]})
    return {"account": [before, account.cadre_id]}


def _unit_values(session, actor, data: dict, county: str) -> dict:
    scope = Scope.of_user(actor)
    region = inputs.text(data, "region_code", 12)
    if region is None and not scope.county_wide:
        raise BadInput(_("请选择单位所在的乡镇或村（您的范围内）"), field="region_code")
    if region is not None:
        inside = session.execute(select(Region.code).where(
            Region.county_code == county, Region.code == region, Region.current(),
            scope.regions() if scope.county_wide else scope.in_region(Region.code))).scalar()
        if inside is None:
            raise NotFound(_("区划 %(code)s 不存在或不在您的范围内", code=region), field="region_code")
    return {"name": inputs.text(data, "name", 100, required=True),
            "kind": inputs.choice(data, "kind", tuple(UNIT_KINDS), ""), "region_code": region}


def _unit_shown(unit: Unit) -> dict:
    return {"name": unit.name, "kind": unit.kind, "region_code": unit.region_code,
            "active": unit.active}


def create_unit(session, actor, data: dict) -> Unit:
    """A new unit (code, name, kind, the region it is placed in)."""
    _may(actor)
    code = _code(data, Unit, actor.county_code, session)
    unit = Unit(county_code=actor.county_code, code=code,
                **_unit_values(session, actor, data, actor.county_code))
    session.add(unit)
    session.flush()
    _record(session, actor, "unit_change", f"unit:{code}", None, _unit_shown(unit))
    return unit


def edit_unit(session, actor, unit_id, data: dict) -> dict:
    """Change a unit's name, kind or region; returns what changed."""
    unit = get_unit(session, actor, unit_id, lock=True)
    if not unit.active:
        raise Conflict(_("该单位已停用，请先恢复再修改"), field="active")
    before = _unit_shown(unit)
    for name, value in _unit_values(session, actor, data, unit.county_code).items():
        setattr(unit, name, value)
    session.flush()
    return _record(session, actor, "unit_change", f"unit:{unit.code}", before, _unit_shown(unit))


def set_unit_active(session, actor, unit_id, active: bool) -> dict:
    """停用 a unit once it holds no duty, has no cadre in post and handles no open issue."""
    unit = get_unit(session, actor, unit_id, lock=True)
    if not active:
        duties = session.execute(select(func.count()).where(
            Assignment.unit_id == unit.id, Assignment.current())).scalar()
        staff = session.execute(select(func.count()).where(
            Cadre.unit_id == unit.id, Cadre.active)).scalar()
        open_issues = session.execute(select(func.count()).where(
            Issue.responsible_unit_id == unit.id,
            Issue.status.in_(handover.OPEN_STATUSES))).scalar()
        if duties or staff or open_issues:
            raise Conflict(_("该单位仍有包保任务 %(d)s 项、在岗干部 %(s)s 人、在办事项 %(i)s 件；"
                             "请先交接", d=duties, s=staff, i=open_issues), field="active")
    before = _unit_shown(unit)
    unit.active = active
    session.flush()
    return _record(session, actor, "unit_change", f"unit:{unit.code}", before, _unit_shown(unit))


def history(session, county_code: str, target: str, limit: int = 100) -> list[AuditEvent]:
    """The audit events of one cadre, unit or account (`cadre:C1`), newest first."""
    return list(session.execute(select(AuditEvent).where(
        AuditEvent.county_code == county_code, AuditEvent.target == target)
        .order_by(AuditEvent.id.desc()).limit(limit)).scalars())
