"""The demo county's 三率 and 结案率 through the metrics API, and again by hand-written SQL."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from gridmap.demo.load import load_demo

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

BY_HAND = """
WITH counted AS (
    SELECT * FROM issue
    WHERE county_code = '532329' AND status <> 'voided' AND merged_into IS NULL
), last_callback AS (
    SELECT DISTINCT ON (c.issue_id) c.issue_id, c.contacted_in_time, c.solved, c.satisfaction
    FROM callback c JOIN counted ON counted.id = c.issue_id
    WHERE c.reached
    ORDER BY c.issue_id, c.at DESC, c.id DESC
)
SELECT
    (SELECT count(*) FROM last_callback) AS valid,
    (SELECT avg(contacted_in_time::int) FROM last_callback) AS response_rate,
    (SELECT avg(solved::int) FROM last_callback) AS resolution_rate,
    (SELECT avg(CASE satisfaction WHEN 'satisfied' THEN 1 WHEN 'basically_satisfied' THEN 0.9
                ELSE 0 END) FROM last_callback) AS satisfaction_rate,
    (SELECT count(*) FILTER (WHERE status = 'closed')::numeric / count(*) FROM counted
     WHERE status = 'closed'
        OR (status NOT IN ('rejected', 'long_term') AND handling_due <= :now)) AS closing_rate
"""


@pytest.fixture(scope="module")
def demo_connection(engine):
    """One load of the demo for the module, inside a transaction rolled back at its end."""
    with pytest.MonkeyPatch.context() as patch, engine.connect() as connection:
        patch.setenv("GRIDMAP_NOW", NOW.isoformat())
        transaction = connection.begin()
        report = load_demo(connection, now=NOW)
        assert not report.problems, report.to_text()
        yield connection
        transaction.rollback()


@pytest.fixture
def connection(demo_connection):
    """The module's demo (the app and `auth` use it too); a test's own rows in a savepoint
    rolled back after it."""
    savepoint = demo_connection.begin_nested()
    yield demo_connection
    savepoint.rollback()


@pytest.fixture
def demo(connection, auth, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", NOW.isoformat())
    auth.as_role("leader", "532329")
    return connection


def test_the_demo_county_figures_agree_with_hand_written_sql(client, demo):
    response = client.get("/api/metrics?by=county")
    assert response.status_code == 200, response.get_json()
    [row] = response.get_json()["rows"]
    expected = demo.execute(text(BY_HAND), {"now": NOW}).mappings().one()
    assert row["valid_callbacks"] == expected["valid"] > 100
    for name in ("response_rate", "resolution_rate", "satisfaction_rate", "closing_rate"):
        assert row[name] == pytest.approx(float(expected[name])), name
    composite = (10 * expected["response_rate"] + 50 * expected["resolution_rate"]
                 + 40 * expected["satisfaction_rate"]) / 100
    assert row["composite"] == pytest.approx(float(composite))
    # a believable county: most callbacks satisfied, most due items closed
    assert 0.7 < row["satisfaction_rate"] < 1 and 0.6 < row["closing_rate"] < 1
    townships = client.get("/api/metrics?by=township").get_json()["rows"]
    assert sum(t["valid_callbacks"] for t in townships) == row["valid_callbacks"]
    assert {t["name"] for t in townships} >= {"狮山镇", "插甸镇"}


BY_WEEK = """
WITH counted AS (
    SELECT id, to_char(date_trunc('week', reported_at AT TIME ZONE 'Asia/Shanghai'),
                       'YYYY-MM-DD') AS week
    FROM issue
    WHERE county_code = '532329' AND status <> 'voided' AND merged_into IS NULL
      AND (reported_at AT TIME ZONE 'Asia/Shanghai')::date >= CAST(:first AS date)
), last_callback AS (
    SELECT DISTINCT ON (c.issue_id) counted.week, c.contacted_in_time, c.solved, c.satisfaction
    FROM callback c JOIN counted ON counted.id = c.issue_id
    WHERE c.reached
    ORDER BY c.issue_id, c.at DESC, c.id DESC
)
SELECT week, round(100 * avg(contacted_in_time::int), 1) AS response_rate,
       round(100 * avg(solved::int), 1) AS resolution_rate,
       round(100 * avg(CASE satisfaction WHEN 'satisfied' THEN 1
                       WHEN 'basically_satisfied' THEN 0.9 ELSE 0 END), 1) AS satisfaction_rate
FROM last_callback GROUP BY week
"""


def test_the_weekly_trend_is_the_hand_written_sql_by_week(client, demo):
    import re
    from datetime import date

    from sqlalchemy.orm import Session

    from gridmap.maps import trend
    from gridmap.policy import Scope

    weeks = trend.last_weeks(date(2026, 11, 23))
    expected = {row["week"]: row for row in demo.execute(
        text(BY_WEEK), {"first": weeks[0]}).mappings()}
    assert len(expected) >= 6  # the demo's callbacks fall in most of the last 12 weeks
    with Session(bind=demo, join_transaction_mode="create_savepoint") as session:  # its own
        series = trend.weekly_rates(session, Scope("532329", region_code="532329"), weeks)
    for rate, line in series.items():
        assert line == [None if week not in expected else float(expected[week][rate])
                        for week in weeks], rate
    # What the chart draws is the same: one point per week and rate that has a value.
    svg = client.get("/map/trend.svg").get_data(as_text=True)
    drawn = {(week, rate): float(value) for week, rate, value in re.findall(
        r'data-week="([\d-]+)" data-rate="(\w+)" data-value="([\d.]+)"', svg)}
    assert drawn == {(week, rate): float(row[rate]) for week, row in expected.items()
                     for rate in trend.RATES}
