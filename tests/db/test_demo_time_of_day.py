"""Demo visits stay in waking hours whatever time of day the demo is loaded.

Visits are written day-anchored (`-P9WD@10:15`), so loading at 03:00 or at 15:00 China
time (GRIDMAP_NOW) puts them on the same clock times.
"""

import pytest
from sqlalchemy import text

from gridmap.demo.load import load_demo

NIGHT_VISITS = ("SELECT count(*) FROM visit WHERE extract(hour FROM visited_at AT TIME ZONE 'Asia/Shanghai')"
                " NOT BETWEEN 7 AND 21")
WEEKEND_VISITS = ("SELECT count(*) FILTER (WHERE extract(isodow FROM visited_at AT TIME ZONE 'Asia/Shanghai') > 5),"
                  " count(*) FROM visit WHERE kind = 'visit'")


@pytest.mark.parametrize("now", ["2026-11-23T03:00:00+08:00", "2026-11-23T15:00:00+08:00",
                                 "2026-11-28T03:00:00+08:00"])  # a Monday twice, a Saturday
def test_no_visit_between_22_and_07_china_time_whenever_loaded(engine, monkeypatch, now):
    monkeypatch.setenv("GRIDMAP_NOW", now)
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            report = load_demo(connection)
            assert report.committed, report.to_text()
            assert connection.execute(text(NIGHT_VISITS)).scalar_one() == 0
            weekend, visits = connection.execute(text(WEEKEND_VISITS)).one()
            assert visits and weekend < 0.1 * visits  # weekdays mostly
            assert connection.execute(text("SELECT count(*) FROM visit WHERE visited_at > :now"),
                                      {"now": now}).scalar_one() == 0
        finally:
            transaction.rollback()
