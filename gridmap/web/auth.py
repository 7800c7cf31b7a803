"""Signing in and out, the language switch, and the signed-in user (Flask-Login).

Sessions last: "remember me" is on by default and the remember cookie (30 days) is
renewed on every request, so a tablet in use is never signed out (基层减负: no forced
periodic log-ins). A password reset signs the account out on every device, because the
session id carries a fingerprint of the password hash.

Not here yet: throttling repeated failed sign-ins (a later hardening issue).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gridmap.models import AppUser
from gridmap.users import check_password, find_user, hash_password
from gridmap.web.errors import answer
from gridmap.web.guard import requires
from gridmap.web.i18n import LOCALE_COOKIE, LOCALE_COOKIE_AGE, LOCALES
from gridmap.web.session import db_session

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()

# Compared against when the login is unknown, so a wrong login takes as long as a
# wrong password and response times do not reveal which logins exist.
_DUMMY_HASH = None


@dataclass(frozen=True)
class Account:
    """The signed-in user: a snapshot of their app_user row, detached from any session."""

    id: int
    login: str
    role: str
    county_code: str
    scope_code: str | None
    unit_id: int | None
    cadre_id: int | None
    display_name: str | None
    locale: str | None
    active: bool
    password_fingerprint: str

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Disabled accounts are signed out (Flask-Login)."""
        return self.active

    def get_id(self) -> str:
        """The session id: the account id and a fingerprint of its password hash."""
        return f"{self.id}:{self.password_fingerprint}"

    @classmethod
    def of(cls, row: AppUser) -> Account:
        """A snapshot of an app_user row."""
        return cls(
            id=row.id, login=row.login, role=row.role, county_code=row.county_code,
            scope_code=row.scope_code, unit_id=row.unit_id, cadre_id=row.cadre_id,
            display_name=row.display_name, locale=row.locale, active=row.active,
            password_fingerprint=_fingerprint(row.password_hash))


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def load_account(session_id: str) -> Account | None:
    """Flask-Login's user loader: None (signed out) for unknown, disabled or re-passworded accounts."""
    user_id, _sep, fingerprint = session_id.partition(":")
    if not user_id.isdigit():
        return None
    row = db_session().get(AppUser, int(user_id))
    if row is None or not row.active or _fingerprint(row.password_hash) != fingerprint:
        return None
    return Account.of(row)


def is_local_path(target: str | None) -> bool:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _home() -> str:
    return request.script_root + "/"


class SignInForm(FlaskForm):
    """The sign-in form (CSRF-protected by Flask-WTF)."""
    login = StringField(_l("账号"), validators=[DataRequired(_l("请输入账号。")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=256)])
    remember = BooleanField(_l("在此设备上保持登录"), default=True)
    next = HiddenField()


def authenticate(login: str, password: str) -> tuple[AppUser | None, str | None]:
    """(user, None) when the credentials are right, else (None, a message safe to show)."""
    global _DUMMY_HASH
    row = find_user(db_session(), login)
    if row is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not a real password")
        check_password(_DUMMY_HASH, password)
        return None, _("账号或密码不正确。")
    if not check_password(row.password_hash, password):
        return None, _("账号或密码不正确。")
    if not row.active:
        # Said only to someone who knows the password, so it reveals nothing new.
        return None, _("此账号已停用，请联系管理员。")
    return row, None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Show the sign-in form; on success go where the visitor was headed (same site only)."""
    form = SignInForm()
    target = form.next.data if request.method == "POST" else request.args.get("next")
    target = target if is_local_path(target) else None
    if current_user.is_authenticated:
        return redirect(target or _home())
    error = None
    if form.validate_on_submit():
        row, error = authenticate(form.login.data, form.password.data)
        if row is not None:
            session.permanent = True  # the session cookie, too, lasts PERMANENT_SESSION_LIFETIME
            login_user(Account.of(row), remember=bool(form.remember.data))
            return redirect(target or _home())
    form.next.data = target or ""
    return render_template("auth/sign_in.html", form=form, error=error)


@bp.route("/sign-out", methods=["POST"])
@requires("signed_in")
def sign_out():
    """End the session on this device."""
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/language", methods=["POST"])
def set_language():
    """The language switch: a cookie for everyone, and the account's preference when signed in."""
    locale = request.form.get("lang", "")
    target = request.form.get("next")
    response = redirect(target if is_local_path(target) else _home())
    if locale not in LOCALES:
        return response
    response.set_cookie(LOCALE_COOKIE, locale, max_age=LOCALE_COOKIE_AGE, httponly=True,
                        samesite="Lax", secure=request.is_secure)
    if current_user.is_authenticated:
        accounts = db_session()
        accounts.get(AppUser, current_user.id).locale = locale
        accounts.commit()
    return response


@bp.app_errorhandler(CSRFError)
def csrf_failed(error):
    """A form posted with a stale or missing token: say how to retry."""
    return answer(400, "csrf", _("表单已过期，请返回、刷新页面后重试。"))


def init_app(app) -> None:
    """Flask-Login, CSRF protection on every POST, and this blueprint."""
    app.config.setdefault("REMEMBER_COOKIE_REFRESH_EACH_REQUEST", True)
    # Tablets leave forms open for hours; the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    manager = LoginManager()
    manager.login_view = "auth.sign_in"
    manager.user_loader(load_account)
    manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
