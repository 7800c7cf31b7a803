"""`gridmap tokens …`: API tokens for other systems — create (the secret is printed once),
list, revoke (core: gridmap.tokens)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gridmap import tokens
from gridmap.cli.common import operator, transaction

FLAGS = {"login": "LOGIN", "label": "--label", "days": "--days"}


@click.group("tokens")
def group():
    """API tokens: create, list, revoke."""


@group.command("create")
@click.argument("login")
@click.option("--label", required=True, help="what the token is for, e.g. '12345 热线平台'")
@click.option("--days", type=int, default=365, show_default=True,
              help="days it stays valid (0: until revoked)")
@with_appcontext
def create_command(login, label, days):
    """Issue a token acting as account LOGIN; its secret is printed once, here."""
    with transaction(FLAGS) as session:
        issued = tokens.issue(session, login, label, days or None, by=operator())
    click.echo(f"token {issued.id} for {login}; keep this secret, it is not shown again:",
               err=True)
    click.echo(issued.secret)


@group.command("list")
@click.option("--county", help="only this county's tokens")
@with_appcontext
def list_command(county):
    """Every token: id, account, label, state, created, expires, last used (never a secret)."""
    with transaction(FLAGS) as session:
        rows = tokens.listing(session, county)
    for row in rows:
        click.echo("\t".join(str(row[k] or "") for k in (
            "id", "login", "label", "state", "created_at", "expires_at", "last_used_at")))


@group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_command(token_id):
    """End token TOKEN_ID now."""
    with transaction(FLAGS) as session:
        tokens.revoke(session, token_id, by=operator())
    click.echo(f"revoked token {token_id}")
