"""Who sees an issue's reporter: the handling unit the phone (it calls back), the reporter's
village name and phone, a township or county masked, and a 举报's reporter nobody in the
unit or village reported on. Every unmasked showing is logged."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from support import (
    ISSUE_COUNTY,
    ISSUE_GRID,
    ISSUE_TOWNSHIP,
    ISSUE_VILLAGE,
    seed_issue_county,
    seed_user,
)

from gridmap import issues

NAME, PHONE = "张三丰", "13800001111"
MASKED = ("张**", "138****1111")
WITHHELD = (None, None)


@pytest.fixture
def reported(connection, monkeypatch):
    """A 求助 and a 举报 by the same real-name reporter, both raised to the township's 水务站."""
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    units = seed_issue_county(connection)
    connection.execute(text(
        "INSERT INTO issue_category (county_code, code, name, appeal_type, triage_hours,"
        " urgent_triage_hours, handling_days, feedback_days)"
        " VALUES (:c, 'misconduct', '违规违纪', 'tip_off', 24, 2, 5, 3)"), {"c": ISSUE_COUNTY})
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    reporter = seed_user(connection, "grid_worker", ISSUE_GRID, login="reporter")
    staff = seed_user(connection, "village_staff", ISSUE_VILLAGE, login="village_office")
    found = {}
    for category in ("drinking_water", "misconduct"):
        issue = issues.report(session, reporter, {
            "title": "反映问题", "category": category, "grid_code": ISSUE_GRID, "real_name": True,
            "reporter_name": NAME, "reporter_phone": PHONE})
        issue = issues.apply(session, issue.id, "triage", staff, expected_version=issue.version)
        issue = issues.apply(session, issue.id, "escalate", staff, expected_version=issue.version,
                             note="上交", unit=ISSUE_TOWNSHIP + "S11")
        found[category] = issue.id
    session.flush()
    return units, found


READERS = {  # role, scope, whether of the handling unit → (求助 reporter, 举报 reporter)
    "handling unit": (("unit_handler", ISSUE_TOWNSHIP, True), ("张**", PHONE), WITHHELD),
    "village office": (("village_staff", ISSUE_VILLAGE, False), (NAME, PHONE), WITHHELD),
    "grid worker": (("grid_worker", ISSUE_GRID, False), (NAME, PHONE), WITHHELD),
    "township office": (("township_staff", ISSUE_TOWNSHIP, False), MASKED, MASKED),
    "leader": (("leader", ISSUE_COUNTY, False), MASKED, MASKED),
    "inspector": (("inspector", ISSUE_COUNTY, False), MASKED, MASKED),
}


@pytest.mark.parametrize("reader", READERS)
def test_each_role_sees_the_reporter_as_its_work_needs(client, connection, auth, reported, reader):
    units, found = reported
    (role, scope, of_unit), help_seen, tip_off_seen = READERS[reader]
    auth.as_role(role, scope, **({"unit_id": units[ISSUE_TOWNSHIP + "S11"]} if of_unit else {}))
    for category, expected in (("drinking_water", help_seen), ("misconduct", tip_off_seen)):
        issue = client.get(f"/api/issues/{found[category]}").get_json()["issue"]
        assert (issue["reporter_name"], issue["reporter_phone"]) == expected, category
        assert issue["reporter_withheld"] == (expected == WITHHELD)
        for page in (f"/issues/{found[category]}", f"/issues/{found[category]}/print"):
            html = client.get(page).get_data(as_text=True)
            if expected == WITHHELD:
                assert "举报人信息依法保护" in html and "138" not in html and "张" not in html
            else:
                assert all(value in html for value in expected), (page, expected)
            if PHONE not in expected:
                assert PHONE not in html
            if NAME not in expected:
                assert NAME not in html
    unmasked = connection.execute(text(
        "SELECT count(*) FROM audit_event WHERE action = 'unmask' AND target LIKE 'issue:%'"
        " AND actor_id IS NOT NULL AND actor <> 'reporter'")).scalar()
    assert (unmasked > 0) == (PHONE in help_seen)


def test_another_units_handler_does_not_see_the_issue_at_all(client, connection, auth, reported):
    units, found = reported
    auth.as_role("unit_handler", ISSUE_TOWNSHIP, unit_id=units["A014"])
    assert client.get(f"/api/issues/{found['drinking_water']}").status_code == 404
