"""The working-day calendar: Monday–Friday, minus holidays, plus make-up working days (调休).

China moves weekends around its public holidays: around 国庆 a Sunday or Saturday is
worked (调休) so the holiday runs a week. Both lists are per-county settings
(`calendar.holidays`, `calendar.workdays`), so "3 working days" is right around 国庆 and
春节. Days are China dates (UTC+8, no daylight saving). Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8))
MAX_DAYS = 3660  # ten years: a limit beyond is a mistake, not a deadline


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are worked: weekdays, unless a holiday; weekends, if a 调休 working day."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, values: dict) -> WorkCalendar:
        """The calendar of a county's settings (`calendar.holidays`, `calendar.workdays`)."""
        return cls(frozenset(date.fromisoformat(d) for d in values.get("calendar.holidays", ())),
                   frozenset(date.fromisoformat(d) for d in values.get("calendar.workdays", ())))

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is worked."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The moment `days` working days after `start`: the same China clock time that many
        working days later (a start on a day off counts from the next working day)."""
        if not 0 <= days <= MAX_DAYS:
            raise ValueError(f"working days must be between 0 and {MAX_DAYS}, not {days}")
        local = start.astimezone(CHINA_TIME)
        day, left = local.date(), days
        while left:
            day += timedelta(days=1)
            left -= self.is_working_day(day)
        return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)
