"""Region codes over time: a recorded code change (撤乡设镇, a merger) moves every row that
points at the old code to the new one.

A change is recorded first (`gridmap codes change`, or a `region_code_change` file); the
import that brings the new code's region (or any later one) applies it: the old region's
current row ends (its history stays, under the old code), and every column holding a
region code — or, for a village, the grid codes that embed it (gridmap.codes) — is moved
to the new code, each move listed. A township's change reaches its villages: a village
under it whose new code (new township + its own 3 digits) is not recorded or imported
gets a new generation under that code. Append-only ledgers keep what was true then.

Core only: a SQLAlchemy connection in, a `Remap` out; no Flask, no click.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from gridmap import codes
from gridmap.errors import BadInput, _
from gridmap.models import Base, RegionCodeChange

# Every column holding a region code (table, column, current rows only), and every one holding
# a grid code. tests/db/test_region_code_change.py reads the schema: a new `*_code` column
# must be named here or in NOT_REGION_CODES.
REGION_POINTERS = (
    ("region", "parent_code", True), ("grid", "village_code", False), ("household", "village_code", False),
    ("issue", "village_code", False), ("area", "township_code", False), ("party_branch", "village_code", False),
    ("unit", "region_code", False), ("assignment", "region_code", False), ("app_user", "scope_code", False),
    ("target", "region_code", False), ("meeting", "region_code", False), ("deed", "region_code", False),
    ("campaign", "region_code", False), ("diary_entry", "region_code", False),
    ("issue_ownership", "region_code", False),
)
GRID_POINTERS = (
    ("household", "grid_code"), ("issue", "grid_code"), ("assignment", "grid_code"), ("area_grid", "grid_code"),
    ("target", "grid_code"), ("app_user", "scope_code"),
)
# `*_code` columns that hold no region or grid code: the county (never changes here), issue
# categories, a village's NBS urban-rural class.
NOT_REGION_CODES = frozenset({"county_code", "category_code", "urban_rural_code"})
# Rows derived by triggers (migrations 0026, 0031, 0032, 0034) from `region` and `grid`, or
# from the households' codes, rebuilt under the new code when those rows move: nothing to remap.
DERIVED_CODES = frozenset({("village_uncovered", "village_code"), ("grid_last_visit", "grid_code"),
                           ("household_count", "village_code"), ("household_count", "grid_code"),
                           ("household_visit_state", "village_code"),
                           ("household_visit_state", "grid_code")})


@dataclass(frozen=True)
class CodeMove:
    """`rows` rows of `table`.`column` moved from code `old` to `new`."""
    table: str
    column: str
    old: str
    new: str
    rows: int


@dataclass
class Remap:
    """What applying the recorded changes did."""
    at: datetime | None = None
    changed: list[tuple[str, str]] = field(default_factory=list)  # region codes (old, new) applied
    grids: list[tuple[str, str]] = field(default_factory=list)  # grid codes recoded (old, new)
    moves: list[CodeMove] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # recorded, the new code not yet imported

    @property
    def moved_rows(self) -> int:
        """Rows moved in all."""
        return sum(move.rows for move in self.moves)


def recorded(connection: Connection, county_code: str) -> dict[str, str]:
    """The county's recorded changes: old code → new code."""
    return dict(connection.execute(text(
        "SELECT old_code, new_code FROM region_code_change WHERE county_code = :c"), {"c": county_code}).all())


def _current_regions(connection: Connection, county_code: str) -> set[str]:
    return set(connection.execute(text(
        "SELECT code FROM region WHERE county_code = :c AND valid_to IS NULL"), {"c": county_code}).scalars())


def check_change(connection: Connection, county_code: str, old: str, new: str,
                 pending: dict[str, str] | None = None) -> bool:
    """BadInput unless old → new may be recorded: both region codes of the same level in the
    county, the new code not yet in use, the old one known and not already changed, and no
    cycle with the changes recorded (and `pending`, those of the same file). False when the
    very same change is recorded already (nothing to do), True otherwise."""
    for name, value in (("old_code", old), ("new_code", new)):
        if not codes.is_region_code(value):
            raise BadInput(_("%(code)r 不是区划代码（乡镇 9 位、村 12 位）", code=value), field=name)
        if codes.county_of(value) != county_code or len(value) == codes.LENGTH["county"]:
            raise BadInput(_("%(code)s 不是本县 %(county)s 的乡镇或村代码（县代码的变更不在此记录）",
                             code=value, county=county_code), field=name)
    if len(old) != len(new) or old == new:
        raise BadInput(_("%(old)s 与 %(new)s 不是同一级别的两个不同代码", old=old, new=new), field="new_code")
    changes = recorded(connection, county_code)
    if changes.get(old) == new:
        return False
    if old in changes:
        raise BadInput(_("%(old)s 已记录改为 %(new)s；一个代码只能变更一次", old=old, new=changes[old]),
                       field="old_code")
    if new in _current_regions(connection, county_code):
        raise BadInput(_("%(new)s 已是现有区划的代码，不能把 %(old)s 改为它：先记录代码变更，再导入新的区划表"
                         "（并入已有村、社区时，请把住户和网格按新归属导入）", new=new, old=old), field="new_code")
    known = connection.execute(text("SELECT EXISTS (SELECT 1 FROM region WHERE county_code = :c AND code = :old)"),
                               {"c": county_code, "old": old}).scalar_one()
    if not known:
        raise BadInput(_("区划 %(old)s 不存在，无从变更", old=old), field="old_code")
    chain = {**changes, **(pending or {})}
    seen, code = {old}, new
    while code in chain:
        code = chain[code]
        if code in seen:
            raise BadInput(_("%(old)s → %(new)s 与已记录的变更构成循环", old=old, new=new), field="new_code")
        seen.add(code)
    return True


