"""Accounts: password hashing, creating users, resetting passwords (core + `gridmap users`).

Logins are case-insensitive: they are stored in lower case, and signing in as 'Wang.Li'
finds 'wang.li'. People type logins on tablets whose keyboards capitalise the first
letter; a login that differs only by case from another one is refused.
"""

from __future__ import annotations

import re
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from gridmap.models import GRID_CODE, REGION_CODE, ROLES, AppUser, Cadre, Grid, Region, Unit

MIN_PASSWORD_LENGTH = 8
LOGIN_PATTERN = r"[A-Za-z0-9_.@-]{2,64}"

# Which level of code each role's --region names. Cadres and unit handlers are scoped
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
LEVEL_OF_LENGTH = {6: "county", 9: "township", 12: "village"}


class UserError(ValueError):
    """An account operation refused, with a message saying what to do."""


class InvalidOption(UserError):
    """A bad value for one option (named in `option`)."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option


class NoSuchUser(UserError):
    pass


def hash_password(plain: str) -> str:
    """The one way passwords are hashed (scrypt via Werkzeug)."""
    return generate_password_hash(plain, method="scrypt")


def check_password(password_hash: str, plain: str) -> bool:
    return check_password_hash(password_hash, plain)


def normalise_login(login: str) -> str:
    return login.strip().lower()


def find_user(session, login: str) -> AppUser | None:
    """The account with this login, matched case-insensitively."""
    return session.execute(select(AppUser).where(
        func.lower(AppUser.login) == normalise_login(login))).scalars().first()


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidOption("--password-stdin", f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if password != password.strip():
        raise InvalidOption("--password-stdin", "the password starts or ends with a space; remove it")


def code_level(code: str) -> str:
    """'county', 'township', 'village' or 'grid' for a well-formed code, else InvalidOption."""
    if re.fullmatch(REGION_CODE, code):
        return LEVEL_OF_LENGTH[len(code)]
    if re.fullmatch(GRID_CODE, code) and code[:12].isdigit():
        return "grid"
    raise InvalidOption("--region", f"{code!r} is not a county (6 digits), township (9), village (12) "
                        "or grid code (village code + serial)")


def _current_region_exists(session, code: str, level: str) -> bool:
    if level == "grid":
        return session.execute(select(Grid.id).where(
            Grid.code == code, Grid.current())).first() is not None
    return session.execute(select(Region.id).where(
        Region.code == code, Region.current())).first() is not None


def _by_code(session, model, county_code: str, code: str, option: str, what: str):
    row = session.execute(select(model).where(
        model.county_code == county_code, model.code == code)).scalars().first()
    if row is None:
        raise InvalidOption(option, f"no {what} with code {code!r} in county {county_code}; "
                            f"load or import the {what}s first")
    return row


def create_user(session, login: str, role: str, region: str, password: str, *,
                unit: str | None = None, cadre: str | None = None,
                name: str | None = None, locale: str | None = None) -> AppUser:
    """Validate and add an account (flushed, not committed). Raises UserError."""
    login = normalise_login(login)
    if not re.fullmatch(LOGIN_PATTERN, login):
        raise InvalidOption("LOGIN", f"{login!r} must be 2–64 letters, digits or _ . @ -")
    if role not in ROLES:
        raise InvalidOption("--role", f"{role!r} is not a role; use one of {', '.join(ROLES)}")
    region = (region or "").strip()
    level = code_level(region)
    if level not in SCOPE_LEVELS[role]:
        raise InvalidOption("--region", f"a {role} is scoped to a {' or '.join(SCOPE_LEVELS[role])} "
                            f"code, and {region!r} is a {level} code")
    if not _current_region_exists(session, region, level):
        raise InvalidOption("--region", f"no current {level} with code {region!r} in the database; "
                            "load or import the regions and grids first")
    county_code = region[:6]
    if role == "unit_handler" and not unit:
        raise InvalidOption("--unit", "a unit_handler needs the code of the unit whose issues they handle")
    if role == "cadre" and not cadre:
        raise InvalidOption("--cadre", "a cadre account needs the cadre's code (their paired households are their scope)")
    unit_row = _by_code(session, Unit, county_code, unit, "--unit", "unit") if unit else None
    cadre_row = _by_code(session, Cadre, county_code, cadre, "--cadre", "cadre") if cadre else None
    check_new_password(password)
    if find_user(session, login) is not None:
        raise InvalidOption("LOGIN", f"an account {login!r} already exists; pick another login "
                            "or use `gridmap users reset-password`")
    user = AppUser(
        county_code=county_code, login=login, password_hash=hash_password(password),
        display_name=(name or "").strip() or None, role=role, scope_code=region,
        unit_id=unit_row.id if unit_row else None, cadre_id=cadre_row.id if cadre_row else None,
        locale=locale, active=True)
    session.add(user)
    session.flush()
    return user


def reset_password(session, login: str, password: str) -> AppUser:
    """Set a new password (signing the account out everywhere). Raises UserError."""
    user = find_user(session, login)
    if user is None:
        raise NoSuchUser(f"no account {normalise_login(login)!r}; `gridmap users create` makes one")
    check_new_password(password)
    user.password_hash = hash_password(password)
    session.flush()
    return user


# --- `gridmap users ...` ----------------------------------------------------------------

def _run(work):
    """Run `work(session)` in one transaction; account errors become CLI errors."""
    from flask import current_app

    with current_app.extensions["gridmap.sessionmaker"]() as session:
        try:
            with session.begin():
                return work(session)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc


def _require_stdin(password_stdin: bool) -> str:
    if not password_stdin:
        raise click.UsageError("give --password-stdin and pipe the password in, "
                               "e.g. `printf '%s\\n' \"$PW\" | gridmap users create ...`")
    return sys.stdin.readline().rstrip("\r\n")


@click.group("users")
def users_cli():
    """Accounts: create, reset passwords."""


@users_cli.command("create")
@click.argument("login")
@click.option("--role", required=True, help=f"one of {', '.join(ROLES)}")
@click.option("--region", required=True, help="county, township, village or grid code of the scope")
@click.option("--unit", help="unit code (required for unit_handler)")
@click.option("--cadre", help="cadre code (required for cadre)")
@click.option("--name", help="display name")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
def create_command(login, role, region, unit, cadre, name, password_stdin):
    """Create account LOGIN (the password is read from stdin, never from an argument)."""
    password = _require_stdin(password_stdin)
    user = _run(lambda session: create_user(session, login, role, region, password,
                                            unit=unit, cadre=cadre, name=name))
    click.echo(f"created {user.login} ({user.role}, scope {user.scope_code})")


@users_cli.command("reset-password")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
def reset_password_command(login, password_stdin):
    """Set a new password for LOGIN; its sessions on every device end."""
    password = _require_stdin(password_stdin)
    user = _run(lambda session: reset_password(session, login, password))
    click.echo(f"password changed for {user.login}")
