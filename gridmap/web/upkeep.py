"""Upkeep of the register: households (搜索, 登记, 修改, 调整网格, 拆分, 迁出/销户, 历史记录).
Pages for township and village staff (a cadre's 交接 is on their page: gridmap.web.people).

A household's address and position are shown only to the roles that visit households (as on
every page, tests/web/test_care_data_by_role.py); a township's staff may correct them without
reading them.

Thin views over gridmap.register: each change is one core call and a
commit; refusals come back on the page, naming the field.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from gridmap import privacy, register
from gridmap.models import Grid, Household, Region
from gridmap.web.forms import attempt, attempt_or_flash, chosen, refusal
from gridmap.web.forms import status as form_status
from gridmap.web.guard import can, current_scope, requires
from gridmap.web.session import db_session

bp = Blueprint("register", __name__)
FORM_FIELDS = ("code", "head_name", "phone", "id_number", "address", "size", "residence_type",
               "disability_category", "disability_grade", "grid_code", "village_code", "lon",
               "lat", "note", "status", "left_on", "care", *register.CARE_FIELDS)
ACTIONS = {"edit": register.edit, "move": register.move, "split": register.split,
           "leave": register.mark_left, "reactivate": register.reactivate}
PAGE = 200


def _private(response, status: int = 200):
    response = make_response(response, status)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _form() -> dict:
    return {name: request.form.get(name) for name in FORM_FIELDS if name in request.form}


def _grids(session) -> list:
    return session.execute(select(Grid.code, Grid.name, Grid.village_code).where(
        current_scope().grids(), Grid.current()).order_by(Grid.code).limit(1000)).all()


def _villages(session) -> list:
    scope = current_scope()
    return session.execute(select(Region.code, Region.name).where(
        Region.county_code == scope.county_code, Region.level == "village", Region.current(),
        scope.in_region(Region.code)).order_by(Region.code).limit(500)).all()


@bp.route("/households", endpoint="households")
@requires("edit_households")
def households_page():
    """搜索: households of the scope by code, address or phone tail; on the register or left."""
    session, scope = db_session(), current_scope()
    q = (request.args.get("q") or "").strip()[:50]
    left = request.args.get("left") == "1"
    query = select(Household).where(scope.households(including_left=True),
                                    Household.status != "active" if left else Household.status == "active")
    if q:  # an address is searched only by those who may read it (the roles that visit)
        query = query.where(or_(Household.code.contains(q, autoescape=True),
                                Household.head_name.contains(q, autoescape=True),
                                func.right(Household.phone, 4) == q,
                                *([Household.address.contains(q, autoescape=True)]
                                  if can("log_visit") else [])))
    rows = session.execute(query.order_by(Household.code).limit(PAGE + 1)).scalars().all()
    on_page = {h.grid_code for h in rows[:PAGE] if h.grid_code}
    grid_names = dict(session.execute(select(Grid.code, Grid.name).where(
        Grid.county_code == scope.county_code, Grid.code.in_(on_page), Grid.current())).all()) \
        if on_page else {}
    return _private(render_template(
        "register/households.html", rows=rows[:PAGE], more=len(rows) > PAGE, q=q, left=left,
        grid_names=grid_names,
        sees_place=can("log_visit"),
        mask=privacy.mask_name, mask_phone=privacy.mask_phone))


@bp.route("/households/new", methods=["GET", "POST"], endpoint="new")
@requires("edit_households")
def new_page():
    """登记 a household."""
    session, error = db_session(), None
    if request.method == "POST":
        household, error = attempt(session, lambda: register.create(session, current_user, _form()))
        if not error:
            flash(_("已登记 %(code)s", code=household.code), "info")
            return redirect(url_for("register.household", household_id=household.id))
    return _private(render_template(
        "register/new.html", form=request.form, **refusal(error), grids=_grids(session),
        villages=_villages(session), care=register.CARE_FIELDS, labels=register.FIELD_LABELS),
        form_status(error))


@bp.route("/households/<int:household_id>", endpoint="household")
@requires("edit_households")
def household_page(household_id: int):
    """A household: its facts (personal data masked), every change, and the forms to change it."""
    session = db_session()
    household = register.get(session, current_user, household_id)
    position = session.execute(select(func.ST_X(Household.geom), func.ST_Y(Household.geom)).where(
        Household.id == household.id)).first()
    return _private(render_template(
        "register/household.html", h=household, history=register.history(session, current_user, household),
        labels=register.FIELD_LABELS, actions=register.ACTION_LABELS, care=register.CARE_FIELDS,
        grids=_grids(session), name=privacy.mask_name(household.head_name),
        phone=privacy.mask_phone(household.phone), sees_place=can("log_visit"),
        position=position if position and position[0] else None))


@bp.route("/households/<int:household_id>/changes", methods=["POST"], endpoint="act")
@requires("edit_households")
def act_page(household_id: int):
    """One of the household page's forms (`action`: edit, move, split, leave, reactivate); a
    refusal comes back as a message on the page."""
    session = db_session()
    register.get(session, current_user, household_id)  # out of scope: not found, whatever was asked
    action = request.form.get("action")

    def change():
        return chosen(ACTIONS, action)(session, current_user, household_id, _form())

    # an unknown grid or receiver is the form's doing; only the household itself is not
    result, done = attempt_or_flash(
        session, change, raises=lambda r: r.status in (403, 404) and r.field == "household")
    if done and action == "split":
        flash(_("已分户：%(code)s", code=result.code), "info")
        return redirect(url_for("register.household", household_id=result.id))
    if done:
        flash(_("已保存") if result != {} else _("没有改动"), "info")
    return redirect(url_for("register.household", household_id=household_id))
