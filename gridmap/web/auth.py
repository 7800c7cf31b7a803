"""Signing in and out, the language switch, and the signed-in user (Flask-Login).

Sessions last, and end when they should:

* "在此设备上保持登录" (on by default) gives a 30-day remember cookie, renewed while the
  tablet is in use, so it is never signed out (基层减负: no forced periodic log-ins);
  unticked, the session ends with the browser and at most `SHORT_SESSION` after sign-in.
* Every session and remember cookie carries a token: account id, the account's
  `session_generation`, a fingerprint of its password hash, when it was issued and whether
  it is remembered. Sign-out, a password change, disabling and a role change bump the
  generation, so every earlier cookie of that account, on every device, stops working; a
  token past its lifetime is refused by the server whatever the cookie's own expiry says.
* Failed sign-ins are throttled per login and per address (gridmap.throttle) before any
  password hash is computed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
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

from gridmap import audit, clock, errors, throttle, tokens
from gridmap.models import AppUser
from gridmap.users import (
    change_password,
    check_password,
    end_sessions,
    find_user,
    hash_password,
    normalise_login,
)
from gridmap.web.errors import answer, renders_json, text_of
from gridmap.web.guard import requires
from gridmap.web.i18n import LOCALE_COOKIE, LOCALE_COOKIE_AGE, LOCALES
from gridmap.web.session import db_session

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()

# Compared against when the login is unknown, so a wrong login takes as long as a
# wrong password and response times do not reveal which logins exist.
_DUMMY_HASH = None


SHORT_SESSION = timedelta(hours=12)  # "keep me signed in" unticked
REISSUE_AFTER = timedelta(hours=1)  # a token in use is renewed this often (sliding expiry)


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
    session_generation: int
    password_fingerprint: str
    issued_minute: int = 0  # minutes since the epoch when this session's token was issued
    remembered: bool = True
    must_change_password: bool = False  # a one-time password: nothing else until changed
    by_token: bool = False  # this request presented an API token (no cookie, no CSRF token)

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Disabled accounts are signed out (Flask-Login)."""
        return self.active

    def get_id(self) -> str:
        """The session token: id, generation, password fingerprint, issued minute, r/s."""
        return (f"{self.id}:{self.session_generation}:{self.password_fingerprint}:"
                f"{self.issued_minute}:{'r' if self.remembered else 's'}")

    @classmethod
    def of(cls, row: AppUser, *, remembered: bool = True) -> Account:
        """A snapshot of an app_user row, with a token issued now."""
        return cls(
            id=row.id, login=row.login, role=row.role, county_code=row.county_code,
            scope_code=row.scope_code, unit_id=row.unit_id, cadre_id=row.cadre_id,
            display_name=row.display_name, locale=row.locale, active=row.active,
            session_generation=row.session_generation,
            password_fingerprint=_fingerprint(row.password_hash),
            issued_minute=_minute_now(), remembered=remembered,
            must_change_password=bool(getattr(row, "must_change_password", False)))

    def lifetime(self) -> timedelta:
        """How long the token lives after it was issued (renewed while in use)."""
        return current_app.config["REMEMBER_COOKIE_DURATION"] if self.remembered else SHORT_SESSION

    def needs_reissue(self) -> bool:
        """Whether the token is old enough to renew (keeps an active tablet signed in); an API
        token's request never gets a session cookie."""
        return not self.by_token and _minute_now() - self.issued_minute >= REISSUE_AFTER.total_seconds() // 60


