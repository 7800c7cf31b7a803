"""Keeping the household register true: add a household, edit it, move it to another grid,
split a family, mark it moved out or deceased (kept, with its history, out of every active
list and count: `Scope.households()`), bring it back. Core: no Flask.

Every change writes one append-only `household_change` row — who, when, what (field →
[before, after]) — in the caller's transaction. An ID number is stored encrypted and its
history says only that it changed. Personal fields left empty in an edit stay as they are,
so an edit form need not show them unmasked.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from gridmap import audit, clock, datakey, inputs
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.importers.fields import CellProblem, parse_id_number, parse_phone
from gridmap.models import (
    RESIDENCE_TYPES,
    AppUser,
    Assignment,
    Grid,
    Household,
    HouseholdChange,
    Region,
)
from gridmap.policy import Scope, allowed

CARE_FIELDS = ("minimum_living", "extreme_poverty", "lifted_from_poverty", "relapse_monitoring",
               "left_behind_children", "left_behind_women", "left_behind_elderly", "elderly_alone")
TEXT_FIELDS = {"head_name": 50, "address": 200, "disability_category": 16}
PERSONAL = ("head_name", "phone", "id_number")  # left empty in an edit: unchanged (so is address)
LEFT_STATUSES = ("moved_out", "deceased")
ACTION_LABELS = {"create": _("登记"), "edit": _("修改"), "move": _("调整网格或位置"),
                 "split": _("分户"), "moved_out": _("迁出"), "deceased": _("户主去世销户"),
                 "reactivate": _("恢复在册")}
FIELD_LABELS = {"head_name": _("户主"), "phone": _("电话"), "id_number": _("身份证号"),
                "address": _("住址"), "size": _("人口"), "residence_type": _("户籍类型"),
                "grid_code": _("网格"), "village_code": _("村（社区）"), "position": _("位置"),
                "disability_category": _("残疾类别"), "disability_grade": _("残疾等级"),
                "minimum_living": _("低保"), "extreme_poverty": _("特困"),
                "lifted_from_poverty": _("脱贫户"), "relapse_monitoring": _("监测户"),
                "left_behind_children": _("留守儿童"), "left_behind_women": _("留守妇女"),
                "left_behind_elderly": _("留守老人"), "elderly_alone": _("空巢/独居"),
                "status": _("状态"), "left_on": _("销户日期"), "code": _("户编码")}
TRUE = ("true", "1", "on", "yes", True)


def _may(actor) -> None:
    if actor is None or not allowed(actor.role, "edit_households"):
        raise Forbidden(_("您的角色无权进行此操作。"))


def _today() -> date:
    return clock.now().astimezone(CHINA_TIME).date()


def get(session, actor, household_id, *, lock: bool = False) -> Household:
    """The household (on the register or not), if in the actor's scope; NotFound otherwise."""
    query = select(Household).where(
        Household.id == inputs.ident(household_id, "household"),
        Scope.of_user(actor).households(including_left=True))
    if lock:
        query = query.with_for_update()
    household = session.execute(query.execution_options(populate_existing=True)).scalar()
    if household is None:
        raise NotFound(_("没有编号为 %(id)s 的户，或不在您的范围内", id=household_id),
                       field="household")
    return household


def _personal(data: dict, name: str) -> str | None:
    value = inputs.text(data, name, 50)
    if value is None or name == "head_name":
        return value
    try:
        return parse_phone(value) if name == "phone" else parse_id_number(value)
    except CellProblem as problem:
        raise BadInput(problem.message, field=name) from None


def _size(data: dict) -> int | None:
    if data.get("size") in (None, ""):
        return None
    size = inputs.count(data, "size", high=99)
    if size < 1:
        raise BadInput(_("人口应在 1 到 99 之间"), field="size")
    return size


def _fields(data: dict, *, creating: bool) -> dict:
    """The columns an add or edit form sets (personal ones only when typed)."""
    values = {}
    for name in PERSONAL:
        value = _personal(data, name)
        if value is not None:
            values[name] = datakey.encrypt_id_number(value) if name == "id_number" else value
    if creating and "head_name" not in values:
        raise BadInput(_("请填写 %(field)s", field="head_name"), field="head_name")
    for name, limit in TEXT_FIELDS.items():
        if name != "head_name" and name in data:
            value = inputs.text(data, name, limit)
            if value is not None or creating or name != "address":  # an address left empty stays
                values[name] = value
    if data.get("size") not in (None, "") or creating:
        values["size"] = _size(data)
    if "residence_type" in data or creating:
        values["residence_type"] = inputs.choice(data, "residence_type", RESIDENCE_TYPES, "registered")
    if data.get("disability_grade") not in (None, ""):
        grade = inputs.count(data, "disability_grade", high=4)
        if grade < 1:
            raise BadInput(_("残疾等级应是 1 到 4 级"), field="disability_grade")
        values["disability_grade"] = grade
    elif "disability_grade" in data:
        values["disability_grade"] = None
    if creating or "care" in data or any(name in data for name in CARE_FIELDS):
        for name in CARE_FIELDS:
            values[name] = data.get(name) in TRUE
    return values


