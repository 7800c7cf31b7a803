"""`gridmap codes …`: record a region's code change (撤乡设镇, a merger) and list the recorded
ones (core: gridmap.recode). A dry run unless --commit, like `gridmap import`; the next
import applies a change once the new code's region is in (or brought by that import).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from gridmap import audit, recode
from gridmap.cli.common import operator, transaction, translate
from gridmap.errors import _

FLAGS = {"old_code": "OLD", "new_code": "NEW", "changed_on": "--on", "county": "--county"}


@click.group("codes")
def group():
    """Region code changes: record one, list them."""


@group.command("change")
@click.argument("old")
@click.argument("new")
@click.option("--on", "changed_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="the day the change took effect (YYYY-MM-DD)")
@click.option("--reason", help="e.g. 撤乡设镇 (民政部 批复文号)")
@click.option("--county", help="county code (default: the server's, GRIDMAP_COUNTY)")
@click.option("--commit", is_flag=True, help="record it; without it this is a dry run")
@with_appcontext
def change_command(old, new, changed_on, reason, county, commit):
    """Record that region OLD is now NEW (e.g. 532329200 532329104 --on 2021-06-01 --reason 撤乡设镇)."""
    county_code = county or current_app.config["GRIDMAP_COUNTY"]
    with transaction(FLAGS) as session:
        savepoint = session.begin_nested()
        connection = session.connection()
        fresh = recode.record_change(connection, county_code, old.strip(), new.strip(), changed_on.date(), reason)
        pointing = recode.pointing_at(connection, county_code, old.strip())
        if commit and fresh:
            audit.record(connection, operator(), "code_change", f"{old}→{new}",
                         {"changed_on": changed_on.date().isoformat(), "reason": reason}, county_code=county_code)
            savepoint.commit()
        else:
            savepoint.rollback()
    if not fresh:
        click.echo(translate(_("%(old)s → %(new)s 已记录，无需再记", old=old, new=new)))
        return
    click.echo(translate(_("%(old)s → %(new)s（%(on)s）%(outcome)s", old=old, new=new, on=changed_on.date().isoformat(),
                           outcome=_("已记录") if commit else _("试运行（未记录）"))))
    for move in pointing:
        click.echo("  " + translate(_("%(table)s.%(column)s：%(rows)s 行指向 %(old)s", table=move.table,
                                      column=move.column, rows=move.rows, old=old)))
    click.echo(translate(_("导入新代码 %(new)s 的区划时，这些行改为指向新代码", new=new)))
    if not commit:
        click.echo("dry run: add --commit to record")


@group.command("list")
@click.option("--county", help="county code (default: the server's, GRIDMAP_COUNTY)")
@with_appcontext
def list_command(county):
    """The county's recorded code changes, oldest first."""
    from sqlalchemy import select

    from gridmap.models import RegionCodeChange

    county_code = county or current_app.config["GRIDMAP_COUNTY"]
    with transaction(FLAGS) as session:
        rows = session.execute(select(RegionCodeChange).where(RegionCodeChange.county_code == county_code)
                               .order_by(RegionCodeChange.changed_on, RegionCodeChange.old_code)).scalars().all()
        for row in rows:
            click.echo(f"{row.old_code} → {row.new_code}  {row.changed_on.isoformat()}  {row.reason or ''}")

