"""`gridmap settings …`: list, get, set and reset per-county settings (core: gridmap.settings)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from gridmap import settings
from gridmap.cli.common import operator, transaction

FLAGS = {"county": "COUNTY", "key": "KEY", "value": "VALUE"}


def _parse_value(raw: str):
    """JSON when it parses (numbers, lists, true/false), else the text itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _echo(key: str, value) -> None:
    click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


@click.group("settings")
def group():
    """Per-county settings: list, get, set, reset."""


@group.command("list")
@click.argument("county")
@with_appcontext
def list_command(county):
    """Every setting in force for COUNTY (overrides marked *)."""
    with transaction(FLAGS) as session:
        overrides, values = settings.overrides(session, county), settings.all(session, county)
    for key, value in values.items():
        _echo(("* " if key in overrides else "  ") + key, value)


@group.command("get")
@click.argument("county")
@click.argument("key")
@with_appcontext
def get_command(county, key):
    """The value of KEY (or a group of keys) for COUNTY."""
    with transaction(FLAGS) as session:
        value = settings.get(session, county, key)
    _echo(key, value)


@group.command("set")
@click.argument("county")
@click.argument("key")
@click.argument("value")
@with_appcontext
def set_command(county, key, value):
    """Override KEY for COUNTY. VALUE is JSON (10, 0.75, ["a","b"]) or plain text. Checked and
    audited as a change on the settings page is (`setting_change`, by cli:<user>)."""
    with transaction(FLAGS) as session:
        settings.apply(session, county, {key: _parse_value(value)}, operator())
        stored = settings.get(session, county, key)
    _echo(key, stored)


@group.command("reset")
@click.argument("county")
@click.argument("key")
@with_appcontext
def reset_command(county, key):
    """Drop COUNTY's override of KEY (the default applies again; audited as `set` is)."""
    with transaction(FLAGS) as session:
        settings.reset(session, county, key, operator())
    _echo(key, settings.default_values()[key])
