"""Accounts: password hashing, creating users, resetting passwords. Core: no web, no CLI.

Logins are case-insensitive: they are stored in lower case, and signing in as 'Wang.Li'
finds 'wang.li'. People type logins on tablets whose keyboards capitalise the first
letter; a login that differs only by case from another one is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from gridmap import audit, codes
from gridmap.errors import BadInput, NotFound, _
from gridmap.models import ROLES, AppUser, Cadre, Grid, Region, Unit

MIN_PASSWORD_LENGTH = 8
LOGIN_PATTERN = r"[A-Za-z0-9_.@-]{2,64}"

# Which level of code each role's region names. Cadres and unit handlers are scoped
# by their households / their unit; their --region only places them in a county.
SCOPE_LEVELS = {
    "grid_worker": ("grid",),
    "village_staff": ("village",),
    "township_staff": ("township",),
    "leader": ("county",),
    "inspector": ("county",),
    "admin": ("county",),
    "cadre": ("county", "township", "village", "grid"),
    "unit_handler": ("county", "township", "village", "grid"),
}


ROLE_LABELS = {"grid_worker": _("网格员"), "cadre": _("包户干部"), "unit_handler": _("承办单位"),
               "village_staff": _("村（社区）干部"), "township_staff": _("乡镇干部"),
               "leader": _("县领导"), "inspector": _("督查室"), "admin": _("系统管理员")}


class UserError(BadInput):
    """An account operation refused, with a message saying what to do."""


class InvalidOption(UserError):
    """A bad value for one input (named in `field`: login, role, region, unit, cadre, password)."""


class NoSuchUser(NotFound):
    """No account with that login."""


# scrypt from the standard library, written in Werkzeug's format ("scrypt:n:r:p$salt$hex"),
# so hashes made before this module left Werkzeug still verify, and the core needs no web
# library for it. n=2^15, r=8, p=1 are Werkzeug's defaults.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
SALT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _scrypt_hex(plain: str, salt: str, n: int, r: int, p: int) -> str:
    return hashlib.scrypt(plain.encode(), salt=salt.encode(), n=n, r=r, p=p,
                          maxmem=132 * n * r * p).hex()


def hash_password(plain: str) -> str:
    """The one way passwords are hashed (scrypt, 16-character salt)."""
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(16))
    n, r, p = SCRYPT["n"], SCRYPT["r"], SCRYPT["p"]
    return f"scrypt:{n}:{r}:{p}${salt}${_scrypt_hex(plain, salt, n, r, p)}"


def check_password(password_hash: str, plain: str) -> bool:
    """Whether `plain` is the password behind `password_hash` (False for any other format)."""
    try:
        method, salt, expected = password_hash.split("$", 2)
        name, n, r, p = method.split(":")
        if name != "scrypt":
            return False
        actual = _scrypt_hex(plain, salt, int(n), int(r), int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def normalise_login(login: str) -> str:
    """Logins are stored and compared in lower case, without surrounding spaces."""
    return login.strip().lower()


def find_user(session, login: str) -> AppUser | None:
    """The account with this login, matched case-insensitively."""
    return session.execute(select(AppUser).where(
        func.lower(AppUser.login) == normalise_login(login))).scalars().first()


def check_new_password(password: str) -> None:
    """Refuse a password that is too short or has spaces at either end."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidOption(_("密码至少要 %(n)s 个字符", n=MIN_PASSWORD_LENGTH), field="password")
    if password != password.strip():
        raise InvalidOption(_("密码的开头或结尾有空格，请删去"), field="password")


def _county_of_current(session, code: str, level: str) -> str | None:
    """The county of the current region or grid `code`, or None when there is none."""
    model = Grid if level == "grid" else Region
    return session.execute(select(model.county_code).where(
        model.code == code, model.current())).scalars().first()


def _by_code(session, model, county_code: str, code: str, field: str):
    row = session.execute(select(model).where(
        model.county_code == county_code, model.code == code)).scalars().first()
    if row is None:
        params = {"county": county_code, "code": code}
        raise InvalidOption(_("县 %(county)s 没有代码为 %(code)r 的单位；请先导入单位", **params)
                            if field == "unit" else
                            _("县 %(county)s 没有代码为 %(code)r 的干部；请先导入干部", **params),
                            field=field)
    return row


@dataclass(frozen=True)
class CheckedScope:
    """A role's scope after checking: the region or grid code, its county, unit, cadre."""

    region: str
    county_code: str
    unit: Unit | None
    cadre: Cadre | None


def _checked_scope(session, role: str, region: str, *, unit: str | None,
                   cadre: str | None) -> CheckedScope:
    """Check that `role` may be scoped to `region` (and its unit or cadre). Raises UserError."""
    if role not in ROLES:
        raise InvalidOption(_("%(role)r 不是角色；可用：%(roles)s", role=role, roles=", ".join(ROLES)),
                            field="role")
    region = (region or "").strip()
    try:
        level = codes.level_of(region, field="region")
    except BadInput as exc:
        raise InvalidOption(exc.message, field="region") from None
    if level not in SCOPE_LEVELS[role]:
        raise InvalidOption(_("%(role)s 的范围应是 %(levels)s 代码，而 %(code)r 是 %(level)s 代码",
                              role=role, levels=" / ".join(SCOPE_LEVELS[role]), code=region,
                              level=level), field="region")
    county_code = _county_of_current(session, region, level)
    if county_code is None:
        raise InvalidOption(_("数据库中没有代码为 %(code)r 的现行%(level)s；请先导入区划和网格",
                              code=region, level=level), field="region")
    if role == "unit_handler" and not unit:
        raise InvalidOption(_("承办单位账号需要其单位的代码"), field="unit")
    if role == "cadre" and not cadre:
        raise InvalidOption(_("包户干部账号需要干部代码（其结对户即其范围）"), field="cadre")
    return CheckedScope(
        region, county_code,
        unit=_by_code(session, Unit, county_code, unit, "unit") if unit else None,
        cadre=_by_code(session, Cadre, county_code, cadre, "cadre") if cadre else None)


