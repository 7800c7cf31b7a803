"""The audit log: sign-ins and failures, account changes, issue transitions, exports and imports
are recorded; inspectors read it filtered and paged; no one else does."""

from __future__ import annotations

import pytest
from flask_login import login_user
from sqlalchemy import select, text
from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_one_grid, seed_user

from gridmap import audit
from gridmap.cli.common import operator
from gridmap.cli.users import group as users_cli
from gridmap.models import AuditEvent
from gridmap.users import create_user, set_active, set_role
from gridmap.web.downloads import download

PASSWORD = "correct horse"
HOSTILE = "<script>alert(1)</script>"


def logged(db, **where) -> list[tuple]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return [(e.actor, e.action, e.target, e.detail) for e in db.scalars(query)]


def test_sign_in_success_failure_and_sign_out_are_recorded_with_the_address(client, db):
    seed_one_grid(db)
    create_user(db, "worker", "grid_worker", "532329104201001", PASSWORD)
    client.post("/sign-in", data={"login": "worker", "password": "wrong password"})
    client.post("/sign-in", data={"login": "nobody", "password": "wrong password"})
    client.post("/sign-in", data={"login": "Worker", "password": PASSWORD})
    client.post("/sign-out")
    events = db.scalars(select(AuditEvent).where(AuditEvent.action.like("sign%"))
                        .order_by(AuditEvent.id)).all()
    assert [(e.actor, e.action, e.target, e.address) for e in events] == [
        ("worker", "sign_in_failed", "user:worker", "127.0.0.1"),
        ("nobody", "sign_in_failed", "user:nobody", "127.0.0.1"),
        ("worker", "sign_in", "user:worker", "127.0.0.1"),
        ("worker", "sign_out", "user:worker", "127.0.0.1")]
    assert events[2].actor_id is not None and events[2].detail == {"remembered": False}


def test_account_changes_name_who_made_them(runner, db):
    seed_one_grid(db)
    result = runner.invoke(users_cli, ["create", "wangli", "--role", "grid_worker", "--region",
                                       "532329104201001", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    admin = create_user(db, "root.admin", "admin", "532329", PASSWORD)
    set_active(db, "wangli", False, by=admin)
    set_role(db, "wangli", "village_staff", "532329104201", by=admin)
    assert logged(db, target="user:wangli") == [
        (operator(), "user_create", "user:wangli", {"role": "grid_worker", "scope": "532329104201001"}),
        ("root.admin", "user_disable", "user:wangli", {}),
        ("root.admin", "user_set_role", "user:wangli",
         {"was": {"role": "grid_worker", "scope": "532329104201001"}, "role": "village_staff",
          "scope": "532329104201"})]


def test_issue_transitions_are_recorded(client, connection, auth, db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    login = auth.as_role("township_staff", ISSUE_TOWNSHIP)
    issue = client.post("/api/issues", json={"title": "水管破裂", "category": "drinking_water",
                                             "village_code": ISSUE_VILLAGE}).get_json()["issue"]
    client.post(f"/api/issues/{issue['id']}/actions", json={"action": "triage", "version": 1})
    assert logged(db, action="issue_transition") == [
        (login, "issue_transition", f"issue:{issue['code']}",
         {"action": "report", "from": None, "to": "reported"}),
        (login, "issue_transition", f"issue:{issue['code']}",
         {"action": "triage", "from": "reported", "to": "triaged"})]


def test_an_export_is_recorded_with_its_rows(app, connection, db):
    account = seed_user(connection, "inspector", "532329")
    with app.test_request_context("/export", environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        login_user(account)
        response = download("csv", "台账", [("code", "代码")], [{"code": "A"}, {"code": "B"}])
    assert response.status_code == 200
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert (event.actor, event.detail, event.address) == (
        "inspector-532329", {"format": "csv", "rows": 2}, "10.0.0.7")


def test_a_committed_import_is_recorded_and_a_dry_run_is_not(connection, db):
    from gridmap.importers.core import import_files
    from gridmap.importers.sources import Source

    units = Source("units.csv", data="code,name,kind\nU1,县水务局,agency\n".encode())
    import_files(connection, [units], "532329", commit=False, actor="cli:tester")
    import_files(connection, [units], "532329", commit=True, actor="cli:tester")
    assert logged(db, action="import") == [
        ("cli:tester", "import", "units.csv", {"unit": [1, 0, 0]})]


@pytest.fixture
def many_events(db):
    for n in range(260):
        audit.record(db, f"user{n % 3}", "sign_in_failed", f"user:user{n % 3}", {"n": n},
                     county_code="532329")
    audit.record(db, HOSTILE, "unmask", "household:" + HOSTILE, {"reason": HOSTILE},
                 county_code="532329")
    audit.record(db, "elsewhere", "sign_in", "user:elsewhere", county_code="530681")
    db.flush()


def test_inspectors_read_the_log_filtered_newest_first_and_paged(client, auth, many_events):
    auth.as_role("inspector", "532329")
    page = client.get("/audit")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert "elsewhere" not in body  # another county's log
    assert HOSTILE not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert body.count("<tr>") == 1 + audit.PAGE_SIZE
    filtered = client.get("/audit?action=sign_in_failed&actor=USER1&limit=100000")
    rows = filtered.get_data(as_text=True)
    assert rows.count("<tr>") == 1 + 87  # 260 events, a third of them user1's
    assert "user0" not in rows.split("<tbody>")[1]
    assert client.get("/audit?action=dropped_tables").status_code == 422
    assert client.get("/audit?since=yesterday").status_code == 422


def test_paging_is_bounded_and_reaches_the_oldest_event(db, many_events):
    first = audit.events(db, "532329", limit=10**6)
    assert len(first.events) == audit.MAX_PAGE_SIZE
    second = audit.events(db, "532329", before=first.older, limit=10**6)
    assert len(second.events) == 261 - audit.MAX_PAGE_SIZE and second.older is None
    assert second.events[-1].detail == {"n": 0}


@pytest.mark.parametrize(("role", "scope"), [("leader", "532329"), ("township_staff", "532329104"),
                                             ("grid_worker", "532329104201001")])
def test_other_roles_may_not_read_the_log(client, auth, role, scope):
    auth.as_role(role, scope)
    assert client.get("/audit").status_code == 403


def test_the_navigation_offers_the_log_to_inspectors(client, auth):
    auth.as_role("inspector", "532329")
    assert "/audit" in client.get("/issues").get_data(as_text=True)


def test_unknown_audit_actions_are_a_programming_error(db):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db, "x", "drop_everything", county_code="532329")
    with pytest.raises(ValueError, match="county_code"):
        audit.record(db, None, "import")


def test_the_app_cannot_rewrite_its_own_log(db, many_events, connection):
    with pytest.raises(Exception, match="append-only|permission denied"):
        connection.execute(text("UPDATE audit_event SET actor = 'someone else'"))


def test_a_flood_of_guesses_adds_a_row_per_answered_guess_not_per_request(client, db,
                                                                          monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-12-01T09:00:00+08:00")
    seed_one_grid(db)
    create_user(db, "worker", "grid_worker", "532329104201001", PASSWORD)
    statuses = [client.post("/sign-in", data={"login": "worker", "password": f"guess {n}"})
                .status_code for n in range(30)]
    answered = statuses.count(200)
    assert statuses.count(429) == 30 - answered > 0
    assert len(logged(db, action="sign_in_failed")) == answered
