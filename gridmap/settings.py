"""Per-county settings: defaults in gridmap/defaults.toml, overrides in the `setting` table.

A key is the dotted path of a leaf of defaults.toml (a number, a string or a list),
e.g. `issue.triage_hours.urgent`. Reading a group (`issue.triage_hours`) gives the
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

from sqlalchemy import delete, event, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gridmap import audit, clock
from gridmap.codes import COUNTY_CODE, GRID_SCHEMES
from gridmap.errors import BadInput, NotFound, _
from gridmap.models import Setting

# Extra rules for keys whose default alone does not say enough.
CHOICES = {"grid_code.scheme": GRID_SCHEMES}
LIST_ITEMS = {"calendar.holidays": "date", "calendar.workdays": "date"}  # the default is empty, so name the item type


class SettingsError(BadInput):
    """A setting that cannot be read or written, with what to do about it."""


class UnknownSetting(SettingsError, NotFound):
    """No such key (or a group named where a leaf is needed)."""

    code = "unknown_setting"
    status = 404


class InvalidSetting(SettingsError):
    """A value of the wrong shape for its key."""


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
        raise SettingsError(_("县代码 %(county)r 不是 6 位数字（如 532329）", county=county_code),
                            field="county")


# A session's overrides, read once per transaction: a visit reads its checklist and its
# distance limit, a page its intervals and weights; each was one more round trip. `set` and
# `reset` drop what they change; the end of a transaction (or savepoint) drops all.
CACHE = "gridmap.settings"


def overrides(session, county_code: str) -> dict:
    """The county's own overrides (keys no longer in the defaults are ignored)."""
    _check_county(county_code)
    cache = session.info.setdefault(CACHE, {}) if isinstance(session, Session) else {}
    if county_code not in cache:
        rows = session.execute(select(Setting.key, Setting.value).where(
            Setting.county_code == county_code)).all()
        known = default_values()
        cache[county_code] = {key: value for key, value in rows if key in known}  # stale keys ignored
    return dict(cache[county_code])


def forget(session) -> None:
    """Drop the settings `session` has read (after a write, or when its transaction ends)."""
    if isinstance(session, Session):
        session.info.pop(CACHE, None)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session, _transaction) -> None:
    forget(session)  # another transaction may have changed them since


def all(session, county_code: str) -> dict:  # noqa: A001 - the module's API reads settings.all()
    """Every setting in force for the county, flat: defaults with overrides applied."""
    return {**default_values(), **overrides(session, county_code)}


def get(session, county_code: str, key: str):
    """The county's value of `key` (a leaf), or the merged group when `key` names a group."""
    values = all(session, county_code)
    if key in values:
        return values[key]
    group = {k: v for k, v in values.items() if k.startswith(key + ".")}
    if not group:
        raise UnknownSetting(_unknown(key), field="key")
    return _nest(group, key)


def _unknown(key: str) -> str:
    return _("没有设置项 %(key)r；`gridmap settings list 县代码` 列出全部（新设置项加在 "
             "gridmap/defaults.toml）", key=key)


def validate(key: str, value):
    """`value` checked against the default of `key`; returns it normalised (ints for floats ok)."""
    known = default_values()
    if key not in known:
        groups = sorted(k for k in known if k.startswith(key + "."))
        if groups:
            raise UnknownSetting(_("%(key)r 是一组设置；请设置其中一项：%(keys)s", key=key,
                                   keys=", ".join(groups)), field="key")
        raise UnknownSetting(_unknown(key), field="key")
    default = known[key]
    if isinstance(default, list):
        if not isinstance(value, list):
            raise InvalidSetting(_("%(key)s 应是列表，如 %(example)s", key=key, example=json.dumps(
                default or ["2026-10-01"], ensure_ascii=False)), field="value")
        kind = LIST_ITEMS.get(key) or (type(default[0]).__name__ if default else "str")
        return [_check_item(key, kind, item) for item in value]
    return _check_item(key, type(default).__name__, value)


