"""Cell types of import files: each parser turns one cell into a value or says what to fix.

Messages are `gridmap.errors` Messages (zh-CN msgids, translated when shown); the caller
adds the file, row and field name.
"""

from __future__ import annotations

import json
import operator
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from gridmap.errors import BadInput, Message, _

CHINA_TZ = timezone(timedelta(hours=8))
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")
# Day-anchored: `-P12D@09:30` is 09:30 China time 12 days before today (in China time),
# `-P9WD@09:30` nine working days (Mon–Fri) before; what happened in office hours stays
# in office hours whatever time of day the file is loaded.
_ANCHORED = re.compile(r"^(?P<sign>[+-])?P(?P<count>\d{1,6})(?P<unit>D|WD)@(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_NUMBERISH = re.compile(r"^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$")
# What PostgreSQL text cannot hold: NUL, and lone surrogates (JSON escapes such as "\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
INT_MAX = 2_147_483_647  # the database's integer columns
YEARS = (1900, 2199)  # times outside these years are typing errors
_TRUE = {"true", "t", "1", "yes", "y", "是", "√"}
_FALSE = {"false", "f", "0", "no", "n", "否", ""}


class CellProblem(BadInput):
    """What is wrong with one cell (`problem`, the error's message), and what to do (`hint`)."""

    def __init__(self, problem: Message | str, hint: Message | str = ""):
        super().__init__(problem)
        self.problem, self.hint = self.message, hint


def id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of an 18-digit ID number."""
    if len(first17) != len(ID_WEIGHTS):
        raise ValueError("an ID number's check digit follows 17 digits")
    return ID_CHECK[sum(map(operator.mul, map(int, first17), ID_WEIGHTS)) % 11]


def storable(text: str) -> bool:
    """Whether the database can store `text` (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(text) is None


def check_storable(text: str) -> None:
    """Refuse characters the database cannot store, before they reach it."""
    bad = _UNSTORABLE.search(text)
    if bad is not None:
        position = bad.start() + 1
        what = _("含有 NUL 字符（第 %(position)s 个字符）", position=position) if bad.group() == "\x00" \
            else _("含有无效的 Unicode 代理字符 %(char)s（第 %(position)s 个字符）",
                   char=f"\\u{ord(bad.group()):04x}", position=position)
        raise CellProblem(what, _("请删除该字符后重新导出（常见于从其他系统复制来的文本或损坏的转义）"))


# --- whole columns --------------------------------------------------------------------------
# A county's register is hundreds of thousands of rows of ~20 cells: a Python call per cell
# was most of an import. So a parser may carry `parse.columnwise(cells, default)`: the values
# of a whole column (an empty cell is `default`) when every cell is in its plain form — no
# surrounding spaces, nothing the parser would change or refuse — checked with a few passes in
# C (a regex per cell, a join, a set); else None, and the core parses that column cell by cell,
# each bad cell with the parser's own message. So the values are always what `parse` gives.

ColumnWise = Callable[[list[str], object], list | None]


def columnwise(form: ColumnWise):
    """Give the decorated parser its whole-column form."""
    def give(parse):
        parse.columnwise = form
        return parse
    return give


def plain(cells: list[str]) -> bool:
    """No cell has surrounding spaces (a cell of spaces has)."""
    return list(map(str.strip, cells)) == cells


def matching_column(pattern: re.Pattern, convert: Callable[[str], object] | None = None) -> ColumnWise:
    """Cells that fullmatch `pattern` (which admits no space at either end) are read as they
    are (or as `convert` makes them)."""
    def form(cells: list[str], default) -> list | None:
        if not all(map(pattern.fullmatch, filter(None, cells))):
            return None
        if convert is None:
            return [cell or default for cell in cells]
        return [convert(cell) if cell else default for cell in cells]
    return form


def table_column(table: dict[str, object]) -> ColumnWise:
    """Cells that are keys of `table` are read as its values."""
    def form(cells: list[str], default) -> list | None:
        try:
            return [table[cell] if cell else default for cell in cells]
        except KeyError:
            return None
    return form


_NOT_DECIMAL = re.compile(r"[^0-9.\-]")


def decimal_column(cells: list[str]) -> list[float | None] | None:
    """Plain decimals (`102.4051`, `-3`) as floats, empty cells None."""
    if _NOT_DECIMAL.search("".join(cells)):
        return None
    try:
        return [float(cell) if cell else None for cell in cells]
    except ValueError:  # "1.2.3", "-", "."
        return None


def whole_column(cells: list[str], low: int, high: int) -> list[int | None] | None:
    """Plain whole numbers from `low` to `high` (not negative) as ints, empty cells None."""
    filled = [cell for cell in cells if cell]
    if not filled:
        return [None] * len(cells)
    joined = "".join(filled)
    if not (joined.isascii() and joined.isdigit()) or max(map(len, filled)) > 10:
        return None
    values = [int(cell) if cell else None for cell in cells]
    numbers = list(map(int, filled))
    return values if low <= min(numbers) and max(numbers) <= high else None


def parse_text(raw: str) -> str:
    """The cell's text without surrounding spaces."""
    return raw.strip()


def code_parser(pattern: str, example: str) -> Callable[[str], str]:
    """Codes are strings: leading zeros kept, Excel's float mangling named."""
    compiled = re.compile(pattern)

    @columnwise(matching_column(compiled))
    def parse(raw: str) -> str:
        value = raw.strip()
        if compiled.fullmatch(value):
            return value
        if _NUMBERISH.fullmatch(value) and ("." in value or "e" in value.lower()):
            raise CellProblem(
                _("代码 %(value)s 被存成了数字（科学计数法或小数）", value=quoted(value)),
                _("Excel 会把长代码变成数字：把该列设为「文本」格式、重新填写后另存为 CSV UTF-8"))
        raise CellProblem(_("代码 %(value)s 格式不对", value=quoted(value)),
                          _("应形如 %(example)s（按文本保存，保留前导 0）", example=example))
    return parse


def parse_int(raw: str) -> int:
    """A whole number that fits the database's integer columns."""
    value = raw.strip()
    try:
        number = int(value)
    except ValueError:
        raise CellProblem(_("%(value)s 不是整数", value=quoted(value)), _("请填写整数，如 3")) from None
    if abs(number) > INT_MAX:
        raise CellProblem(_("%(value)s 超出范围", value=shorten(value)),
                          _("整数应在 ±%(limit)s 之内", limit=INT_MAX))
    return number


def shorten(value: str, limit: int = 40) -> str:
    """A cell as quoted in a message: hostile or overlong cells are cut."""
    return value if len(value) <= limit else value[:limit] + "…"


def quoted(value: str) -> str:
    """A cell as a message quotes it: cut, in Python's quotes (escapes show hidden characters)."""
    return repr(shorten(value))


def readable(value: str) -> str:
    """A name or code as a message shows it unquoted: control and invalid characters escaped, cut."""
    return shorten(value if value.isprintable() else repr(value))


def parse_float(raw: str) -> float:
    """A finite decimal number."""
    value = raw.strip()
    try:
        number = float(value)
    except ValueError:
        raise CellProblem(_("%(value)s 不是数字", value=quoted(value)),
                          _("请填写数字，小数点用英文句点，如 102.4051")) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise CellProblem(_("%(value)s 不是有限数字", value=quoted(value)), _("请填写普通数字"))
    return number


_BOOL_CELLS = {form: value for words, value in ((_TRUE, True), (_FALSE, False)) for word in words if word
               for form in (word, word.upper(), word.title())}


@columnwise(table_column(_BOOL_CELLS))
def parse_bool(raw: str) -> bool:
    """是/否, true/false, 1/0, y/n and the like."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellProblem(_("%(value)s 不是是/否", value=quoted(raw)), _("请填写 true/false、1/0 或 是/否"))


_PHONE = re.compile(r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}")


@columnwise(matching_column(_PHONE))
def parse_phone(raw: str) -> str:
    """A mainland mobile or landline number, digits kept as text."""
    value = raw.strip().replace(" ", "")
    if _PHONE.fullmatch(value):
        return value
    if _NUMBERISH.fullmatch(value) and ("." in value or "e" in value.lower()):
        raise CellProblem(_("电话 %(value)s 被存成了数字", value=quoted(value)),
                          _("把该列设为「文本」格式后另存为 CSV UTF-8"))
    raise CellProblem(_("电话 %(value)s 格式不对", value=quoted(value)),
                      _("手机号 11 位（如 13812345678），座机如 0878-8712345"))


_ID_FORM = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)
_ID_CHECK = np.frombuffer(ID_CHECK.encode("ascii"), dtype=np.uint8)


def _id_column(cells: list[str], default) -> list | None:
    """ID numbers in their plain form whose check characters are right, computed for the
    whole column at once."""
    filled = [cell for cell in cells if cell]
    if not all(map(_ID_FORM.fullmatch, filled)):
        return None
    if filled:
        table = np.frombuffer("".join(filled).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        expected = _ID_CHECK[((table[:, :17] - ord("0")).astype(np.int64) @ _ID_WEIGHTS) % 11]
        if not (expected == table[:, 17]).all():
            return None
    return [cell or default for cell in cells]


@columnwise(_id_column)
def parse_id_number(raw: str) -> str:
    """An 18-character resident ID number with a valid check character."""
    value = raw.strip().upper()
    if not _ID_FORM.fullmatch(value):
        if _NUMBERISH.fullmatch(value) and ("." in value or "E" in value):
            raise CellProblem(_("身份证号 %(value)s 被存成了数字", value=quoted(value)),
                              _("Excel 会截断 18 位号码：把该列设为「文本」格式后重新填写"))
        raise CellProblem(_("身份证号 %(value)s 格式不对", value=quoted(value)),
                          _("应为 18 位，最后一位可为 X"))
    if id_check_digit(value[:17]) != value[17]:
        raise CellProblem(_("身份证号 %(value)s 校验位不对", value=quoted(value)),
                          _("请核对号码（常见原因：抄错一位）"))
    return value


def parse_uuid(raw: str) -> uuid.UUID:
    """A UUID (the client_uuid that makes re-sent rows idempotent)."""
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise CellProblem(_("%(value)s 不是 UUID", value=quoted(raw)),
                          _("应形如 1b4e28ba-2fa1-4d2e-883f-0016d3cca427")) from None


def parse_json_object(raw: str) -> dict:
    """A JSON object (e.g. a checklist's answers), bounded in depth and size."""
    example = _("应形如 %(example)s", example='{"look": ["housing"]}')
    try:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise CellProblem(_("应为 JSON 对象"), example)
        for text in _strings(value):
            check_storable(text)
    except CellProblem:
        raise
    except json.JSONDecodeError as exc:
        raise CellProblem(_("不是有效的 JSON（%(reason)s）", reason=exc.msg), example) from None
    except RecursionError:
        raise CellProblem(_("JSON 嵌套层数过深"), example) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise CellProblem(_("不是有效的 JSON（%(reason)s）", reason=shorten(str(exc))), example) from None
    return value


def _strings(value) -> list[str]:
    """Every key and string inside a parsed JSON value (jsonb refuses \\u0000 and lone surrogates)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(s for v in value.values() for s in _strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def parse_duration(raw: str) -> timedelta | None:
    """A signed ISO 8601 duration (`-P12DT3H`), or None when `raw` is not one (CellProblem if huge)."""
    match = _DURATION.fullmatch(raw.strip())
    if not match or raw.strip().rstrip("T").endswith("P"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
    try:
        delta = timedelta(weeks=parts.get("weeks", 0), days=parts.get("days", 0),
                          hours=parts.get("hours", 0), minutes=parts.get("minutes", 0),
                          seconds=parts.get("seconds", 0))
    except OverflowError:
        raise CellProblem(_("相对时间 %(value)s 太大", value=quoted(raw.strip())),
                          _("相对时间应在几十年之内，如 -P3DT2H")) from None
    return -delta if match.group("sign") == "-" else delta


def parse_anchored(raw: str, now: datetime) -> datetime | None:
    """A day-anchored time (`-P12D@09:30`, `-P9WD@14:00`) as of `now`, or None when `raw` is not one."""
    match = _ANCHORED.fullmatch(raw.strip())
    if not match:
        return None
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 23 or minute > 59:
        raise CellProblem(_("时刻 %(time)s 不存在", time=f"{hour}:{minute:02d}"),
                          _("时刻应为 00:00–23:59，如 -P12D@09:30"))
    count = int(match.group("count")) * (-1 if match.group("sign") == "-" else 1)
    today = now.astimezone(CHINA_TZ).date()
    try:
        day = today + timedelta(days=count) if match.group("unit") == "D" else _add_workdays(today, count)
    except OverflowError:
        return _plausible(None, raw)
    return _plausible(datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ), raw)


def _add_workdays(day: date, count: int) -> date:
    """`count` working days (Mon–Fri) after `day` (before it when negative); 0 is `day` itself."""
    if count == 0:
        return day
    step, left = (1 if count > 0 else -1), abs(count)
    if day.weekday() >= 5:  # from a weekend, the first working day reached is the first step
        while day.weekday() >= 5:
            day += timedelta(days=step)
        left -= 1
    weeks, left = divmod(left, 5)
    day += timedelta(days=7 * weeks * step)
    while left:
        day += timedelta(days=step)
        left -= day.weekday() < 5
    return day


def _shifted(now: datetime, offset: timedelta, raw: str) -> datetime:
    try:
        return _plausible(now + offset, raw)
    except OverflowError:
        return _plausible(None, raw)


def _plausible(moment, raw: str):
    """Times far outside a county's records are typing errors (and some cannot be read back)."""
    if moment is None or not YEARS[0] <= moment.year <= YEARS[1]:
        raise CellProblem(_("%(value)s 不在 %(first)s–%(last)s 年之间", value=quoted(raw.strip()),
                            first=YEARS[0], last=YEARS[1]),
                          _("请检查年份或相对时间（如 -P3DT2H）是否写错"))
    return moment


def time_parser(now: datetime) -> Callable[[str], datetime]:
    """Absolute ISO 8601 times, offsets from `now` (`-P12DT3H` = 12 days 3 hours ago), or
    day-anchored times (`-P12D@09:30` = 12 days ago at 09:30 China time).

    A time without a zone is read as China time (UTC+8).
    """
    def parse(raw: str) -> datetime:
        value = raw.strip()
        anchored = parse_anchored(value, now)
        if anchored is not None:
            return anchored
        offset = parse_duration(value)
        if offset is not None:
            return _shifted(now, offset, value)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CellProblem(_("%(value)s 不是时间", value=quoted(value)),
                              _("请用 ISO 8601，如 2026-11-23T09:30:00+08:00，或相对时间如 -P3DT2H")) from None
        return _plausible(moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ), value)
    return parse


def date_parser(now: datetime) -> Callable[[str], date]:
    """Dates (`2026-12-01`) or day offsets from today in China time (`P30D`)."""
    def parse(raw: str) -> date:
        value = raw.strip()
        offset = parse_duration(value)
        if offset is not None:
            return _shifted(now, offset, value).astimezone(CHINA_TZ).date()
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise CellProblem(_("%(value)s 不是日期", value=quoted(value)),
                              _("请用 2026-12-01 这样的格式，或相对天数如 P30D")) from None
        return _plausible(day, value)
    return parse


def choice_parser(choices: tuple[str, ...], aliases: dict[str, str] | None = None):
    """A parser accepting one of `choices` (or a Chinese alias of one)."""
    aliases = aliases or {}

    @columnwise(table_column({c: c for c in choices} | {k: v for k, v in aliases.items() if v in choices}))
    def parse(raw: str) -> str:
        value = raw.strip()
        value = aliases.get(value, value)
        if value in choices:
            return value
        raise CellProblem(_("%(value)s 不是允许的取值", value=quoted(raw.strip())),
                          _("可选：%(choices)s", choices=", ".join(choices)))
    return parse


@dataclass(frozen=True)
class Ref:
    """A cell naming a row of another table by its natural key (resolved to an id if `to_id`)."""

    table: str
    level: str | None = None  # for region references: county / township / village
    to_id: bool = True
