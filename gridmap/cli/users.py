"""`gridmap users …`: create, list, disable, enable, set-role, reset-password (core: gridmap.users)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gridmap.cli.common import operator, password_from_stdin, transaction
from gridmap.models import ROLES
from gridmap.users import (
    create_user,
    first_admin,
    list_users,
    reset_password,
    set_active,
    set_role,
)

FLAGS = {"login": "LOGIN", "role": "--role", "region": "--region", "unit": "--unit",
         "cadre": "--cadre", "password": "--password-stdin"}


@click.group("users")
def group():
    """Accounts: create, list, disable/enable, set-role, reset passwords."""


@group.command("create")
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
    password = password_from_stdin(password_stdin)
    with transaction(FLAGS) as session:
        user = create_user(session, login, role, region, password, unit=unit, cadre=cadre,
                           name=name, by=operator())
    click.echo(f"created {user.login} ({user.role}, scope {user.scope_code})")


@group.command("reset-password")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
def reset_password_command(login, password_stdin):
    """Set a new password for LOGIN; its sessions on every device end."""
    password = password_from_stdin(password_stdin)
    with transaction(FLAGS) as session:
        user = reset_password(session, login, password, by=operator())
    click.echo(f"password changed for {user.login}")


@group.command("list")
@click.option("--county", help="only this county's accounts")
@with_appcontext
def list_command(county):
    """Every account: login, role, scope, active or disabled."""
    with transaction(FLAGS) as session:
        rows = [(u.login, u.role, u.scope_code or "", "active" if u.active else "disabled",
                 u.display_name or "") for u in list_users(session, county)]
    for row in rows:
        click.echo("\t".join(row))


@group.command("disable")
@click.argument("login")
@with_appcontext
def disable_command(login):
    """Disable LOGIN: it cannot sign in, and its sessions on every device end now."""
    with transaction(FLAGS) as session:
        user = set_active(session, login, False, by=operator())
    click.echo(f"disabled {user.login}")


@group.command("enable")
@click.argument("login")
@with_appcontext
def enable_command(login):
    """Enable LOGIN again (its old sessions stay ended: it signs in afresh)."""
    with transaction(FLAGS) as session:
        user = set_active(session, login, True, by=operator())
    click.echo(f"enabled {user.login}")


@group.command("set-role")
@click.argument("login")
@click.option("--role", required=True, help=f"one of {', '.join(ROLES)}")
@click.option("--region", required=True, help="county, township, village or grid code of the scope")
@click.option("--unit", help="unit code (required for unit_handler)")
@click.option("--cadre", help="cadre code (required for cadre)")
@with_appcontext
def set_role_command(login, role, region, unit, cadre):
    """Give LOGIN a new role and scope; its sessions on every device end."""
    with transaction(FLAGS) as session:
        user = set_role(session, login, role, region, unit=unit, cadre=cadre, by=operator())
    click.echo(f"{user.login} is now {user.role} (scope {user.scope_code})")


def create_first_admin(county_code: str) -> None:
    """Create the county's first administrator if it has none; print its one-time password once."""
    with transaction(FLAGS) as session:
        made = first_admin(session, county_code, by=operator())
    if made is None:
        return
    user, password = made
    click.echo(f"first administrator of {county_code}: login {user.login}, one-time password "
               f"{password}\n  (shown only now; it must be changed at the first sign-in)")


@group.command("first-admin")
@click.option("--county", default=None, help="county code (default: GRIDMAP_COUNTY or 532329)")
@with_appcontext
def first_admin_command(county):
    """Create the first administrator with a one-time password, if the county has none."""
    import os

    create_first_admin(county or os.environ.get("GRIDMAP_COUNTY", "532329"))
