"""`gridmap categories …` and `gridmap ownership …`: issue categories and who owns them (core:
gridmap.categories)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gridmap import categories
from gridmap.cli.common import operator, transaction, translate
from gridmap.models import APPEAL_TYPES

FLAGS = {"county": "COUNTY", "code": "CODE", "name": "--name", "appeal_type": "--appeal-type",
         "triage_hours": "--triage-hours", "urgent_triage_hours": "--urgent-triage-hours",
         "handling_days": "--handling-days", "feedback_days": "--feedback-days",
         "category": "CATEGORY", "region": "REGION", "unit": "UNIT"}


@click.group("categories")
def group():
    """Issue categories of a county: appeal type and stage limits."""


@group.command("list")
@click.argument("county")
@with_appcontext
def list_command(county):
    """Every category of COUNTY with its limits."""
    with transaction(FLAGS) as session:
        rows = categories.all_of(session, county)
        for c in rows:
            click.echo(f"{c.code:<20} {c.name}  {translate(categories.APPEAL_LABELS[c.appeal_type])}  "
                       f"受理 {c.triage_hours} 小时（紧急 {c.urgent_triage_hours}）  "
                       f"处置 {c.handling_days} 个工作日  回访 {c.feedback_days} 天")
    if not rows:
        click.echo(f"county {county} has no categories yet: gridmap categories set {county} CODE --name …")


@group.command("set")
@click.argument("county")
@click.argument("code")
@click.option("--name", help="the category's name (required for a new one)")
@click.option("--appeal-type", type=click.Choice(APPEAL_TYPES),
              help="咨询 inquiry / 求助 help / 投诉 complaint / 举报 tip_off / 建议 suggestion")
@click.option("--triage-hours", type=int, help="hours to triage a normal report")
@click.option("--urgent-triage-hours", type=int, help="hours to triage an urgent report")
@click.option("--handling-days", type=int, help="working days to handle once triaged")
@click.option("--feedback-days", type=int, help="days to feed back once handled")
@with_appcontext
def set_command(county, code, name, appeal_type, **limits):
    """Create or change category CODE of COUNTY (limits not given stay; new: county defaults)."""
    with transaction(FLAGS) as session:
        c = categories.set_category(session, county, code, name=name, appeal_type=appeal_type,
                                    actor=operator(), **limits)
        click.echo(f"{c.code} {c.name}: {c.triage_hours}h/{c.urgent_triage_hours}h, "
                   f"{c.handling_days} WD, {c.feedback_days} d")


@click.group("ownership")
def ownership_group():
    """Who handles which category where: category × region → unit."""


@ownership_group.command("list")
@click.argument("county")
@with_appcontext
def ownership_list_command(county):
    """Every dispatch rule of COUNTY."""
    with transaction(FLAGS) as session:
        for category, region, unit_code, unit_name in categories.ownership_of(session, county):
            click.echo(f"{category:<20} {region:<12} {unit_code:<16} {unit_name}")


@ownership_group.command("set")
@click.argument("county")
@click.argument("category")
@click.argument("region")
@click.argument("unit")
@with_appcontext
def ownership_set_command(county, category, region, unit):
    """Issues of CATEGORY in REGION (a county, township or village code) go to UNIT (a unit code)."""
    with transaction(FLAGS) as session:
        categories.set_owner(session, county, category, region, unit, actor=operator())
    click.echo(f"{category} @ {region} → {unit}")