def record_change(connection: Connection, county_code: str, old: str, new: str, changed_on: date,
                  reason: str | None = None) -> bool:
    """Record old → new (checked as `check_change`); False when it was recorded already."""
    if not check_change(connection, county_code, old, new):
        return False
    connection.execute(insert(RegionCodeChange).values(
        county_code=county_code, old_code=old, new_code=new, changed_on=changed_on, reason=reason))
    return True


def pointing_at(connection: Connection, county_code: str, code: str) -> list[CodeMove]:
    """What points at region `code` now, table by table (what a change of it will move)."""
    moves = []
    for table, column, current_only in REGION_POINTERS:
        rows = connection.execute(text(
            f"SELECT count(*) FROM {table} WHERE county_code = :c AND {column} = :code"
            + (" AND valid_to IS NULL" if current_only else "")), {"c": county_code, "code": code}).scalar_one()
        if rows:
            moves.append(CodeMove(table, column, code, "", rows))
    return moves


def new_code_of(changes: dict[str, str], code: str) -> str | None:
    """The code `code` has become under the recorded `changes` (its own, or its township's), or None."""
    if code in changes:
        return _final(changes, code)
    for ancestor in reversed(codes.ancestors(code) if codes.is_region_code(code) else []):
        if ancestor in changes:
            return _final(changes, ancestor) + code[len(ancestor):]
    return None


def _final(changes: dict[str, str], code: str) -> str:
    while code in changes:
        code = changes[code]
    return code


def apply_changes(connection: Connection, county_code: str) -> Remap:
    """Move what points at a changed code to its new code, for every recorded change whose
    new code is a current region (and the villages under a changed township). Nothing is done,
    and nothing listed, for changes already applied."""
    changes = recorded(connection, county_code)
    remap = Remap()
    if not changes:
        return remap
    current = _current_regions(connection, county_code)
    pairs: dict[str, str] = {}
    for old in sorted(changes):
        new = _final(changes, old)
        if new not in current:
            if old in current:
                remap.waiting.append((old, new))
            continue
        pairs[old] = new
        for child in sorted(c for c in current if c.startswith(old) and len(c) > len(old)):
            if child not in changes:  # a change recorded for the child itself wins
                pairs.setdefault(child, new + child[len(old):])
    pairs = {old: new for old, new in pairs.items() if old in current or _points(connection, county_code, old)}
    if not pairs:
        return remap
    remap.at = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
    for old, new in sorted(pairs.items(), key=lambda pair: (len(pair[0]), pair[0])):
        _retire_region(connection, county_code, old, new, new in current, remap.at)
        current.add(new)
        if len(old) == codes.LENGTH["village"]:
            _recode_grids(connection, county_code, old, new, remap)
        for table, column, current_only in REGION_POINTERS:
            _move(connection, county_code, table, column, old, new, remap, current_only)
        remap.changed.append((old, new))
    return remap


def _points(connection: Connection, county_code: str, code: str) -> bool:
    return bool(pointing_at(connection, county_code, code))


def _retire_region(connection, county_code, old, new, new_exists, at) -> None:
    """End the old code's current row; when no row of the new code was imported, the new code
    starts as a new generation of the same region (its name and shape)."""
    if not new_exists:
        connection.execute(text(
            "INSERT INTO region (county_code, code, level, name, parent_code, geom, geom_display, geom_label,"
            " full_name, urban_rural_code, valid_from)"
            " SELECT county_code, :new, level, name, parent_code, geom, geom_display, geom_label, full_name,"
            " urban_rural_code, :at"
            " FROM region WHERE county_code = :c AND code = :old AND valid_to IS NULL"),
            {"c": county_code, "old": old, "new": new, "at": at})
    connection.execute(text(
        "UPDATE region SET valid_to = :at WHERE county_code = :c AND code = :old AND valid_to IS NULL"),
        {"c": county_code, "old": old, "at": at})


def _recode_grids(connection, county_code, old_village, new_village, remap: Remap) -> None:
    """Grid codes that embed the village's old code take its new one (every generation); when a
    grid of the new code was imported already, the old grid's current row ends instead."""
    grid_codes = connection.execute(text(
        "SELECT DISTINCT code FROM grid WHERE county_code = :c AND village_code = :v ORDER BY code"),
        {"c": county_code, "v": old_village}).scalars().all()
    for old in grid_codes:
        new = codes.recode_grid(old, old_village, new_village)
        if new == old:
            continue
        exists = connection.execute(text(
            "SELECT EXISTS (SELECT 1 FROM grid WHERE county_code = :c AND code = :new AND valid_to IS NULL)"),
            {"c": county_code, "new": new}).scalar_one()
        if exists:
            connection.execute(text("UPDATE grid SET valid_to = :at WHERE county_code = :c AND code = :old"
                                    " AND valid_to IS NULL"), {"c": county_code, "old": old, "at": remap.at})
        else:
            _move(connection, county_code, "grid", "code", old, new, remap)
        for table, column in GRID_POINTERS:
            _move(connection, county_code, table, column, old, new, remap)
        remap.grids.append((old, new))


def _move(connection, county_code, table, column, old, new, remap: Remap, current_only: bool = False) -> None:
    width = Base.metadata.tables[table].c[column].type.length
    if width is not None and len(old) > width:
        return  # a column of another level (area.township_code never holds a village code)
    rows = connection.execute(text(
        f"UPDATE {table} SET {column} = :new WHERE county_code = :c AND {column} = :old"
        + (" AND valid_to IS NULL" if current_only else "")), {"c": county_code, "old": old, "new": new}).rowcount
    if rows:
        remap.moves.append(CodeMove(table, column, old, new, rows))
