"""People and units pages (干部, 单位) and the 包保 duties of a cadre, a unit, a household, a
grid or a village: add, edit, 停用, link an account, assign and end duties. Township staff and
administrators, within their region.

Thin views over gridmap.people and gridmap.assignments: one core call and a commit; a refusal
renders the same page again (422) with the message beside the field it names.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from gridmap import assignments, audit, handover, people, register
from gridmap.errors import N_, GridmapError, NotFound
from gridmap.models import Cadre, Grid, Region, Unit
from gridmap.web.errors import text_of
from gridmap.web.forms import attempt, attempt_or_flash, chosen, refusal, status
from gridmap.web.guard import current_scope, requires
from gridmap.web.session import db_session

bp = Blueprint("people", __name__)
CADRE_KINDS = tuple(k for k, who in assignments.HOLDER.items() if who == "cadre")
UNIT_KINDS = tuple(k for k, who in assignments.HOLDER.items() if who == "unit")
TARGET_KINDS = {"household": ("household",), "grid": ("group",),
                "village": ("village", "first_secretary", "work_team")}


def _private(body, code: int = 200):
    response = make_response(body, code)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _render(template: str, error: GridmapError | None = None, http_status: int | None = None,
            **context):
    """A page of this blueprint, with the form's refusal beside its field (422 unless
    `http_status` says otherwise)."""
    return _private(render_template(
        template, **refusal(error), form=request.form if error else {},
        kind_labels=assignments.KIND_LABELS, target_labels=assignments.TARGET_LABELS,
        audit_labels=audit.ACTIONS, unit_kinds=people.UNIT_KINDS, **context),
        http_status or status(error))


def _whole_request(refused: GridmapError) -> bool:
    """A refusal of the whole request (no right, or the record itself not found) goes to the
    error handler; any other comes back on the page beside the field it names."""
    return refused.status == 403 or (refused.status == 404 and refused.field in (
        "cadre", "unit", "assignment"))


def _act_on_record(actions: dict, record_id: int, page, endpoint: str, id_name: str):
    """One form of a cadre's or a unit's page: `action` picks the core call of `actions`
    (session, record id, form → what changed); done, say so and go back to the page; refused,
    the page again with the refusal."""
    session = db_session()
    changed, refused = attempt(session, lambda: chosen(actions, request.form.get("action"))(
        session, record_id, request.form.to_dict()), _whole_request)
    if refused:
        return page(record_id, refused)
    flash(_("已保存") if changed else _("没有改动"), "info")
    return redirect(url_for(endpoint, **{id_name: record_id}))


def _add_record(create, page, added, endpoint: str, id_name: str):
    """The add form of a list page: `create` (session, actor, form → the new record); done, say
    `added(code)` and open its page; refused, the list again with the refusal."""
    session = db_session()
    record, refused = attempt(session, lambda: create(session, current_user, request.form.to_dict()),
                              _whole_request)
    if refused:
        return page(refused)
    flash(added(record.code), "info")
    return redirect(url_for(endpoint, **{id_name: record.id}))


def _filters() -> dict:
    """A list page's search: `q` (part of a name or code) and `inactive` (those 停用 instead)."""
    return {"q": (request.args.get("q") or "").strip()[:50],
            "inactive": request.args.get("inactive") == "1"}


def _units_choice(session) -> list:
    return session.execute(select(Unit.code, Unit.name).where(
        people.unit_scope(current_scope()), Unit.active).order_by(Unit.code).limit(1000)).all()


def _holders(session) -> dict:
    """Cadres and units in post of the county, for the holder pickers (one list, as handover)."""
    county = current_user.county_code
    return {"cadre_choices": session.execute(select(Cadre.code, Cadre.name).where(
                Cadre.county_code == county, Cadre.active).order_by(Cadre.code).limit(2000)).all(),
            "unit_choices": session.execute(select(Unit.code, Unit.name).where(
                Unit.county_code == county, Unit.active).order_by(Unit.code).limit(1000)).all()}