def _shown(name: str, value):
    """A value as the history keeps it (an ID number never; dates as text)."""
    if name == "id_number":
        return "***"
    return value.isoformat() if isinstance(value, date) else value


def _record(session, actor, household: Household, action: str, changes: dict,
            note: str | None = None) -> None:
    session.add(HouseholdChange(county_code=household.county_code, household_id=household.id,
                                action=action, changes=changes, note=note, by_user_id=actor.id,
                                at=clock.now()))
    audit.record(session, actor, "household_change", f"household:{household.code}",
                 {"action": action, "fields": sorted(changes)})
    session.flush()


def _apply(session, actor, household: Household, values: dict, action: str,
           note: str | None = None) -> dict:
    changes = {name: [_shown(name, getattr(household, name)), _shown(name, value)]
               for name, value in values.items() if getattr(household, name) != value}
    if not changes:
        return changes
    for name, value in values.items():
        setattr(household, name, value)
    _record(session, actor, household, action, changes, note)
    return changes


def _grid_of(session, scope: Scope, county: str, grid_code: str | None, point: str | None):
    """(grid code, village code) for a household: the grid named (in scope), else the current
    grid covering the point (in scope); (None, None) when neither says."""
    if grid_code:
        village = session.execute(select(Grid.village_code).where(
            Grid.county_code == county, Grid.code == grid_code, Grid.current(),
            scope.grids())).scalar()
        if village is None:
            raise NotFound(_("网格 %(code)s 不存在或不在您的范围内", code=grid_code), field="grid_code")
        return grid_code, village
    if point:
        found = session.execute(select(Grid.code, Grid.village_code).where(
            Grid.county_code == county, Grid.current(), scope.grids(),
            func.ST_Covers(Grid.geom, func.ST_GeomFromEWKT(point))).limit(1)).first()
        if found is not None:
            return found.code, found.village_code
    return None, None


def create(session, actor, data: dict) -> Household:
    """A new household: in a grid of the actor's scope (named, or found from its position) or
    in a village of it; the code given or the next free one of the village."""
    _may(actor)
    scope, county = Scope.of_user(actor), actor.county_code
    point = inputs.point(data)
    grid_code, village = _grid_of(session, scope, county, inputs.text(data, "grid_code", 24), point)
    if village is None:
        village = inputs.text(data, "village_code", 12, required=True)
        inside = session.execute(select(Region.code).where(
            Region.county_code == county, Region.code == village, Region.level == "village",
            Region.current(), scope.in_region(Region.code))).scalar()
        if inside is None:
            raise NotFound(_("村（社区）%(code)s 不存在或不在您的范围内", code=village),
                           field="village_code")
    code = inputs.text(data, "code", 32) or _next_code(session, county, village)
    if session.execute(select(Household.id).where(Household.county_code == county,
                                                  Household.code == code)).scalar():
        raise Conflict(_("户编码 %(code)s 已被使用", code=code), field="code")
    values = _fields(data, creating=True)
    household = Household(county_code=county, code=code, grid_code=grid_code, village_code=village,
                          geom=point, **values)
    session.add(household)
    session.flush()
    _record(session, actor, household, "create",
            {name: [None, _shown(name, value)] for name, value in
             {"code": code, "grid_code": grid_code, "village_code": village, **values}.items()
             if value not in (None, False)})
    return household


def _next_code(session, county: str, village: str) -> str:
    taken = session.execute(select(func.count()).where(
        Household.county_code == county, Household.code.startswith(village + "N"))).scalar()
    return f"{village}N{taken + 1:04d}"


def edit(session, actor, household_id, data: dict) -> dict:
    """Change what the form sets; returns the changes (empty when nothing changed)."""
    _may(actor)
    household = get(session, actor, household_id, lock=True)
    if household.status != "active":
        raise Conflict(_("该户已销户，请先恢复在册再修改"), field="status")
    return _apply(session, actor, household, _fields(data, creating=False), "edit",
                  inputs.text(data, "note", 500))