def _audit(session, by, action: str, user: AppUser, **detail) -> None:
    """Every account change is in the audit log; `by` is who made it (None: the system)."""
    audit.record(session, by, action, f"user:{user.login}", detail, county_code=user.county_code)


def create_user(session, login: str, role: str, region: str, password: str, *,
                unit: str | None = None, cadre: str | None = None,
                name: str | None = None, locale: str | None = None, by=None) -> AppUser:
    """Validate and add an account (flushed, not committed). Raises UserError.

    `by` (here and below) is who does it, for the audit log: an account, a text, or None."""
    login = normalise_login(login)
    if not re.fullmatch(LOGIN_PATTERN, login):
        raise InvalidOption(_("%(login)r 应为 2–64 个字母、数字或 _ . @ -", login=login), field="login")
    scope = _checked_scope(session, role, region, unit=unit, cadre=cadre)
    check_new_password(password)
    if find_user(session, login) is not None:
        raise InvalidOption(_("账号 %(login)r 已存在；请换一个，或重设其密码", login=login),
                            field="login")
    user = AppUser(
        county_code=scope.county_code, login=login, password_hash=hash_password(password),
        display_name=(name or "").strip() or None, role=role, scope_code=scope.region,
        unit_id=scope.unit.id if scope.unit else None,
        cadre_id=scope.cadre.id if scope.cadre else None, locale=locale, active=True)
    session.add(user)
    session.flush()
    _audit(session, by, "user_create", user, role=role, scope=scope.region)
    return user


def end_sessions(user: AppUser) -> None:
    """Sign the account out on every device: every earlier session and cookie stops working."""
    user.session_generation = (user.session_generation or 1) + 1


def _existing(session, login: str) -> AppUser:
    user = find_user(session, login)
    if user is None:
        raise NoSuchUser(_("没有账号 %(login)r；请先创建", login=normalise_login(login)), field="login")
    return user


def set_active(session, login: str, active: bool, *, by=None) -> AppUser:
    """Disable (signing it out everywhere) or re-enable an account; old cookies stay dead."""
    user = _existing(session, login)
    user.active = active
    end_sessions(user)
    session.flush()
    _audit(session, by, "user_enable" if active else "user_disable", user)
    return user


def set_role(session, login: str, role: str, region: str, *, unit: str | None = None,
             cadre: str | None = None, by=None) -> AppUser:
    """Give an account a new role and scope (checked as at creation); its sessions end."""
    user = _existing(session, login)
    scope = _checked_scope(session, role, region, unit=unit, cadre=cadre)
    before = {"role": user.role, "scope": user.scope_code}
    user.role, user.scope_code, user.county_code = role, scope.region, scope.county_code
    user.unit_id = scope.unit.id if scope.unit else None
    user.cadre_id = scope.cadre.id if scope.cadre else None
    end_sessions(user)
    session.flush()
    _audit(session, by, "user_set_role", user, was=before, role=role, scope=scope.region)
    return user


def list_users(session, county_code: str | None = None) -> list[AppUser]:
    """Every account (of one county, when given), by login."""
    query = select(AppUser).order_by(AppUser.login)
    if county_code:
        query = query.where(AppUser.county_code == county_code)
    return list(session.scalars(query))


def change_password(session, user_id: int, current: str, new: str) -> AppUser:
    """The account's own change of password (the one-time one included). Raises UserError."""
    user = session.get(AppUser, user_id)
    if user is None or not check_password(user.password_hash, current):
        raise InvalidOption(_("当前密码不正确"), field="current")
    check_new_password(new)
    if new == current:
        raise InvalidOption(_("新密码不能与当前密码相同"), field="password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user)  # other devices signed in with the old password are signed out
    session.flush()
    _audit(session, user, "user_change_password", user)
    return user


FIRST_ADMIN = "admin"


def first_admin(session, county_code: str, *, by=None) -> tuple[AppUser, str] | None:
    """At set-up: when the county has no active administrator, create one with a one-time
    password (returned once, to be printed once; it must be changed at the first sign-in).
    None when there is an administrator already. Raises UserError without the county region."""
    if session.execute(select(AppUser.id).where(
            AppUser.county_code == county_code, AppUser.role == "admin",
            AppUser.active.is_(True))).first() is not None:
        return None
    login = FIRST_ADMIN
    serial = 1
    while find_user(session, login) is not None:
        serial += 1
        login = f"{FIRST_ADMIN}{serial}"
    password = secrets.token_urlsafe(12)
    user = create_user(session, login, "admin", county_code, password, name="系统管理员", by=by)
    user.must_change_password = True
    session.flush()
    return user, password


def reset_password(session, login: str, password: str, *, by=None) -> AppUser:
    """Set a new password (signing the account out everywhere). Raises UserError."""
    user = _existing(session, login)
    check_new_password(password)
    user.password_hash = hash_password(password)
    end_sessions(user)
    session.flush()
    _audit(session, by, "user_reset_password", user)
    return user