def _minute_now() -> int:
    return int(clock.now().timestamp() // 60)


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _parse_token(token: str) -> tuple[int, int, str, int, bool] | None:
    parts = token.split(":")
    if len(parts) != 5 or not (parts[0].isdigit() and parts[1].isdigit() and parts[3].isdigit()):
        return None
    if parts[4] not in ("r", "s"):
        return None
    return int(parts[0]), int(parts[1]), parts[2], int(parts[3]), parts[4] == "r"


def load_account(token: str) -> Account | None:
    """Flask-Login's user loader: None (signed out) unless the token is still good.

    Refused: unknown or disabled accounts, an older session generation (signed out, password
    changed, disabled, role changed), a changed password, and tokens past their lifetime.
    """
    parsed = _parse_token(token)
    if parsed is None:
        return None
    user_id, generation, fingerprint, issued, remembered = parsed
    row = db_session().get(AppUser, user_id)
    if (row is None or not row.active or row.session_generation != generation
            or _fingerprint(row.password_hash) != fingerprint):
        return None
    account = replace(Account.of(row, remembered=remembered), issued_minute=issued)
    if _minute_now() - issued > account.lifetime().total_seconds() // 60:
        return None
    return account


def bearer_secret() -> str | None:
    """The secret of an `Authorization: Bearer gm_…` header, if the request carries one."""
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def load_token_account(_request) -> Account | None:
    """Flask-Login's request loader: the account an API token acts as (gridmap.tokens), on
    the JSON blueprints only; a page is never opened with a token."""
    secret = bearer_secret()
    if secret is None or not renders_json():
        return None
    accounts = db_session()
    try:
        row = tokens.authenticate(accounts, secret)
    except throttle.TooManyRequests as refused:
        # Refused in _csrf_unless_token, not here: a loader that raises would run again
        # while the refusal is rendered (the renderers ask who the user is).
        g.token_refused = refused
        row = refused.account
    if row is None:
        accounts.rollback()
        return None
    accounts.commit()  # its last_used_at and request count, before the view's own work
    return replace(Account.of(row, remembered=False), by_token=True)


def is_local_path(target: str | None) -> bool:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _home() -> str:
    """Where a sign-in lands: grid workers and cadres on their field pages, others on the map."""
    from gridmap.web.field import lands_in_the_field

    if current_user.is_authenticated and lands_in_the_field():
        return url_for("field.home")
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
    error, status = None, 200
    if form.validate_on_submit():
        error, status = _attempt_sign_in(form)
        if error is None:
            return redirect(target or _home())
    form.next.data = target or ""
    response = current_app.make_response(
        (render_template("auth/sign_in.html", form=form, error=error), status))
    if status == 429:
        response.headers["Retry-After"] = str(g.retry_after)
    return response


def _attempt_sign_in(form: SignInForm) -> tuple[str | None, int]:
    """Sign in with the form's credentials: (None, 200) on success, else (message, status)."""
    accounts, now = db_session(), clock.now()
    login = normalise_login(form.login.data)[:64]
    address = (request.remote_addr or "unknown")[:64]
    county_code = current_app.config["GRIDMAP_COUNTY"]
    try:
        throttle.check(accounts, login, address, now)
    except throttle.TooManyAttempts as refused:
        # Not in the audit log: a refused guess costs an attacker nothing, so one row each
        # would let a flood fill the (never pruned) ledger; the failures before it are there.
        current_app.logger.warning("sign-in throttled for %r from %s", login, address)
        g.retry_after = refused.retry_after
        return text_of(refused.message), 429
    row, error = authenticate(form.login.data, form.password.data)
    if row is None:
        throttle.record_failure(accounts, county_code, login, address, now)
        audit.record(accounts, login, "sign_in_failed", f"user:{login}", county_code=county_code,
                     address=address)
        accounts.commit()
        current_app.logger.warning("sign-in failed for %r from %s", login, address)
        return error, 200
    throttle.clear(accounts, login)
    audit.record(accounts, row, "sign_in", f"user:{row.login}",
                 {"remembered": bool(form.remember.data)}, address=address)
    accounts.commit()
    remember = bool(form.remember.data)
    session.permanent = remember  # unticked: the cookie ends with the browser
    login_user(Account.of(row, remembered=remember), remember=remember)
    return None, 200


class PasswordForm(FlaskForm):
    """Changing one's own password (the one-time password of a first administrator too)."""
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。")),
                                                     Length(max=256)])
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。")),
                                                    Length(max=256)])
    repeat = PasswordField(_l("再输一次新密码"), validators=[DataRequired(_l("请再输一次新密码。")),
                                                         Length(max=256)])


# Reachable while a one-time password is still unchanged.
ONE_TIME_PASSWORD_ENDPOINTS = frozenset({"auth.change_password", "auth.sign_out",
                                         "auth.set_language", "static", "health.healthz"})