# --- cadres -----------------------------------------------------------------------------------

def _cadres_page(error=None):
    session, wanted = db_session(), _filters()
    return _render("people/cadres.html", error, **wanted,
                   rows=people.cadres(session, current_user, wanted["q"], inactive=wanted["inactive"]),
                   units=_units_choice(session), county_wide=current_scope().county_wide)


@bp.route("/people", endpoint="cadres")
@requires("manage_people")
def cadres_page():
    """干部: the cadres of the user's region (by name, code or unit), and a form to add one."""
    return _cadres_page()


@bp.route("/people", methods=["POST"], endpoint="add_cadre")
@requires("manage_people")
def add_cadre_page():
    """Add a cadre."""
    return _add_record(people.create_cadre, _cadres_page,
                       lambda code: _("已新增干部 %(code)s", code=code), "people.cadre", "cadre_id")


def _cadre_page(cadre_id: int, error=None):
    session = db_session()
    cadre = people.get_cadre(session, current_user, cadre_id)
    unit = session.get(Unit, cadre.unit_id) if cadre.unit_id else None
    return _render("people/cadre.html", error, cadre=cadre, unit=unit,
                   units=_units_choice(session), accounts=people.linked_accounts(session, cadre),
                   duties=assignments.duties(session, current_user, cadre=cadre),
                   kinds=CADRE_KINDS, back=f"cadre:{cadre.id}",
                   history=people.history(session, cadre.county_code, f"cadre:{cadre.code}"),
                   field_labels=people.CADRE_FIELDS)


@bp.route("/people/<int:cadre_id>", endpoint="cadre")
@requires("manage_people")
def cadre_page(cadre_id: int):
    """A cadre: facts, duties (end one, assign one, hand all over), linked accounts, 历史记录."""
    return _cadre_page(cadre_id)


CADRE_ACTIONS = {
    "edit": lambda s, cadre_id, form: people.edit_cadre(s, current_user, cadre_id, form),
    "deactivate": lambda s, cadre_id, form: people.set_cadre_active(s, current_user, cadre_id, False),
    "reactivate": lambda s, cadre_id, form: people.set_cadre_active(s, current_user, cadre_id, True),
    "link": lambda s, cadre_id, form: people.link_account(s, current_user, cadre_id, form),
}


@bp.route("/people/<int:cadre_id>", methods=["POST"], endpoint="change_cadre")
@requires("manage_people")
def change_cadre_page(cadre_id: int):
    """One of the cadre page's forms (`action`: edit, deactivate, reactivate, link)."""
    people.get_cadre(db_session(), current_user, cadre_id)  # out of scope: not found, whatever asked
    return _act_on_record(CADRE_ACTIONS, cadre_id, _cadre_page, "people.cadre", "cadre_id")


# the former address stays in service for bookmarks: the same view, the same scope
@bp.route("/cadres/<int:cadre_id>/handover", methods=["GET", "POST"], endpoint="handover")
@bp.route("/people/<int:cadre_id>/handover", methods=["GET", "POST"], endpoint="handover")
@requires("manage_people")
def handover_page(cadre_id: int):
    """交接: everything the cadre holds in the user's region, and who takes each over."""
    session = db_session()
    cadre = handover.cadre_of(session, current_user, cadre_id)
    if request.method == "POST":
        done, ok = attempt_or_flash(
            session, lambda: handover.hand_over(session, current_user, cadre_id, request.form.to_dict()),
            raises=lambda refused: False)  # every refusal is about the receivers chosen
        if not ok:
            return redirect(url_for("people.handover", cadre_id=cadre_id))
        flash(_("已交接 %(n)s 项（接手人原已承担 %(k)s 项）", n=done["handed"],
                k=done["already_held"]), "info")
        return redirect(url_for("people.cadres", q=cadre.code, inactive="1" if done["deactivated"] else None))
    receivers = session.execute(select(Cadre.code, Cadre.name, Cadre.title).where(
        Cadre.county_code == cadre.county_code, Cadre.active, Cadre.id != cadre.id)
        .order_by(Cadre.code).limit(2000)).all()
    return _private(render_template(
        "people/handover.html", cadre=cadre, held=handover.holdings(session, current_user, cadre),
        issues=handover.open_issues(session, current_user, cadre), receivers=receivers,
        kinds=handover.KIND_LABELS))


