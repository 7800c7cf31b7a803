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


@pytest.fixture
def demo(connection, auth, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", NOW.isoformat())
    report = load_demo(connection, now=NOW)  # inside the test's transaction: rolled back
    assert not report.problems, report.to_text()
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
