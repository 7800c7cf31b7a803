"""`gridmap ...` commands. Each area keeps its commands beside its core; they are gathered here."""

from __future__ import annotations

import os
import subprocess
import sys

import click
from flask.cli import FlaskGroup

from gridmap import devdb


def _make_app():
    from gridmap import create_app
    from gridmap.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_make_app, add_version_option=False)
def main():
    """gridmap: 民情地图 grid management."""


# A plain click group: these commands work before there is an app (or a database) to load.
@main.group(cls=click.Group)
def db():
    """The database: where it is, migrations, a psql shell."""


@db.command("ensure")
def db_ensure():
    """Bring up the private PostGIS cluster (unless DATABASE_URL is set)."""
    try:
        devdb.ensure()
    except devdb.DevDbError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("database ready")


@db.command("url")
def db_url():
    """Print the database URL in use."""
    url = devdb.app_url()
    if not url:
        raise click.ClickException("no database yet: set DATABASE_URL or run `make run` once")
    click.echo(url)


@db.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def db_psql(psql_args):
    """Open psql on the database in use (extra arguments go to psql)."""
    url = devdb.app_url()
    if not url:
        raise click.ClickException("no database yet: set DATABASE_URL or run `make run` once")
    sys.exit(subprocess.call(["psql", url, *psql_args], env=os.environ.copy()))


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Apply Alembic migrations."""
    from gridmap.migrate import upgrade

    url = devdb.app_url()
    if not url:
        raise click.ClickException("no database yet: set DATABASE_URL or run `gridmap db ensure`")
    upgrade(url, revision)
    click.echo(f"database at {revision}")


@db.command("prepare")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="load the demo county when the database has none")
@click.pass_context
def db_prepare(ctx, demo):
    """ensure + upgrade + (first run) load the demo: what `make run` and `make test` do."""
    from gridmap.demo.cli import load_command

    ctx.invoke(db_ensure)
    ctx.invoke(db_upgrade)
    if demo:
        ctx.invoke(load_command, directory=None, commit=True, if_empty=True)


def _register_subcommands() -> None:
    from gridmap.demo.cli import demo
    from gridmap.settings import settings_cli
    from gridmap.users import users_cli

    main.add_command(demo)
    main.add_command(settings_cli)
    main.add_command(users_cli)


_register_subcommands()
