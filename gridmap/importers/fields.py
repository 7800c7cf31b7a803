"""Cell types of import files: each parser turns one cell into a value or says what to fix.

Messages are Chinese first; the caller adds the file, row and field name.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8))
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")
_NUMBERISH = re.compile(r"^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$")
_TRUE = {"true", "t", "1", "yes", "y", "是", "√"}
_FALSE = {"false", "f", "0", "no", "n", "否", ""}


class CellProblem(ValueError):
    """What is wrong with one cell, and what to do."""


def id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of an 18-digit ID number."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def parse_text(raw: str) -> str:
    return raw.strip()


def code_parser(pattern: str, example: str) -> Callable[[str], str]:
    """Codes are strings: leading zeros kept, Excel's float mangling named."""
    compiled = re.compile(pattern)

    def parse(raw: str) -> str:
        value = raw.strip()
        if compiled.fullmatch(value):
            return value
        if _NUMBERISH.fullmatch(value) and ("." in value or "e" in value.lower()):
            raise CellProblem(
                f"代码 {value!r} 被存成了数字（科学计数法或小数）",
                "Excel 会把长代码变成数字：把该列设为「文本」格式、重新填写后另存为 CSV UTF-8")
        raise CellProblem(f"代码 {value!r} 格式不对", f"应形如 {example}（按文本保存，保留前导 0）")
    return parse


def parse_int(raw: str) -> int:
    value = raw.strip()
    try:
        return int(value)
    except ValueError:
        raise CellProblem(f"{value!r} 不是整数", "请填写整数，如 3") from None


def parse_float(raw: str) -> float:
    value = raw.strip()
    try:
        number = float(value)
    except ValueError:
        raise CellProblem(f"{value!r} 不是数字", "请填写数字，小数点用英文句点，如 102.4051") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise CellProblem(f"{value!r} 不是有限数字", "请填写普通数字")
    return number


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellProblem(f"{raw!r} 不是是/否", "请填写 true/false、1/0 或 是/否")


def parse_phone(raw: str) -> str:
    value = raw.strip().replace(" ", "")
    if re.fullmatch(r"1[3-9]\d{9}", value) or re.fullmatch(r"0\d{2,3}-?\d{7,8}", value):
        return value
    if _NUMBERISH.fullmatch(value) and ("." in value or "e" in value.lower()):
        raise CellProblem(f"电话 {value!r} 被存成了数字", "把该列设为「文本」格式后另存为 CSV UTF-8")
    raise CellProblem(f"电话 {value!r} 格式不对", "手机号 11 位（如 13812345678），座机如 0878-8712345")


def parse_id_number(raw: str) -> str:
    value = raw.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        if _NUMBERISH.fullmatch(value) and ("." in value or "E" in value):
            raise CellProblem(f"身份证号 {value!r} 被存成了数字",
                              "Excel 会截断 18 位号码：把该列设为「文本」格式后重新填写")
        raise CellProblem(f"身份证号 {value!r} 格式不对", "应为 18 位，最后一位可为 X")
    if id_check_digit(value[:17]) != value[17]:
        raise CellProblem(f"身份证号 {value!r} 校验位不对", "请核对号码（常见原因：抄错一位）")
    return value


def parse_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise CellProblem(f"{raw!r} 不是 UUID", "应形如 1b4e28ba-2fa1-4d2e-883f-0016d3cca427") from None


def parse_json_object(raw: str) -> dict:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CellProblem(f"不是有效的 JSON（{exc.msg}）", "应形如 {\"look\": [\"housing\"]}") from None
    if not isinstance(value, dict):
        raise CellProblem("应为 JSON 对象", "应形如 {\"look\": [\"housing\"]}")
    return value


def parse_duration(raw: str) -> timedelta | None:
    """A signed ISO 8601 duration (`-P12DT3H`), or None when `raw` is not one."""
    match = _DURATION.fullmatch(raw.strip())
    if not match or raw.strip().rstrip("T").endswith("P"):
        return None
    parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
    delta = timedelta(weeks=parts.get("weeks", 0), days=parts.get("days", 0),
                      hours=parts.get("hours", 0), minutes=parts.get("minutes", 0),
                      seconds=parts.get("seconds", 0))
    return -delta if match.group("sign") == "-" else delta


def time_parser(now: datetime) -> Callable[[str], datetime]:
    """Absolute ISO 8601 times, or offsets from `now` (`-P12DT3H` = 12 days 3 hours ago).

    A time without a zone is read as China time (UTC+8).
    """
    def parse(raw: str) -> datetime:
        value = raw.strip()
        offset = parse_duration(value)
        if offset is not None:
            return now + offset
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CellProblem(f"{value!r} 不是时间",
                              "请用 ISO 8601，如 2026-11-23T09:30:00+08:00，或相对时间如 -P3DT2H") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)
    return parse


def date_parser(now: datetime) -> Callable[[str], date]:
    """Dates (`2026-12-01`) or day offsets from today in China time (`P30D`)."""
    def parse(raw: str) -> date:
        value = raw.strip()
        offset = parse_duration(value)
        if offset is not None:
            return (now + offset).astimezone(CHINA_TZ).date()
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CellProblem(f"{value!r} 不是日期", "请用 2026-12-01 这样的格式，或相对天数如 P30D") from None
    return parse


def choice_parser(choices: tuple[str, ...], aliases: dict[str, str] | None = None):
    aliases = aliases or {}

    def parse(raw: str) -> str:
        value = raw.strip()
        value = aliases.get(value, value)
        if value in choices:
            return value
        raise CellProblem(f"{raw.strip()!r} 不是允许的取值", f"可选：{', '.join(choices)}")
    return parse


@dataclass(frozen=True)
class Ref:
    """A cell naming a row of another table by its natural key (resolved to an id if `to_id`)."""

    table: str
    level: str | None = None  # for region references: county / township / village
    to_id: bool = True
