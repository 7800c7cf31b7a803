"""Scope on every path: for every route with an id in its URL, users of another scope who may
take the route's action are refused (403/404), whatever the method. Routes added later are
covered without touching this file; an id parameter it does not know yet fails it until a
sample is added to ID_SAMPLES."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import text
from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, photo_bytes, seed_issue_county, seed_user

from gridmap import files, issues
from gridmap.importers import uploads
from gridmap.policy import allowed
from gridmap.web.guard import GUARD_ATTRIBUTE

OTHER_TOWNSHIP, OTHER_VILLAGE = "532329101", "532329101201"
OTHER_GRID = OTHER_VILLAGE + "001"
# A body every state-changing route would accept up to the point of finding its object, so a
# refusal comes from the scope, not from a missing field.
PLAUSIBLE_BODY = {"action": "triage", "version": "1", "kind": "phone", "reason": "核对身份",
                  "note": "核对"}


@pytest.fixture
def county(app, connection, monkeypatch):
    """Township A (the issue county's) holds an issue (with a photo) and a household; township
    B is next door."""
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    units = seed_issue_county(connection)
    run = lambda sql, **p: connection.execute(text(sql), p)  # noqa: E731
    for code, level, parent in ((OTHER_TOWNSHIP, "township", "532329"),
                                (OTHER_VILLAGE, "village", OTHER_TOWNSHIP)):
        run("INSERT INTO region (county_code, code, level, name, parent_code)"
            " VALUES ('532329', :code, :level, :code, :parent)", code=code, level=level,
            parent=parent)
    run("INSERT INTO grid (county_code, code, village_code, name)"
        " VALUES ('532329', :g, :v, '狮山第1网格')", g=OTHER_GRID, v=OTHER_VILLAGE)
    household = run("INSERT INTO household (county_code, code, grid_code, village_code, head_name,"
                    " phone) VALUES ('532329', 'HA1', :g, :v, '张三', '13812345678') RETURNING id",
                    g=ISSUE_VILLAGE + "001", v=ISSUE_VILLAGE).scalar()
    cadre = run("INSERT INTO cadre (county_code, code, name) VALUES ('532329', 'C-B', '李四')"
                " RETURNING id").scalar()
    reporter = seed_user(connection, "village_staff", ISSUE_VILLAGE)
    from sqlalchemy.orm import Session

    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        issue = issues.report(session, reporter, {
            "title": "水管破裂", "category": "drinking_water", "village_code": ISSUE_VILLAGE})
        photo = files.attach(session, Path(app.config["GRIDMAP_FILES_DIR"]), reporter, "issue",
                             issue.id, photo_bytes())
        session.commit()
        issue_id, file_id = issue.id, photo.id
    target = run("INSERT INTO target (county_code, code, kind, region_code, reason, due_on,"
                 " tagged_at) VALUES ('532329', 'GP-1', 'region', :v, '矛盾纠纷多发', '2027-06-30', now()) RETURNING id",
                 v=ISSUE_VILLAGE).scalar()
    meeting = run("INSERT INTO meeting (county_code, code, region_code, held_at, attendance,"
                  " topics) VALUES ('532329', 'HY-1', :v, now(), 20, '饮水') RETURNING id", v=ISSUE_VILLAGE).scalar()
    campaign = run("INSERT INTO campaign (county_code, name, region_code, rule, starts_on, due_on)"
                   " VALUES ('532329', '春节走访', :v, 'all', '2026-11-01', '2027-02-01') RETURNING id",
                   v=ISSUE_VILLAGE).scalar()
    holder = run("INSERT INTO cadre (county_code, code, name) VALUES ('532329', 'C-A', '王五')"
                 " RETURNING id").scalar()
    run("INSERT INTO assignment (county_code, kind, cadre_id, region_code)"
        " VALUES ('532329', 'village', :c, :v)", c=holder, v=ISSUE_VILLAGE)
    duty = run("SELECT id FROM assignment WHERE cadre_id = :c", c=holder).scalar()
    account = run("SELECT id FROM app_user WHERE login = :login",
                  login=f"village_staff-{ISSUE_VILLAGE}").scalar()
    # An import upload is its uploader's alone: township A's staff keep one.
    township_staff = seed_user(connection, "township_staff", ISSUE_TOWNSHIP)
    upload = uploads.store(Path(app.config["GRIDMAP_UPLOADS_DIR"]), [(
        "households.csv", io.BytesIO(f"code,village_code,head_name\nHA2,{ISSUE_VILLAGE},李四\n".encode()))],
        county_code="532329", user_id=township_staff.id, max_bytes=1 << 20, table="household")
    return {"upload_id": upload.id, "seeded": {township_staff.login},
            "issue_id": issue_id, "household_id": household, "file_id": file_id, "cadre_b": cadre,
            "unit_elsewhere": units["A014"], "target_id": target, "meeting_id": meeting,
            "campaign_id": campaign, "cadre_id": holder, "unit_id": units[ISSUE_TOWNSHIP + "S11"],
            "assignment_id": duty, "user_id": account}


# id parameter → the fixture key of an object in township A
ID_SAMPLES = {"issue_id": "issue_id", "household_id": "household_id", "file_id": "file_id",
              "target_id": "target_id", "meeting_id": "meeting_id", "campaign_id": "campaign_id",
              "cadre_id": "cadre_id", "unit_id": "unit_id", "assignment_id": "assignment_id",
              "user_id": "user_id", "upload_id": "upload_id"}
# (role, scope_code, extra columns): every kind of scope, none of which includes township A's rows
OUTSIDERS = [
    ("grid_worker", OTHER_GRID, {}),
    ("village_staff", OTHER_VILLAGE, {}),
    ("township_staff", OTHER_TOWNSHIP, {}),
    ("cadre", "532329", {"cadre_id": "cadre_b"}),
    ("unit_handler", "532329", {"unit_id": "unit_elsewhere"}),
    ("leader", "530681", {}),  # another county's leader, inspector, admin
    ("inspector", "530681", {}),
    ("admin", "530681", {}),
]
# (role, scope) that do see township A: each id route answers one of them (the ids are real).
# The village's staff too: the field pages are for those who visit, not for township offices.
INSIDERS = [("township_staff", ISSUE_TOWNSHIP), ("village_staff", ISSUE_VILLAGE),
            ("admin", "532329")]  # accounts are the county administrator's


def id_routes(app) -> list:
    """Every guarded rule with an id parameter in its URL."""
    rules = []
    for rule in app.url_map.iter_rules():
        ids = [a for a in rule.arguments if a.endswith("_id") or a == "id"]
        if ids and getattr(app.view_functions[rule.endpoint], GUARD_ATTRIBUTE, None):
            rules.append(rule)
    return rules


def request_every_way(client, app, county):
    """(rule, method, status) for each id route and method, with township A's ids."""
    for rule in id_routes(app):
        values = {}
        for argument in rule.arguments:
            assert argument in ID_SAMPLES, f"add a sample for <{argument}> ({rule.rule}) to ID_SAMPLES"
            values[argument] = county[ID_SAMPLES[argument]]
        url = rule.build(values, append_unknown=False)[1]
        action = getattr(app.view_functions[rule.endpoint], GUARD_ATTRIBUTE)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(url)
            elif rule.endpoint.split(".")[0].endswith("_api"):
                response = client.open(url, method=method, json=PLAUSIBLE_BODY)
            else:
                response = client.open(url, method=method, data=PLAUSIBLE_BODY)
            yield rule, method, action, response.status_code


def test_there_are_id_routes_to_check(app):
    assert {r.endpoint for r in id_routes(app)} >= {"issues.detail", "issues_api.issue",
                                                    "households_api.show"}


def test_the_sample_ids_are_real_for_a_user_of_their_scope(app, client, auth, county):
    seen: dict[str, set[int]] = {}
    for role, scope in INSIDERS:
        client.post("/sign-out")  # the next sign-in must not find someone signed in
        login = f"{role}-{scope}"
        if role == "village_staff" or login in county["seeded"]:  # made by the fixture already
            assert auth.sign_in(login).status_code == 302
        else:
            auth.as_role(role, scope)
        for rule, method, _action, status in request_every_way(client, app, county):
            if method == "GET":
                seen.setdefault(rule.endpoint, set()).add(status)
    assert seen and all(200 in statuses for statuses in seen.values()), seen


@pytest.mark.parametrize(("role", "scope", "columns"), OUTSIDERS,
                         ids=[f"{r}-{s}" for r, s, _ in OUTSIDERS])
def test_every_id_route_refuses_users_of_another_scope(app, client, auth, county, role, scope,
                                                        columns):
    auth.as_role(role, scope, county_code=scope[:6],
                 **{name: county[key] for name, key in columns.items()})
    answered = [(rule.rule, method, status)
                for rule, method, action, status in request_every_way(client, app, county)
                if allowed(role, action)]
    leaks = [(url, method, status) for url, method, status in answered if status not in (403, 404)]
    assert not leaks, f"{role} of {scope} reached another scope's rows: {leaks}"