def _check_item(key: str, kind: str, value):
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidSetting(_("%(key)s 应是 true 或 false，而不是 %(value)r", key=key, value=value),
                                 field="value")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSetting(_("%(key)s 应是数字，而不是 %(value)r", key=key, value=value),
                                 field="value")
        if kind == "int" and not isinstance(value, int):
            raise InvalidSetting(_("%(key)s 应是整数，而不是 %(value)r", key=key, value=value),
                                 field="value")
        if value < 0:
            raise InvalidSetting(_("%(key)s 不能是负数：%(value)r", key=key, value=value),
                                 field="value")
        return float(value) if kind == "float" else value
    if kind == "date":
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise InvalidSetting(_("%(key)s：%(value)r 不是 YYYY-MM-DD 格式的日期", key=key, value=value),
                                 field="value") from None
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidSetting(_("%(key)s 应是非空文本，而不是 %(value)r", key=key, value=value),
                             field="value")
    if key in CHOICES and value not in CHOICES[key]:
        raise InvalidSetting(_("%(key)s 应是 %(choices)s 之一，而不是 %(value)r", key=key,
                               choices=", ".join(CHOICES[key]), value=value), field="value")
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
    forget(session)
    return value


def reset(session, county_code: str, key: str, actor=None) -> None:
    """Drop the county's override of `key`: the default applies again. With an `actor`, a
    value that changes by it is a `setting_change` audit event, as in `apply`."""
    _check_county(county_code)
    if key not in default_values():
        raise UnknownSetting(_unknown(key), field="key")
    before = get(session, county_code, key)
    session.execute(delete(Setting).where(Setting.county_code == county_code, Setting.key == key))
    after = default_values()[key]
    if actor is not None and before != after:
        audit.record(session, actor, "setting_change", f"setting:{key}",
                     {"before": before, "after": after}, county_code=county_code)
    forget(session)


# --- the administration page's groups -----------------------------------------------------------

# Groups an administrator edits on /admin/settings, in this order (every leaf of each).
EDITABLE_GROUPS = ("visit.interval_days", "metrics.weights", "visit.checklist", "calendar")
WEIGHTS = "metrics.weights"


def from_text(key: str, raw: str):
    """A value typed in a form for `key`: a number, or a list one item a line (blank lines
    dropped). Refusals name the key."""
    known = default_values()
    if key not in known:
        raise UnknownSetting(_unknown(key), field=key)
    default, raw = known[key], (raw or "").strip()
    try:
        if isinstance(default, list):
            return validate(key, [line.strip() for line in raw.splitlines() if line.strip()])
        if isinstance(default, bool) or not isinstance(default, int | float):
            return validate(key, raw)
        try:
            number = int(raw) if isinstance(default, int) else float(raw)
        except ValueError:
            raise InvalidSetting(_("%(key)s 应是%(kind)s，而不是 %(value)r", key=key, value=raw,
                                   kind=_("整数") if isinstance(default, int) else _("数字")),
                                 field=key) from None
        return validate(key, number)
    except SettingsError as refused:
        raise type(refused)(refused.message, field=key) from None


def change(session, county_code: str, typed: dict, actor) -> dict:
    """Set the keys of `typed` (key → text from a form) together (see `apply`). Returns
    key → [before, after]."""
    return apply(session, county_code, {key: from_text(key, raw) for key, raw in typed.items()},
                 actor)


def apply(session, county_code: str, wanted: dict, actor) -> dict:
    """Set the keys of `wanted` (key → value) together, by the web page or the command line:
    all are checked before any is written, and the 三率 weights must not all be 0. Unchanged
    keys are left alone. Each key changed is one `setting_change` audit event with its value
    before and after (`actor`: an account, or the text naming a command's operator). Returns
    key → [before, after]."""
    _check_county(county_code)
    wanted = {key: validate(key, value) for key, value in wanted.items()}
    current = all(session, county_code)
    merged = {**current, **wanted}
    weights = [key for key in merged if key.startswith(WEIGHTS + ".")]
    if weights and not sum(merged[key] for key in weights) > 0:
        raise InvalidSetting(_("三率权重不能全为 0"), field=weights[0])
    changed = {key: [current[key], value] for key, value in wanted.items() if current[key] != value}
    for key, (before, after) in changed.items():
        set(session, county_code, key, after, getattr(actor, "id", None))
        audit.record(session, actor, "setting_change", f"setting:{key}",
                     {"before": before, "after": after}, county_code=county_code)
    return changed