@bp.route("/cadres", endpoint="old_cadres")
@requires("manage_people")
def old_cadres_page():
    """The former county-wide 干部与交接 list: now /people, scoped like every people page."""
    return redirect(url_for("people.cadres", q=request.args.get("q") or None))


# --- units ------------------------------------------------------------------------------------

def _regions(session) -> list:
    scope = current_scope()
    return session.execute(select(Region.code, Region.name).where(
        Region.county_code == scope.county_code, Region.current(), Region.level != "county",
        scope.in_region(Region.code)).order_by(Region.code).limit(1000)).all()


def _units_page(error=None):
    session, wanted = db_session(), _filters()
    return _render("people/units.html", error, **wanted,
                   rows=people.units(session, current_user, wanted["q"], inactive=wanted["inactive"]),
                   regions=_regions(session), county_wide=current_scope().county_wide)


@bp.route("/units", endpoint="units")
@requires("manage_people")
def units_page():
    """单位: the units placed in the user's region, and a form to add one."""
    return _units_page()


@bp.route("/units", methods=["POST"], endpoint="add_unit")
@requires("manage_people")
def add_unit_page():
    """Add a unit."""
    return _add_record(people.create_unit, _units_page,
                       lambda code: _("已新增单位 %(code)s", code=code), "people.unit", "unit_id")


def _unit_page(unit_id: int, error=None):
    session = db_session()
    unit = people.get_unit(session, current_user, unit_id)
    staff = session.execute(select(Cadre).where(Cadre.unit_id == unit.id, Cadre.active)
                            .order_by(Cadre.code).limit(500)).scalars().all()
    return _render("people/unit.html", error, unit=unit, regions=_regions(session), staff=staff,
                   duties=assignments.duties(session, current_user, unit=unit), kinds=UNIT_KINDS,
                   back=f"unit:{unit.id}", county_wide=current_scope().county_wide,
                   history=people.history(session, unit.county_code, f"unit:{unit.code}"),
                   field_labels=people.UNIT_FIELDS)


@bp.route("/units/<int:unit_id>", endpoint="unit")
@requires("manage_people")
def unit_page(unit_id: int):
    """A unit: facts, its cadres, its duties (end one, assign one), 历史记录."""
    return _unit_page(unit_id)


UNIT_ACTIONS = {
    "edit": lambda s, unit_id, form: people.edit_unit(s, current_user, unit_id, form),
    "deactivate": lambda s, unit_id, form: people.set_unit_active(s, current_user, unit_id, False),
    "reactivate": lambda s, unit_id, form: people.set_unit_active(s, current_user, unit_id, True),
}


@bp.route("/units/<int:unit_id>", methods=["POST"], endpoint="change_unit")
@requires("manage_people")
def change_unit_page(unit_id: int):
    """One of the unit page's forms (`action`: edit, deactivate, reactivate)."""
    people.get_unit(db_session(), current_user, unit_id)
    return _act_on_record(UNIT_ACTIONS, unit_id, _unit_page, "people.unit", "unit_id")


# --- duties on a household, a grid, a village -------------------------------------------------

