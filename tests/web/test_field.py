"""The tablet's field pages and their JSON: my households, a household, log a visit, report."""

import re
import uuid

import pytest
from sqlalchemy import text
from support import ISSUE_GRID, ISSUE_VILLAGE, seed_issue_county

MONDAY = "2026-11-23T09:00:00+08:00"
OTHER_GRID = ISSUE_VILLAGE + "002"


@pytest.fixture
def grid(connection, monkeypatch):
    """Two grids of one village; three households in the first, one in the second."""
    monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
    seed_issue_county(connection)
    run = lambda sql, **p: connection.execute(text(sql), p)  # noqa: E731
    run("INSERT INTO grid (county_code, code, village_code, name) VALUES ('532329', :g, :v, '第2网格')",
        g=OTHER_GRID, v=ISSUE_VILLAGE)
    ids = {}
    for code, grid_code, flags in (("H1", ISSUE_GRID, "true"), ("H2", ISSUE_GRID, "false"),
                                   ("H3", ISSUE_GRID, "false"), ("H9", OTHER_GRID, "false")):
        ids[code] = run(
            "INSERT INTO household (county_code, code, grid_code, village_code, head_name, phone,"
            " elderly_alone, geom) VALUES ('532329', :code, :g, :v, '欧阳娜娜', '13812345678', :alone,"
            " ST_SetSRID(ST_MakePoint(102.4, 25.5), 4326)) RETURNING id",
            code=code, g=grid_code, v=ISSUE_VILLAGE, alone=flags == "true").scalar()
    run("INSERT INTO visit (county_code, household_id, visited_at) VALUES ('532329', :h, now() - interval '10 days')",
        h=ids["H2"])
    return ids


def test_a_grid_worker_lands_on_their_households_and_a_leader_on_the_map(client, auth, grid):
    auth.as_role("grid_worker", ISSUE_GRID)
    assert auth.sign_in("grid_worker-" + ISSUE_GRID).headers["Location"] == "/field"
    auth.sign_out()
    auth.as_role("leader", "532329")
    assert auth.sign_in("leader-532329").headers["Location"] == "/"


def test_my_households_are_exactly_my_grids_masked_and_due_first(client, auth, grid):
    auth.as_role("grid_worker", ISSUE_GRID)
    page = client.get("/field").get_data(as_text=True)
    assert page.count('<li class="household') == 3 and "H9" not in page
    assert "欧阳**" in page and "欧阳娜娜" not in page and "13812345678" not in page
    assert "共 3 户" in page and "应走访 2 户" in page
    assert "空巢/独居" in page and "fa-person-cane" in page  # an icon and its words
    assert page.index("H1") < page.index("H2")  # never visited before visited


def test_log_a_visit_over_json_once_per_client_uuid(client, auth, grid):
    auth.as_role("grid_worker", ISSUE_GRID)
    form = client.get(f"/field/households/{grid['H1']}/visit").get_data(as_text=True)
    for item in ("住房安全", "生产生活需求", "联系卡", "三必看", "民情日记"):
        assert item in form
    body = {"household_id": grid["H1"], "client_uuid": str(uuid.uuid4()), "lon": 102.4, "lat": 25.5,
            "accuracy_m": 8, "checklist": {"look": ["住房安全"]}, "notes": "一切正常"}
    first = client.post("/api/visits", json=body)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/visits", json=body)
    assert again.status_code == 200 and again.get_json()["visit"]["id"] == first.get_json()["visit"]["id"]
    assert first.get_json()["far"] is False and first.get_json()["distance_m"] == 0
    page = client.get(f"/field/households/{grid['H1']}").get_data(as_text=True)
    assert "一切正常" in page and "住房安全" in page
    assert "应走访 1 户" in client.get("/field").get_data(as_text=True)


def test_visits_outside_the_scope_or_without_the_action_are_refused(client, auth, grid):
    auth.as_role("grid_worker", ISSUE_GRID)
    response = client.post("/api/visits", json={"household_id": grid["H9"]})
    assert response.status_code == 404 and response.get_json()["field"] == "household_id"
    assert client.get(f"/field/households/{grid['H9']}").status_code == 404
    response = client.post("/api/visits", json={"household_id": grid["H1"], "checklist": {"look": ["x"]}})
    assert response.status_code == 422 and response.get_json()["field"] == "checklist"
    auth.sign_out()
    auth.as_role("township_staff", "532329104")
    assert client.get("/field").status_code == 403
    assert client.post("/api/visits", json={"household_id": grid["H1"]}).status_code == 403


def test_an_issue_found_on_a_visit_shows_in_my_issues_with_its_stage(client, auth, grid):
    auth.as_role("grid_worker", ISSUE_GRID)
    visit = client.post("/api/visits", json={"household_id": grid["H3"]}).get_json()
    report = client.get(visit["report_url"]).get_data(as_text=True)
    assert "饮水安全" in report
    response = client.post(f"/api/visits/{visit['visit']['client_uuid']}/issues", json={
        "title": "水管破裂", "category": "drinking_water", "client_uuid": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_json()
    mine = client.get("/field/issues").get_data(as_text=True)
    assert "水管破裂" in mine and "已上报" in mine
    household = client.get(f"/field/households/{grid['H3']}").get_data(as_text=True)
    assert "水管破裂" in household


def test_hostile_notes_are_shown_as_text(client, auth, grid):
    auth.as_role("grid_worker", ISSUE_GRID)
    client.post("/api/visits", json={"household_id": grid["H1"], "notes": "<script>alert(1)</script>{{ 7*191 }}"})
    page = client.get(f"/field/households/{grid['H1']}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "1337" not in page


def test_the_due_list_says_why_each_household_is_due(client, auth, grid, connection):
    connection.execute(text(
        "INSERT INTO campaign (county_code, name, region_code, rule, starts_on, due_on)"
        " VALUES ('532329', '春节前走访', :v, 'all', '2026-11-20', '2026-12-31') RETURNING id"),
        {"v": ISSUE_VILLAGE})
    connection.execute(text(
        "INSERT INTO campaign_household (campaign_id, household_id, county_code)"
        " SELECT id, :h, '532329' FROM campaign"), {"h": grid["H2"]})
    connection.execute(text("UPDATE visit SET visited_at = '2026-11-01T10:00+08' WHERE household_id = :h"),
                       {"h": grid["H2"]})
    auth.as_role("grid_worker", ISSUE_GRID)
    page = client.get("/field").get_data(as_text=True)
    reasons = re.findall(r'<span class="household-code">(H\d)</span>.*?class="due-reason">([^<]*)<',
                         page, re.S)
    # H2 was visited 22 days ago (its interval is 90), but before the campaign's first day
    assert sorted(reasons) == [("H1", "新户"), ("H2", "走访活动：春节前走访，截止 2026-12-31"),
                               ("H3", "新户")]
    assert "应走访 3 户" in page
