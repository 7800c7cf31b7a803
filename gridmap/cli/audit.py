"""`gridmap audit prune`: remove audit events past the county's retention (core: gridmap.audit).

Runs as the owner role (GRIDMAP_OWNER_DATABASE_URL or the private cluster's owner): the
application's role may only read and append the log.
"""

from __future__ import annotations

import click

from gridmap import audit, devdb, settings
from gridmap.cli.common import database_url, operator, refused
from gridmap.db import make_engine
from gridmap.errors import GridmapError

FLAGS = {"county": "--county", "before": "--before", "retention_days": "audit.retention_days"}


@click.group("audit")
def group():
    """The audit log: retention."""


@group.command("prune")
@click.option("--county", required=True, help="the county's 6-digit code")
@click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="remove events before this China date (default: now minus the retention)")
@click.option("--commit", is_flag=True, help="really delete (without it: a dry run that counts)")
def prune_command(county, before, commit):
    """Remove COUNTY's audit events older than audit.retention_days (at least 180 days)."""
    engine = make_engine(devdb.owner_url() or database_url())
    try:
        with engine.begin() as connection:
            retention = settings.all(connection, county)["audit.retention_days"]
            cutoff = audit.prune_cutoff(retention, before.date() if before else None)
            pruned = audit.prune(connection, county, cutoff, operator(), commit=commit)
    except GridmapError as exc:
        raise refused(exc, FLAGS) from exc
    finally:
        engine.dispose()
    verb = "removed" if pruned.committed else "would remove (dry run; --commit deletes)"
    click.echo(f"audit log of {county}: {verb} {pruned.rows} events before "
               f"{pruned.before.isoformat()}")

