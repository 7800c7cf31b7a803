"""Time cells: offsets from now (`-P12DT3H`) and day-anchored times (`-P12D@09:30`)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.importers import fields

CHINA = fields.CHINA_TZ
# 2026-11-23 is a Monday; 03:00 and 15:00 China time are 19:00 (the day before) and 07:00 UTC.
AT_3 = datetime(2026, 11, 23, 3, 0, tzinfo=CHINA)
AT_15 = datetime(2026, 11, 23, 15, 0, tzinfo=CHINA)


@pytest.mark.parametrize("now", [AT_3, AT_15, AT_3.astimezone(UTC), AT_15.astimezone(UTC)])
def test_day_anchored_time_keeps_its_time_of_day_whenever_loaded(now):
    assert fields.time_parser(now)("-P12D@09:30") == datetime(2026, 11, 11, 9, 30, tzinfo=CHINA)
    assert fields.time_parser(now)("P3D@17:05") == datetime(2026, 11, 26, 17, 5, tzinfo=CHINA)
    assert fields.time_parser(now)("-P0D@08:00") == datetime(2026, 11, 23, 8, 0, tzinfo=CHINA)


def test_today_is_the_date_in_china_not_in_utc():
    late_utc = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # already Monday 04:00 in China
    assert fields.time_parser(late_utc)("-P1D@10:00") == datetime(2026, 11, 22, 10, 0, tzinfo=CHINA)


@pytest.mark.parametrize("cell, day", [
    ("-P1WD@09:00", date(2026, 11, 20)),  # Monday → the Friday before
    ("-P5WD@09:00", date(2026, 11, 16)),
    ("-P6WD@09:00", date(2026, 11, 13)),
    ("P5WD@09:00", date(2026, 11, 30)),
    ("-P0WD@09:00", date(2026, 11, 23)),
])
def test_working_days_skip_weekends(cell, day):
    assert fields.time_parser(AT_15)(cell).date() == day


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(-400, 400))
@settings(max_examples=300, deadline=None, database=None)
def test_working_days_land_on_weekdays_and_count_them(today, count):
    day = fields._add_workdays(today, count)
    if count == 0:
        assert day == today
        return
    assert day.weekday() < 5
    between = [today + timedelta(days=i) for i in range(1, (day - today).days + 1)] if count > 0 else \
              [today - timedelta(days=i) for i in range(1, (today - day).days + 1)]
    assert sum(d.weekday() < 5 for d in between) == abs(count)


def test_old_offsets_still_work():
    assert fields.time_parser(AT_15)("-P12DT3H") == AT_15 - timedelta(days=12, hours=3)


@pytest.mark.parametrize("cell", ["-P12D@24:00", "-P12D@09:60", "-P999999D@09:00"])
def test_impossible_day_anchored_times_say_what_to_fix(cell):
    with pytest.raises(fields.CellProblem):
        fields.time_parser(AT_15)(cell)


@pytest.mark.parametrize("cell", ["-P12D@9", "-P12DT3H@09:30", "P@09:30", "-P1W@09:30"])
def test_malformed_day_anchored_times_are_not_times(cell):
    with pytest.raises(fields.CellProblem, match="不是时间"):
        fields.time_parser(AT_15)(cell)