def _target_of(place: str, code: str) -> tuple[dict, str]:
    """The duties filter and the display name of a household, grid or village of the scope."""
    session, scope = db_session(), current_scope()
    if place == "household":
        household = register.get(session, current_user, code if code.isdigit() else 0)
        return {"household_id": household.id}, household.code
    if place == "grid":
        name = session.execute(select(Grid.name).where(
            Grid.code == code, Grid.current(), scope.grids())).scalar()
        found = {"grid_code": code}
    else:
        name = session.execute(select(Region.name).where(
            Region.county_code == scope.county_code, Region.code == code, Region.current(),
            Region.level == "village", scope.in_region(Region.code))).scalar()
        found = {"region_code": code}
    if name is None:
        raise NotFound(N_("%(code)s 不存在或不在您的范围内", code=code), field="place")
    return found, f"{name} {code}"


def _places(session) -> dict:
    """The villages and grids of the scope, to pick a target from."""
    scope = current_scope()
    return {"villages": session.execute(select(Region.code, Region.name).where(
                Region.county_code == scope.county_code, Region.level == "village",
                Region.current(), scope.in_region(Region.code)).order_by(Region.code).limit(500)).all(),
            "grids": session.execute(select(Grid.code, Grid.name).where(
                scope.grids(), Grid.current()).order_by(Grid.code).limit(1000)).all()}


def _duties_page(place: str, code: str, error=None):
    session = db_session()
    target, title = _target_of(place, code)
    target_code = code
    if place == "household":
        target_code = title
    return _render("people/duties.html", error, place=place, code=code, title=title,
                   duties=assignments.duties(session, current_user, **target),
                   kinds=TARGET_KINDS[place], target_code=target_code, back=f"{place}:{code}",
                   **_places(session), **_holders(session))


@bp.route("/duties", endpoint="duties")
@requires("manage_people")
def duties_page():
    """包保: who holds what on one household (`household`, its id), grid or village; without
    one, the villages and grids to choose from."""
    for place in TARGET_KINDS:
        if request.args.get(place):
            try:
                return _duties_page(place, request.args[place][:32])
            except NotFound as missing:
                if missing.field == "household":
                    raise
                return _pick_page(missing)
    return _pick_page()


def _pick_page(error=None):
    return _render("people/duties.html", error, 404 if error else None, place=None,
                   **_places(db_session()))


def _back(back: str, error=None):
    """The page a duty form came from (`back`: cadre:<id>, unit:<id>, household:<id>,
    grid:<code>, village:<code>), again with the error, or a redirect to it."""
    place, _sep, key = (back or "").partition(":")
    if place == "cadre" and key.isdigit():
        return (_cadre_page(int(key), error) if error else
                redirect(url_for("people.cadre", cadre_id=int(key))))
    if place == "unit" and key.isdigit():
        return (_unit_page(int(key), error) if error else
                redirect(url_for("people.unit", unit_id=int(key))))
    if place in TARGET_KINDS and key:
        return (_duties_page(place, key[:32], error) if error else
                redirect(url_for("people.duties", **{place: key})))
    if error:
        raise error
    return redirect(url_for("people.duties"))


@bp.route("/duties", methods=["POST"], endpoint="assign")
@requires("manage_people")
def assign_page():
    """Assign one duty (kind, holder, target, start date)."""
    session = db_session()
    form = request.form.to_dict()
    duty, refused = attempt(session, lambda: assignments.assign(session, current_user, form),
                            _whole_request)
    if refused:
        return _back(form.get("back", ""), refused)
    flash(_("已安排：%(kind)s", kind=text_of(assignments.KIND_LABELS[duty.kind])), "info")
    return _back(form.get("back", ""))


@bp.route("/duties/<int:assignment_id>/end", methods=["POST"], endpoint="end")
@requires("manage_people")
def end_page(assignment_id: int):
    """End one duty on a date."""
    session = db_session()
    form = request.form.to_dict()
    assignments.get(session, current_user, assignment_id)
    _ended, refused = attempt(session, lambda: assignments.end(
        session, current_user, assignment_id, form), _whole_request)
    if refused:
        return _back(form.get("back", ""), refused)
    flash(_("已结束该包保任务"), "info")
    return _back(form.get("back", ""))