@bp.route("/password", methods=["GET", "POST"], endpoint="change_password")
@requires("signed_in")
def change_password_page():
    """Change one's own password; other devices are signed out, this one stays signed in."""
    form, error = PasswordForm(), None
    if form.validate_on_submit():
        if form.password.data != form.repeat.data:
            error = _("两次输入的新密码不一致。")
        else:
            accounts = db_session()
            try:
                row = change_password(accounts, current_user.id, form.current.data,
                                      form.password.data)
            except errors.GridmapError as refused:
                accounts.rollback()
                error = text_of(refused.message)
            else:
                accounts.commit()
                remembered = current_user.remembered
                login_user(Account.of(row, remembered=remembered), remember=remembered)
                flash(_("密码已修改。其他设备上的登录已退出。"), "info")
                return redirect(_home())
    return render_template("auth/password.html", form=form, error=error,
                           one_time=current_user.must_change_password), 422 if error else 200


@bp.route("/sign-out", methods=["POST"])
@requires("signed_in")
def sign_out():
    """End this account's sessions on every device, and clear this browser's cached pages."""
    accounts = db_session()
    end_sessions(accounts.get(AppUser, current_user.id))
    audit.record(accounts, current_user, "sign_out", f"user:{current_user.login}",
                 address=request.remote_addr)
    accounts.commit()
    logout_user()
    flash(_("您已退出登录。"), "info")
    response = redirect(url_for("auth.sign_in"))
    # A shared tablet keeps nothing of the last user's pages (the offline queue is kept).
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


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


def _csrf_unless_token() -> None:
    """CSRF on every state-changing request of a cookie session. A request authenticated by
    an API token is exempt, and only it: a browser cannot add the Authorization header to a
    forged cross-site request. A presented token that does not work is refused (401)."""
    app = current_app
    if not request.endpoint:
        return None
    if bearer_secret() is not None and renders_json():
        if current_user.is_authenticated and current_user.by_token:
            refused = g.pop("token_refused", None)
            if refused is not None:
                raise refused  # over the token's limit (429, Retry-After)
            return None
        if not current_user.is_authenticated:
            from gridmap.web.guard import Unauthorized

            raise Unauthorized(errors._("API 令牌无效、已过期、已吊销，或其账号已停用；"
                                        "请向本县管理员申请新令牌（gridmap tokens create）"))
    if (not app.config.get("WTF_CSRF_ENABLED", True)
            or request.method not in app.config.get("WTF_CSRF_METHODS", CSRF_METHODS)):
        return None
    view = app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, CSRF_EXEMPT, False):
        return None
    csrf.protect()
    return None


CSRF_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CSRF_EXEMPT = "gridmap_csrf_exempt"


def csrf_exempt(view):
    """Mark a view that checks its own credential in the request (Open311's api_key)."""
    setattr(view, CSRF_EXEMPT, True)
    return view


def init_app(app) -> None:
    """Flask-Login (session cookies, and API tokens on the JSON APIs), CSRF protection on
    every POST of a cookie session, and this blueprint."""
    # Off: Flask-Login would then give *every* session a remember cookie, ticked or not. A
    # remembered token is renewed (cookie included) hourly by _renew_session instead.
    app.config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"] = False
    # Tablets leave forms open for hours; the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    manager = LoginManager()
    manager.login_view = "auth.sign_in"
    manager.user_loader(load_account)
    manager.request_loader(load_token_account)
    manager.init_app(app)
    # Flask-WTF's own check knows no tokens: ours (_csrf_unless_token) calls csrf.protect().
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(_csrf_unless_token)
    app.register_blueprint(bp)

    @app.before_request
    def _one_time_password():
        """An account with a one-time password may only change it (or sign out)."""
        if (current_user.is_authenticated and current_user.must_change_password
                and request.endpoint not in ONE_TIME_PASSWORD_ENDPOINTS):
            if renders_json():
                raise errors.Forbidden(errors._("请先修改一次性密码。"))
            return redirect(url_for("auth.change_password"))
        return None

    @app.before_request
    def _renew_session():
        """Renew a token in use, so the server-side lifetime slides while the tablet works."""
        if current_user.is_authenticated and current_user.needs_reissue():
            account = current_user._get_current_object()
            login_user(replace(account, issued_minute=_minute_now()), remember=account.remembered)
