"""`gridmap users …`: create accounts, reset passwords (the core is gridmap.users)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gridmap.cli.common import password_from_stdin, transaction
from gridmap.models import ROLES
from gridmap.users import create_user, reset_password

FLAGS = {"login": "LOGIN", "role": "--role", "region": "--region", "unit": "--unit",
         "cadre": "--cadre", "password": "--password-stdin"}


@click.group("users")
def group():
    """Accounts: create, reset passwords."""


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
                           name=name)
    click.echo(f"created {user.login} ({user.role}, scope {user.scope_code})")


@group.command("reset-password")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
def reset_password_command(login, password_stdin):
    """Set a new password for LOGIN; its sessions on every device end."""
    password = password_from_stdin(password_stdin)
    with transaction(FLAGS) as session:
        user = reset_password(session, login, password)
    click.echo(f"password changed for {user.login}")
