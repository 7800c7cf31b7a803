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


# Grid code schemes a county may choose (setting `grid_code.scheme`). Both embed the code
# of the grid's village, which is how a code change of the village reaches its grids.
GRID_SCHEMES = ("village_serial", "cjt349")
CJT349_LENGTH = 20  # CJ/T 349: 6 service-object + 12 community (county 6 + street 3 + community 3) + 2 serial
# NBS 统计用城乡划分代码 (城乡分类代码) of a village or community.
URBAN_RURAL_CLASSES = {"111": "主城区", "112": "城乡结合区", "121": "镇中心区", "122": "镇乡结合区",
                       "123": "特殊区域", "210": "乡中心区", "220": "村庄"}


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


def make_grid_code(village_code: str, serial: int, scheme: str = "village_serial", *,
                   serial_digits: int = 3, service_object: str = "000000") -> str:
    """The code of grid number `serial` of a village under `scheme` (checked before it is returned)."""
    if scheme == "cjt349":
        code = f"{service_object}{village_code}{serial:02d}"
    else:
        code = f"{village_code}{serial:0{serial_digits}d}"
    check_grid_code(code, village_code, scheme, serial_digits=serial_digits)
    return code


def check_grid_code(code: str, village_code: str | None, scheme: str = "village_serial", *,
                    serial_digits: int = 3) -> None:
    """BadInput unless `code` is a grid code of `village_code` under the county's `scheme`:
    `village_serial` = the 12-digit village code + a serial of `serial_digits` digits;
    `cjt349` = 20 digits, 6 service-object digits, the village (community) code, a 2-digit serial."""
    if scheme not in GRID_SCHEMES:
        raise BadInput(_("网格编码方案 %(scheme)r 未知；可选 %(schemes)s", scheme=scheme,
                         schemes=", ".join(GRID_SCHEMES)), field="grid_code.scheme")
    if scheme == "cjt349":
        if not (isinstance(code, str) and len(code) == CJT349_LENGTH and code.isascii() and code.isdigit()):
            raise BadInput(_("网格代码 %(code)r 不符合 CJ/T 349：应为 20 位数字（6 位服务对象 + 12 位社区代码"
                             " + 2 位网格序号）", code=code), field="code")
        if village_code and code[6:18] != village_code:
            raise BadInput(_("网格代码 %(code)r 第 7–18 位应是所在村（社区）代码 %(village)s",
                             code=code, village=village_code), field="code")
        return
    if not (isinstance(code, str) and re.fullmatch(f"[0-9]{{12}}[0-9]{{{serial_digits}}}", code)):
        raise BadInput(_("网格代码 %(code)r 应为村代码（12 位）+ %(digits)s 位序号", code=code,
                         digits=serial_digits), field="code")
    if village_code and not code.startswith(village_code):
        raise BadInput(_("网格代码 %(code)r 应以所在村代码 %(village)s 开头", code=code, village=village_code),
                       field="code")


def village_in_grid_code(code: str) -> str | None:
    """The village code a grid code embeds under either scheme (None when it embeds none)."""
    if not is_grid_code(code):
        return None
    if len(code) == CJT349_LENGTH and code.isdigit():
        return code[6:18]
    return code[:12] if code[:12].isdigit() else None


def recode_grid(code: str, old_village: str, new_village: str) -> str:
    """A grid code with the village code it embeds changed (a code change of the village);
    a code that does not embed `old_village` is kept."""
    if len(code) == CJT349_LENGTH and code.isdigit() and code[6:18] == old_village:
        return code[:6] + new_village + code[18:]
    if code.startswith(old_village):
        return new_village + code[len(old_village):]
    return code


def check_urban_rural(code: str) -> None:
    """BadInput unless `code` is an NBS 城乡分类代码 (111 … 220)."""
    if code not in URBAN_RURAL_CLASSES:
        raise BadInput(_("城乡分类代码 %(code)r 不在国家统计局的分类中；可选 %(codes)s", code=code,
                         codes=", ".join(f"{k} {v}" for k, v in URBAN_RURAL_CLASSES.items())),
                       field="urban_rural_code")


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


def next_grid_code(village_code: str, taken, scheme: str = "village_serial", *,
                   serial_digits: int = GRID_SERIAL_DIGITS) -> str:
    """The code of a grid newly drawn in `village_code` under the county's `scheme`: the next
    serial after every code of that scheme in `taken` (ended generations included, so a code
    never names two different grids)."""
    digits, length = (2, CJT349_LENGTH) if scheme == "cjt349" else (serial_digits, 12 + serial_digits)
    serials = [int(code[-digits:]) for code in taken
               if len(code) == length and code.isdigit() and village_in_grid_code(code) == village_code]
    serial = max(serials, default=0) + 1
    if serial >= 10 ** digits:
        raise BadInput(_("村 %(code)s 的网格序号已用完（%(most)s）", code=village_code,
                         most=10 ** digits - 1), field="village_code")
    return make_grid_code(village_code, serial, scheme, serial_digits=digits)