def move(session, actor, household_id, data: dict) -> dict:
    """Another grid (named, or found from a new position picked on the map or by GPS)."""
    _may(actor)
    household = get(session, actor, household_id, lock=True)
    if household.status != "active":
        raise Conflict(_("该户已销户，请先恢复在册再修改"), field="status")
    point = inputs.point(data)
    grid_code, village = _grid_of(session, Scope.of_user(actor), household.county_code,
                                  inputs.text(data, "grid_code", 24), point)
    if grid_code is None and point is None:
        raise BadInput(_("请选择新的网格，或在地图上点出新位置"), field="grid_code")
    values = {"grid_code": grid_code, **({"village_code": village} if village else {})}
    changes = {name: [getattr(household, name), value] for name, value in values.items()
               if getattr(household, name) != value}
    if point is not None:
        before = session.execute(select(func.ST_AsText(Household.geom)).where(
            Household.id == household.id)).scalar()
        changes["position"] = [before, point.split(";", 1)[1]]
        household.geom = point
    if changes:
        for name, value in values.items():
            setattr(household, name, value)
        _record(session, actor, household, "move", changes, inputs.text(data, "note", 500))
    return changes


def mark_left(session, actor, household_id, data: dict) -> Household:
    """迁出 or 销户 (deceased) from a date: off every active list; its 包户 duty ends."""
    _may(actor)
    household = get(session, actor, household_id, lock=True)
    if household.status != "active":
        raise Conflict(_("该户已经销户"), field="status")
    status = inputs.choice(data, "status", LEFT_STATUSES, "")
    left_on = inputs.day(data, "left_on", default=_today())
    if left_on > _today():
        raise BadInput(_("销户日期不能晚于今天"), field="left_on")
    note = inputs.text(data, "note", 500, required=True)
    now = clock.now()
    ended = session.execute(update(Assignment).where(
        Assignment.county_code == household.county_code, Assignment.household_id == household.id,
        Assignment.current()).values(valid_to=now)).rowcount
    _apply(session, actor, household, {"status": status, "left_on": left_on}, status,
           note + (f"（结束包户关系 {ended} 条）" if ended else ""))
    return household


def reactivate(session, actor, household_id, data: dict) -> Household:
    """Back on the register (a mistaken 迁出, or the family came back)."""
    _may(actor)
    household = get(session, actor, household_id, lock=True)
    if household.status == "active":
        raise Conflict(_("该户在册，无需恢复"), field="status")
    _apply(session, actor, household, {"status": "active", "left_on": None}, "reactivate",
           inputs.text(data, "note", 500, required=True))
    return household


def split(session, actor, household_id, data: dict) -> Household:
    """分户: part of a family becomes a household of its own (its head, its size taken from the
    old one's), in the same grid unless another is named; both histories say so."""
    _may(actor)
    old = get(session, actor, household_id, lock=True)
    if old.status != "active":
        raise Conflict(_("该户已销户，不能分户"), field="status")
    size = _size(data)
    if size is None:
        raise BadInput(_("请填写分出的人口"), field="size")
    if old.size is not None and size >= old.size:
        raise BadInput(_("分出的人口（%(n)s）应少于原户人口（%(total)s）", n=size, total=old.size),
                       field="size")
    new = create(session, actor, {
        "grid_code": data.get("grid_code") or old.grid_code or "",
        "village_code": old.village_code, "head_name": data.get("head_name"),
        "phone": data.get("phone"), "address": data.get("address") or old.address,
        "size": str(size), "residence_type": old.residence_type,
        "lon": data.get("lon"), "lat": data.get("lat")})
    _record(session, actor, new, "split", {"from": [None, old.code]})
    if old.size is not None:
        _apply(session, actor, old, {"size": old.size - size}, "split", f"分出 {new.code}")
    else:
        _record(session, actor, old, "split", {"into": [None, new.code]})
    return new


def history(session, actor, household: Household) -> list[dict]:
    """The household's changes, oldest first, with who made them."""
    rows = session.execute(
        select(HouseholdChange, func.coalesce(AppUser.display_name, AppUser.login))
        .outerjoin(AppUser, AppUser.id == HouseholdChange.by_user_id)
        .where(HouseholdChange.household_id == household.id,
               HouseholdChange.county_code == household.county_code)
        .order_by(HouseholdChange.at, HouseholdChange.id)).all()
    return [{"change": change, "by": by} for change, by in rows]
