"""Working days: weekends off, holidays off, make-up working days (调休) worked."""

from datetime import UTC, date, datetime

import pytest

from gridmap.calendar import CHINA_TIME, WorkCalendar

# 国庆 2025 as the State Council set it: 1–8 October off, Sunday 28 September and
# Saturday 11 October worked.
NATIONAL_DAY_2025 = {"calendar.holidays": [f"2025-10-{d:02d}" for d in range(1, 9)],
                     "calendar.workdays": ["2025-09-28", "2025-10-11"]}
CALENDAR = WorkCalendar.from_settings(NATIONAL_DAY_2025)


def china(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TIME)


def test_three_working_days_from_the_eve_of_national_day_end_on_the_make_up_saturday():
    # Tuesday 30 September: Thu 9, Fri 10, then the 调休 Saturday 11 October.
    assert CALENDAR.add_working_days(china(2025, 9, 30, 10, 0), 3) == china(2025, 10, 11, 10, 0)


def test_without_the_holiday_calendar_the_same_limit_ends_inside_the_holiday():
    assert WorkCalendar().add_working_days(china(2025, 9, 30, 10, 0), 3) == china(2025, 10, 3, 10, 0)


def test_a_make_up_sunday_counts_and_a_weekday_holiday_does_not():
    assert CALENDAR.is_working_day(date(2025, 9, 28))  # Sunday, worked
    assert not CALENDAR.is_working_day(date(2025, 10, 1))  # Wednesday, 国庆
    assert not CALENDAR.is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    # Friday 26 September + 1 working day: the 调休 Sunday 28th.
    assert CALENDAR.add_working_days(china(2025, 9, 26, 17, 0), 1) == china(2025, 9, 28, 17, 0)


def test_the_deadline_keeps_the_china_clock_time_whatever_the_zone_given():
    # 07:30 in China on 30 September is still 29 September in UTC: the China date counts.
    utc_start = china(2025, 9, 30, 7, 30).astimezone(UTC)
    assert CALENDAR.add_working_days(utc_start, 1) == china(2025, 10, 9, 7, 30)


def test_a_limit_of_decades_is_refused():
    with pytest.raises(ValueError, match="between 0 and"):
        CALENDAR.add_working_days(china(2025, 1, 1), 100_000)
