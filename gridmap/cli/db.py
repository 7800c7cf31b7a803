"""`gridmap db …`: where the database is, migrations, a psql shell, and `prepare` for make.

A plain click group: these commands work before there is an app (or a database) to load.
"""

from __future__ import annotations

import os
import subprocess
import sys

import click

from gridmap import devdb
from gridmap.cli.common import database_url, refused


@click.group("db", cls=click.Group)
def group():
    """The database: where it is, migrations, a psql shell."""


@group.command("ensure")
def ensure_command():
    """Bring up the private PostGIS cluster (unless DATABASE_URL is set)."""
    try:
        devdb.ensure()
    except devdb.DevDbError as exc:
        raise refused(exc) from exc
    click.echo("database ready")


@group.command("url")
def url_command():
    """Print the database URL in use."""
    click.echo(database_url())


@group.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def psql_command(psql_args):
    """Open psql on the database in use (extra arguments go to psql)."""
    sys.exit(subprocess.call(["psql", database_url(), *psql_args], env=os.environ.copy()))


@group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(revision):
    """Apply Alembic migrations (as the owner role) and grant the application's role."""
    from gridmap.migrate import prepare

    app_url = database_url()
    prepare(devdb.owner_url() or app_url, app_url, revision)
    click.echo(f"database at {revision}")


@group.command("prepare")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="load the demo county when the database has none")
@click.pass_context
def prepare_command(ctx, demo):
    """ensure + upgrade + (first run) load the demo: what `make run` and `make test` do."""
    from gridmap.cli.demo import load_command

    ctx.invoke(ensure_command)
    ctx.invoke(upgrade_command)
    if demo:
        ctx.invoke(load_command, directory=None, commit=True, if_empty=True)
    _first_admin()


def _first_admin() -> None:
    """The county's first administrator, when it has none (the demo brings its own)."""
    from gridmap.cli.users import create_first_admin

    county = os.environ.get("GRIDMAP_COUNTY", "532329")
    try:
        create_first_admin(county)
    except click.ClickException as exc:  # no county region yet: nothing to scope an admin to
        click.echo(f"no first administrator yet ({exc.format_message()}); after importing the "
                   f"regions run: gridmap users first-admin --county {county}")
