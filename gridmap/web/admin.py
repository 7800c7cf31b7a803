"""Administration pages: accounts and roles (/admin/users) over gridmap.users — the service
`gridmap users` calls — and the county's settings (/admin/settings) over gridmap.settings:
visit intervals, 三率 weights, the 三必 checklist, the working-day calendar. Administrators of
the county only; every change is in the audit log; a refusal names its field beside it.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from gridmap import audit, people, settings, users
from gridmap.errors import N_, BadInput, GridmapError, NotFound
from gridmap.models import ROLES, AppUser, AuditEvent, Cadre, Unit
from gridmap.web.errors import text_of
from gridmap.web.forms import attempt
from gridmap.web.guard import requires
from gridmap.web.session import db_session

bp = Blueprint("admin", __name__)
PAGE = 300


def _render(template: str, error: GridmapError | None = None, status: int = 200, **context):
    response = make_response(render_template(
        template, error=error, error_text=text_of(error.message) if error else None,
        form=request.form if error else {}, audit_labels=audit.ACTIONS, **context), status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _in_county(user: AppUser) -> AppUser:
    """An account the service made or changed must stay in the administrator's county."""
    if user.county_code != current_user.county_code:
        raise BadInput(N_("%(code)s 不在本县；请填写本县的区划或网格代码", code=user.scope_code),
                       field="region")
    return user


def _field_refusals(refused: GridmapError) -> bool:
    """None of a create or settings form's refusals goes to the error handler: an unknown
    region, unit or cadre (404 from the service) is a field to correct, shown beside it."""
    return False


def _user(session, user_id: int) -> AppUser:
    user = session.execute(select(AppUser).where(
        AppUser.id == user_id, AppUser.county_code == current_user.county_code)).scalar()
    if user is None:
        raise NotFound(N_("没有编号为 %(id)s 的账号", id=user_id), field="user")
    return user


def _choices(session) -> dict:
    county = current_user.county_code
    return {"roles": ROLES, "role_labels": users.ROLE_LABELS,
            "units": session.execute(select(Unit.code, Unit.name).where(
                Unit.county_code == county, Unit.active).order_by(Unit.code).limit(1000)).all(),
            "cadres": session.execute(select(Cadre.code, Cadre.name).where(
                Cadre.county_code == county, Cadre.active).order_by(Cadre.code).limit(2000)).all()}


def _users_page(error=None, status=200):
    session = db_session()
    q = (request.args.get("q") or "").strip()[:50]
    query = select(AppUser).where(AppUser.county_code == current_user.county_code)
    if q:
        query = query.where(or_(AppUser.login.contains(q.lower(), autoescape=True),
                                AppUser.display_name.contains(q, autoescape=True)))
    rows = session.execute(query.order_by(AppUser.active.desc(), AppUser.login).limit(PAGE)).scalars().all()
    return _render("admin/users.html", error, status, rows=rows, q=q, **_choices(session))


@bp.route("/admin/users", endpoint="users")
@requires("manage_users")
def users_page():
    """账号与角色: the county's accounts and a form to create one."""
    return _users_page()


@bp.route("/admin/users", methods=["POST"], endpoint="create_user")
@requires("manage_users")
def create_user_page():
    """Create an account (login, name, role, region or grid, unit or cadre, first password)."""
    session, form = db_session(), request.form

    def create() -> AppUser:
        user = _in_county(users.create_user(
            session, form.get("login") or "", form.get("role") or "", form.get("region") or "",
            form.get("password") or "", unit=form.get("unit") or None,
            cadre=form.get("cadre") or None, name=form.get("name"), by=current_user))
        user.must_change_password = form.get("must_change") == "1"
        return user

    user, refused = attempt(session, create, _field_refusals)
    if refused:
        return _users_page(refused, 422)
    flash(_("已创建账号 %(login)s", login=user.login), "info")
    return redirect(url_for("admin.user", user_id=user.id))


def _user_page(user_id: int, error=None, status=200):
    session = db_session()
    user = _user(session, user_id)
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    cadre = session.get(Cadre, user.cadre_id) if user.cadre_id else None
    return _render("admin/user.html", error, status, user=user, unit=unit, cadre=cadre,
                   history=people.history(session, user.county_code, f"user:{user.login}"),
                   **_choices(session))


@bp.route("/admin/users/<int:user_id>", endpoint="user")
@requires("manage_users")
def user_page(user_id: int):
    """One account: change its role and scope, disable or enable it, reset its password."""
    return _user_page(user_id)


def _not_self(user: AppUser) -> None:
    if user.id == current_user.id:
        raise BadInput(N_("不能停用或更改自己的账号；请另一位管理员操作"), field="action")


@bp.route("/admin/users/<int:user_id>", methods=["POST"], endpoint="change_user")
@requires("manage_users")
def change_user_page(user_id: int):
    """One of the account page's forms (`action`: role, disable, enable, password)."""
    session, form = db_session(), request.form
    user = _user(session, user_id)
    action = form.get("action")

    def change() -> None:
        if action == "role":
            _not_self(user)
            _in_county(users.set_role(session, user.login, form.get("role") or "",
                                      form.get("region") or "", unit=form.get("unit") or None,
                                      cadre=form.get("cadre") or None, by=current_user))
        elif action in ("disable", "enable"):
            _not_self(user)
            users.set_active(session, user.login, action == "enable", by=current_user)
        elif action == "password":
            users.reset_password(session, user.login, form.get("password") or "", by=current_user)
            user.must_change_password = form.get("must_change") == "1"
        else:
            raise BadInput(N_("action 应是 role, disable, enable, password 之一"),
                           field="action")

    _done, refused = attempt(session, change, lambda refused: refused.status == 403)
    if refused:
        return _user_page(user_id, refused, 422)
    flash(_("已保存"), "info")
    return redirect(url_for("admin.user", user_id=user_id))


# --- settings ---------------------------------------------------------------------------------

def _settings_page(error=None, status=200):
    session, county = db_session(), current_user.county_code
    values = settings.all(session, county)
    overridden = settings.overrides(session, county)
    groups = [(group, [(key, values[key], key in overridden, settings.default_values()[key])
                       for key in values if key.startswith(group + ".")])
              for group in settings.EDITABLE_GROUPS]
    changes = session.execute(select(AuditEvent).where(
        AuditEvent.county_code == county, AuditEvent.action == "setting_change")
        .order_by(AuditEvent.id.desc()).limit(50)).scalars().all()
    return _render("admin/settings.html", error, status, groups=groups, history=changes)


@bp.route("/admin/settings", endpoint="settings")
@requires("manage_settings")
def settings_page():
    """设置: each editable group with its values in force (the defaults marked)."""
    return _settings_page()


@bp.route("/admin/settings", methods=["POST"], endpoint="change_settings")
@requires("manage_settings")
def change_settings_page():
    """Save one group's form: every key of the group checked first, then written together."""
    session, form = db_session(), request.form
    group = form.get("group")

    def change() -> dict:
        if group not in settings.EDITABLE_GROUPS:
            raise BadInput(N_("group 应是 %(choices)s 之一",
                                   choices=", ".join(settings.EDITABLE_GROUPS)), field="group")
        keys = [key for key in settings.default_values() if key.startswith(group + ".")]
        return settings.change(session, current_user.county_code,
                               {key: form.get(key, "") for key in keys}, current_user)

    changed, refused = attempt(session, change, _field_refusals)
    if refused:
        return _settings_page(refused, 422)
    flash(_("已保存 %(n)s 项设置", n=len(changed)) if changed else _("没有改动"), "info")
    return redirect(url_for("admin.settings"))

