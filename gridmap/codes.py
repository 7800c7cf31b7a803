"""Region and grid codes: formats, levels and the hierarchy, in one place.

Region codes are national (GB/T 2260 + NBS) and hierarchical strings: county 6 digits →
township 9 → village/community 12, each the prefix of the next, so "inside a region" is a
prefix match. Grid codes are local: the default scheme is the village code + a 3-digit
serial, but CJ/T 349 (20 digits) or a county's own scheme may not start with the village
code. So nothing may assume a grid code's prefix: a grid's place is its `village_code`.
Codes are always strings (leading zeros), never numbers.
"""

from __future__ import annotations

import re

from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, _

COUNTY_CODE = r"^[0-9]{6}$"
TOWNSHIP_CODE = r"^[0-9]{9}$"
VILLAGE_CODE = r"^[0-9]{12}$"
REGION_CODE = r"^[0-9]{6}([0-9]{3}){0,2}$"
GRID_CODE = r"^[0-9A-Za-z]{13,24}$"

REGION_LEVELS = ("county", "township", "village")
LENGTH = {"county": 6, "township": 9, "village": 12}
LEVEL_OF_LENGTH = {length: level for level, length in LENGTH.items()}


def is_region_code(code: str | None) -> bool:
    """A county, township or village code (6, 9 or 12 digits)."""
    return isinstance(code, str) and re.fullmatch(REGION_CODE, code) is not None


def is_grid_code(code: str | None) -> bool:
    """A grid code of any scheme (13–24 letters or digits); never a region code."""
    return isinstance(code, str) and re.fullmatch(GRID_CODE, code) is not None


def level_of(code: str, *, field: str = "region") -> str:
    """'county', 'township', 'village' or 'grid' for a well-formed code; BadInput otherwise."""
    if is_region_code(code):
        return LEVEL_OF_LENGTH[len(code)]
    if is_grid_code(code):
        return "grid"
    raise BadInput(_("%(code)r 不是县（6 位）、乡镇（9 位）、村（12 位）或网格代码（村代码 + 序号）",
                     code=code), field=field)


def prefix(code: str, level: str) -> str:
    """The code of the region at `level` containing region `code` (a prefix of it)."""
    return code[:LENGTH[level]]


def county_of(region_code: str) -> str:
    """The county of a region code. (A grid's county is its row's `county_code`.)"""
    return region_code[:LENGTH["county"]]


def ancestors(region_code: str) -> list[str]:
    """The region codes above `region_code`, county first: '532329104201' → county, township."""
    return [region_code[:n] for n in LENGTH.values() if n < len(region_code)]


def is_within(code: str, region_code: str) -> bool:
    """Whether region `code` is `region_code` or lies inside it (the prefix rule)."""
    return code.startswith(region_code)


LEDGER_PREFIXES = {"target": "GP", "meeting": "HY", "deed": "SS"}  # 挂牌, 会议, 实事


def ledger_code(table: str, moment, row_id: int) -> str:
    """A ledger row's code, as issues' `MQ…`: prefix + China date + zero-padded id
    (`GP2026120100012`); imported rows keep the code of their file."""
    return f"{LEDGER_PREFIXES[table]}{moment.astimezone(CHINA_TIME):%Y%m%d}{row_id:05d}"


GRID_SERIAL_DIGITS = 3


def next_grid_code(village_code: str, taken) -> str:
    """The code of a grid newly drawn in `village_code`: the village code + the next 3-digit
    serial after every code of the default scheme in `taken` (ended generations included, so a
    code never names two different grids)."""
    serials = [int(code[len(village_code):]) for code in taken
               if code.startswith(village_code) and len(code) == len(village_code) + GRID_SERIAL_DIGITS
               and code[len(village_code):].isdigit()]
    serial = max(serials, default=0) + 1
    if serial >= 10 ** GRID_SERIAL_DIGITS:
        raise BadInput(_("村 %(code)s 的网格序号已用完（%(most)s）", code=village_code,
                         most=10 ** GRID_SERIAL_DIGITS - 1), field="village_code")
    return f"{village_code}{serial:0{GRID_SERIAL_DIGITS}d}"
