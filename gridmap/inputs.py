"""Reading one field of a submitted form or JSON body: text with a length limit, an id, a
date, a choice, a count, a money amount, a point. Each refusal is a BadInput naming the field
and saying what to do. Core: no Flask.

The follow-through ledgers (targets, meetings, deeds, diary) read their input through here;
the issues and case controls too; visits keep their own position and time readers (a
position there is a pair of numbers checked one by one, a time must carry its zone).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, _


def text(data: dict, name: str, limit: int, *, required: bool = False) -> str | None:
    """Stripped text of at most `limit` characters; None when empty and not required."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(_("%(field)s 应是文本", field=name), field=name)
    value = (value or "").strip()
    if required and not value:
        raise BadInput(_("请填写 %(field)s", field=name), field=name)
    if len(value) > limit:
        raise BadInput(_("%(field)s 太长（%(n)s 字），至多 %(limit)s 字", field=name, n=len(value),
                         limit=limit), field=name)
    return value or None


def ident(value, name: str) -> int:
    """A row id from a form or URL: a positive 32-bit integer."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadInput(_("%(field)s 应是整数，而不是 %(value)r", field=name, value=value),
                       field=name) from None
    if not 0 < number < 2**31:
        raise BadInput(_("%(field)s 超出范围：%(value)r", field=name, value=value), field=name)
    return number


def optional_ident(data: dict, name: str) -> int | None:
    """An id that may be left empty."""
    value = data.get(name)
    return None if value in (None, "") else ident(value, name)


def day(data: dict, name: str, *, required: bool = False, default: date | None = None) -> date | None:
    """A date typed as 2026-11-01 (a date picker sends that form)."""
    value = data.get(name)
    if value in (None, ""):
        if required and default is None:
            raise BadInput(_("请填写 %(field)s（如 2026-11-01）", field=name), field=name)
        return default
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(_("%(field)s 应是日期（如 2026-11-01）", field=name), field=name) from None


def moment(data: dict, name: str, *, default: datetime) -> datetime:
    """A time typed as 2026-11-01T14:30 (China time unless it carries a zone)."""
    value = data.get(name)
    if value in (None, ""):
        return default
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(_("%(field)s 应是时间（如 2026-11-01T14:30）", field=name),
                       field=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA_TIME)


def day_start(value: date) -> datetime:
    """The first moment of a China date."""
    return datetime.combine(value, time(), CHINA_TIME)


def choice(data: dict, name: str, choices, default: str) -> str:
    """One of `choices` (the default when empty)."""
    value = data.get(name) or default
    if value not in choices:
        raise BadInput(_("%(field)s 应是 %(choices)s 之一", field=name, choices=", ".join(choices)),
                       field=name)
    return value


def count(data: dict, name: str, *, high: int) -> int:
    """A whole number from 0 to `high`."""
    value = data.get(name)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadInput(_("%(field)s 应是整数，而不是 %(value)r", field=name, value=value),
                       field=name) from None
    if not 0 <= number <= high:
        raise BadInput(_("%(field)s 应在 0 到 %(high)s 之间", field=name, high=high), field=name)
    return number


def money(data: dict, name: str) -> Decimal | None:
    """An amount in yuan with at most two decimals (empty: not known)."""
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise BadInput(_("%(field)s 应是金额（元，如 1200.50）", field=name), field=name) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12") or amount != round(amount, 2):
        raise BadInput(_("%(field)s 应是不小于 0、至多两位小数的金额（元）", field=name), field=name)
    return amount


def point(data: dict) -> str | None:
    """EWKT of `lon`/`lat` if given; both inside China, or neither."""
    lon, lat = data.get("lon"), data.get("lat")
    if lon in (None, "") and lat in (None, ""):
        return None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise BadInput(_("经纬度应是数字（如 102.40, 25.55）"), field="lon") from None
    if not (73 <= lon <= 136 and 3 <= lat <= 54):
        raise BadInput(_("位置 %(lon)s, %(lat)s 不在中国境内", lon=lon, lat=lat), field="lon")
    return f"SRID=4326;POINT({lon} {lat})"
