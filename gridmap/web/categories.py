"""The categories and ownership admin page: a county's issue categories (appeal type, stage
limits) and its dispatch table (category × region → unit), over gridmap.categories, the same
services `gridmap categories set` / `gridmap ownership set` call; every change is audited."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from gridmap import categories
from gridmap.errors import BadInput, NotFound
from gridmap.models import APPEAL_TYPES, Region, Unit
from gridmap.web.errors import text_of
from gridmap.web.forms import attempt
from gridmap.web.forms import status as form_status
from gridmap.web.guard import requires
from gridmap.web.session import db_session

bp = Blueprint("categories", __name__)
LIMIT_FIELDS = tuple(categories.StageLimits.__dataclass_fields__)


def _whole_number(name: str) -> int | None:
    """A posted limit: empty keeps the current value; anything but digits names its field."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 4:
        raise BadInput(_("%(field)s 应是 1–9999 的整数，而不是 %(value)r", field=name, value=raw),
                       field=name)
    return int(raw)


def _choices(session, county_code: str) -> dict:
    regions = session.execute(
        select(Region.code, Region.name, Region.level)
        .where(Region.county_code == county_code, Region.current())
        .order_by(Region.code).limit(1000)).all()
    units = session.execute(select(Unit.code, Unit.name).where(
        Unit.county_code == county_code).order_by(Unit.region_code, Unit.code).limit(1000)).all()
    return {"regions": regions, "units": units}


def _page(error: BadInput | NotFound | None = None, status: int = 200):
    session, county = db_session(), current_user.county_code
    response = make_response(render_template(
        "categories/admin.html", categories=categories.all_of(session, county),
        rules=categories.ownership_of(session, county), appeal_types=APPEAL_TYPES,
        limit_fields=LIMIT_FIELDS, form=request.form if error else {}, error=error,
        error_text=text_of(error.message) if error else None,
        defaults=categories.county_defaults(session, county), **_choices(session, county)),
        status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/admin/categories", endpoint="admin")
@requires("manage_categories")
def admin_page():
    """The county's categories and dispatch rules, with a form for each."""
    return _page()


def _changed(work, message: str):
    """Run `work` in the request's transaction; back to the page, or the page with the error."""
    session = db_session()
    _done, refused = attempt(session, lambda: work(session),  # the form says what to fix, beside its field
                         raises=lambda refused: not isinstance(refused, (BadInput, NotFound)))
    if refused:
        return _page(refused, form_status(refused))
    flash(message, "info")
    return redirect(url_for("categories.admin"))


@bp.route("/admin/categories", methods=["POST"], endpoint="set_category")
@requires("manage_categories")
def set_category_page():
    """Create or change one category (limits left empty keep their value)."""
    form = request.form
    code = (form.get("code") or "").strip()

    def work(session):
        limits = {name: _whole_number(name) for name in LIMIT_FIELDS}
        categories.set_category(session, current_user.county_code, code,
                                name=form.get("name"), appeal_type=form.get("appeal_type") or None,
                                actor=current_user, **limits)

    return _changed(work, _("已保存类别 %(code)s", code=code))


@bp.route("/admin/ownership", methods=["POST"], endpoint="set_owner")
@requires("manage_categories")
def set_owner_page():
    """Set who handles one category in one region (replaces the rule there)."""
    form = request.form
    category, region, unit = (form.get(name) or "" for name in ("category", "region", "unit"))

    def work(session):
        categories.set_owner(session, current_user.county_code, category, region, unit,
                             actor=current_user)

    return _changed(work, _("已设定：%(category)s 在 %(region)s 由 %(unit)s 办理",
                            category=category, region=region, unit=unit))
