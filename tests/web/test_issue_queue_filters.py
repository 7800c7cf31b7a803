"""The issue queue narrowed by the appeals map's own filters (one AppealFilter), with figures
for every issue the filter keeps and a deadline said in words, not colour alone."""

import pytest
from sqlalchemy import text
from support import ISSUE_VILLAGE, seed_issue_county

from gridmap import lifecycle

NOW = "2026-11-23T09:00:00+08:00"


@pytest.fixture
def two_issues(client, connection, auth, monkeypatch):
    """An urgent issue whose triage is two days overdue, and a normal one still in time."""
    monkeypatch.setenv("GRIDMAP_NOW", NOW)
    seed_issue_county(connection)
    auth.as_role("township_staff", ISSUE_VILLAGE[:9])
    ids = {}
    for title, urgency in (("水管破裂停水三天", "urgent"), ("路灯不亮", "normal")):
        response = client.post("/api/issues", json={
            "title": title, "category": "drinking_water", "village_code": ISSUE_VILLAGE,
            "urgency": urgency})
        assert response.status_code == 201, response.get_json()
        ids[urgency] = response.get_json()["issue"]["id"]
    connection.execute(text("UPDATE issue SET triage_due = timestamptz :now - interval '50 hours', "
                            "status_changed_at = timestamptz :now - interval '4 days' WHERE id = :i"),
                       {"i": ids["urgent"], "now": NOW})
    return ids


def expected(connection, condition: str) -> int:
    """SQL's own count of the county's open issues meeting `condition`."""
    return connection.execute(text(
        "SELECT count(*) FROM issue WHERE county_code = '532329' AND merged_into IS NULL "
        "AND status = ANY(:open) AND " + condition),
        {"open": list(lifecycle.OPEN), "now": NOW}).scalar()


def test_only_overdue_lists_the_late_issue_and_says_how_late(client, connection, two_issues):
    page = client.get("/issues?overdue=1").get_data(as_text=True)
    assert "水管破裂停水三天" in page and "路灯不亮" not in page
    assert "已超期 2 天" in page  # 50 hours: said in words beside the red light
    late = expected(connection, "status = 'reported' AND triage_due < timestamptz :now")
    assert f"共 {late} 件未办结，其中超期 {late} 件" in page


def test_the_figures_count_every_issue_the_filter_keeps(client, connection, two_issues):
    page = client.get("/issues").get_data(as_text=True)
    total = expected(connection, "true")
    assert f"共 {total} 件未办结" in page and "还剩" in page
    urgent = client.get("/issues?urgency=urgent").get_data(as_text=True)
    assert "水管破裂停水三天" in urgent and "路灯不亮" not in urgent
    assert 'value="urgent" selected' in urgent and "清除筛选" in urgent


def test_a_bad_filter_is_named_and_the_queue_still_shows(client, two_issues):
    response = client.get("/issues?stage=<script>")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert">stage 应是' in page and "<script>" not in page.split('role="alert">')[1]
    assert "水管破裂停水三天" in page and "路灯不亮" in page


def test_the_json_queue_takes_the_same_filters(client, two_issues):
    rows = client.get("/api/issues?urgency=urgent").get_json()["issues"]
    assert [row["id"] for row in rows] == [two_issues["urgent"]]
    rows = client.get("/api/issues?overdue=1").get_json()["issues"]
    assert [row["light"] for row in rows] == ["red"]
    refused = client.get("/api/issues?from=2026-13-01")
    assert refused.status_code == 422 and refused.get_json()["field"] == "from"
