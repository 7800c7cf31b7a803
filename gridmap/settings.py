"""Per-county settings: defaults in gridmap/defaults.toml, overrides in the `setting` table.

A key is the dotted path of a leaf of defaults.toml (a number, a string or a list),
e.g. `issue.triage_hours.urgent`. Reading a group (`issue.handling_days`) gives the
group's leaves with the county's overrides merged in. The default's type is the
schema of a key: an override must have the same shape, or `set` refuses it.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from datetime import date
from importlib import resources

import click
from flask.cli import with_appcontext
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from gridmap import clock
from gridmap.codes import COUNTY_CODE
from gridmap.models import Setting

# Extra rules for keys whose default alone does not say enough.
CHOICES = {"grid_code.scheme": ("village_serial",)}
LIST_ITEMS = {"calendar.holidays": "date"}  # the default is empty, so name the item type


class SettingsError(ValueError):
    """A setting that cannot be read or written, with what to do about it."""


class UnknownSetting(SettingsError):
    pass


class InvalidSetting(SettingsError):
    pass


@functools.cache
def defaults() -> dict:
    """The nested defaults from gridmap/defaults.toml (read once, on first use)."""
    text = resources.files("gridmap").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


@functools.cache
def default_values() -> dict:
    """Every key with its default, flat: {'issue.triage_hours.urgent': 2, ...}."""
    return _flatten(defaults())


def _nest(flat: dict, prefix: str) -> dict:
    tree: dict = {}
    for key, value in flat.items():
        *groups, leaf = key[len(prefix) + 1:].split(".")
        node = tree
        for group in groups:
            node = node.setdefault(group, {})
        node[leaf] = value
    return tree


def _check_county(county_code: str) -> None:
    if not isinstance(county_code, str) or not re.fullmatch(COUNTY_CODE, county_code):
        raise SettingsError(f"county code {county_code!r} is not 6 digits (e.g. 532329)")


def _overrides(session, county_code: str) -> dict:
    _check_county(county_code)
    rows = session.execute(select(Setting.key, Setting.value).where(
        Setting.county_code == county_code)).all()
    known = default_values()
    return {key: value for key, value in rows if key in known}  # stale keys are ignored


def all(session, county_code: str) -> dict:  # noqa: A001 - the module's API reads settings.all()
    """Every setting in force for the county, flat: defaults with overrides applied."""
    return {**default_values(), **_overrides(session, county_code)}


def get(session, county_code: str, key: str):
    """The county's value of `key` (a leaf), or the merged group when `key` names a group."""
    values = all(session, county_code)
    if key in values:
        return values[key]
    group = {k: v for k, v in values.items() if k.startswith(key + ".")}
    if not group:
        raise UnknownSetting(_unknown(key))
    return _nest(group, key)


def _unknown(key: str) -> str:
    return (f"no setting {key!r}; `gridmap settings list COUNTY` shows every key "
            "(new settings are added to gridmap/defaults.toml)")


def validate(key: str, value):
    """`value` checked against the default of `key`; returns it normalised (ints for floats ok)."""
    known = default_values()
    if key not in known:
        groups = sorted(k for k in known if k.startswith(key + "."))
        if groups:
            raise UnknownSetting(f"{key!r} is a group of settings; set one of: {', '.join(groups)}")
        raise UnknownSetting(_unknown(key))
    default = known[key]
    if isinstance(default, list):
        if not isinstance(value, list):
            raise InvalidSetting(f"{key} must be a list like {json.dumps(default or ['2026-10-01'], ensure_ascii=False)}")
        kind = LIST_ITEMS.get(key) or (type(default[0]).__name__ if default else "str")
        return [_check_item(key, kind, item) for item in value]
    return _check_item(key, type(default).__name__, value)


def _check_item(key: str, kind: str, value):
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidSetting(f"{key} must be true or false, not {value!r}")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSetting(f"{key} must be a number, not {value!r}")
        if kind == "int" and not isinstance(value, int):
            raise InvalidSetting(f"{key} must be a whole number, not {value!r}")
        if value < 0:
            raise InvalidSetting(f"{key} must not be negative, not {value!r}")
        return float(value) if kind == "float" else value
    if kind == "date":
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise InvalidSetting(f"{key}: {value!r} is not a date written YYYY-MM-DD") from None
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidSetting(f"{key} must be non-empty text, not {value!r}")
    if key in CHOICES and value not in CHOICES[key]:
        raise InvalidSetting(f"{key} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    return value.strip()


def set(session, county_code: str, key: str, value, user_id: int | None = None):  # noqa: A001
    """Override `key` for the county (validated first); returns the stored value."""
    _check_county(county_code)
    value = validate(key, value)
    statement = insert(Setting).values(
        county_code=county_code, key=key, value=value, updated_at=clock.now(), updated_by=user_id)
    session.execute(statement.on_conflict_do_update(
        index_elements=[Setting.county_code, Setting.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at,
              "updated_by": statement.excluded.updated_by}))
    return value


def reset(session, county_code: str, key: str) -> None:
    """Drop the county's override of `key`: the default applies again."""
    _check_county(county_code)
    if key not in default_values():
        raise UnknownSetting(_unknown(key))
    session.execute(delete(Setting).where(Setting.county_code == county_code, Setting.key == key))


# --- `gridmap settings ...` -------------------------------------------------------------

def _parse_cli_value(raw: str):
    """JSON when it parses (numbers, lists, true/false), else the text itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _session():
    from flask import current_app

    return current_app.extensions["gridmap.sessionmaker"]()


def _echo(key: str, value) -> None:
    click.echo(f"{key} = {json.dumps(value, ensure_ascii=False)}")


@click.group("settings")
def settings_cli():
    """Per-county settings: list, get, set, reset."""


@settings_cli.command("list")
@click.argument("county")
@with_appcontext
def list_command(county):
    """Every setting in force for COUNTY (overrides marked *)."""
    overrides, values = _with_session(
        lambda session: (_overrides(session, county), all(session, county)))
    for key, value in values.items():
        _echo(("* " if key in overrides else "  ") + key, value)


def _with_session(work):
    """Run `work(session)` in one transaction; settings errors become CLI errors."""
    with _session() as session:
        try:
            with session.begin():
                return work(session)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc


@settings_cli.command("get")
@click.argument("county")
@click.argument("key")
@with_appcontext
def get_command(county, key):
    """The value of KEY (or a group of keys) for COUNTY."""
    value = _with_session(lambda session: get(session, county, key))
    _echo(key, value)


@settings_cli.command("set")
@click.argument("county")
@click.argument("key")
@click.argument("value")
@with_appcontext
def set_command(county, key, value):
    """Override KEY for COUNTY. VALUE is JSON (10, 0.75, ["a","b"]) or plain text."""
    stored = _with_session(lambda session: set(session, county, key, _parse_cli_value(value)))
    _echo(key, stored)


@settings_cli.command("reset")
@click.argument("county")
@click.argument("key")
@with_appcontext
def reset_command(county, key):
    """Drop COUNTY's override of KEY (the default applies again)."""
    _with_session(lambda session: reset(session, county, key))
    _echo(key, default_values()[key])
