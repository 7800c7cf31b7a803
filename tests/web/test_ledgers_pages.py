"""The follow-through ledgers through HTTP: 挂牌 → steps → 销号 approved a level up, meetings,
deeds, the diary, the dashboard with click-through rows and downloads; hostile text inert."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from support import HOSTILE_NAME, ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county

VILLAGE = OPEN_TOWNSHIP + "201"
BRANCH = VILLAGE + "D1"


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_open_data_county(connection)
    connection.execute(text(
        "INSERT INTO party_branch (county_code, code, name, village_code, weak)"
        " VALUES (:c, :code, '插甸村党支部', :v, true)"), {"c": ISSUE_COUNTY, "code": BRANCH, "v": VILLAGE})


def sign_in_as(client, auth, role, scope):
    """Sign out, then in as the account of `role` and `scope` (created the first time)."""
    client.post("/sign-out")
    login = f"{role}-{scope}"
    if auth.sign_in(login).status_code != 302:
        auth.as_role(role, scope)


def test_a_weak_branch_is_tagged_worked_on_and_struck_off_through_the_pages(client, auth, county,
                                                                           connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    page = client.get("/targets").get_data(as_text=True)
    assert "插甸村党支部（软弱涣散）" in page  # the weak branch offered first
    response = client.post("/targets", data={
        "kind": "party_branch", "party_branch": BRANCH, "reason": "软弱涣散：班子不团结",
        "due_on": "2027-03-31", "milestones": "调整班子 2027-01-15"})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    url = response.headers["Location"]
    target_id = int(url.rsplit("/", 1)[1])
    sign_in_as(client, auth, "village_staff", VILLAGE)
    page = client.get(url).get_data(as_text=True)
    assert "挂牌整改中" in page and "调整班子" in page and "申请销号" in page
    refused = client.post(f"{url}/actions", data={"action": "request_close", "version": "1",
                                                  "evidence": "已换届"}, follow_redirects=True)
    assert "还有整改步骤未完成" in refused.get_data(as_text=True)  # shown on the page, kept
    listed = client.get("/api/targets").get_json()["targets"][0]
    assert (listed["milestones_done"], listed["milestones"]) == (0, 1)
    milestone_id = connection.execute(text("SELECT id FROM target_milestone")).scalar()
    assert client.post(f"{url}/actions", data={"action": "milestone", "version": "1",
                                               "milestone": milestone_id}).status_code == 302
    api = client.post(f"/api/targets/{target_id}/actions",
                      json={"action": "request_close", "version": 2, "evidence": "新班子已选出"})
    assert api.status_code == 200 and api.get_json()["target"]["status"] == "close_requested"
    own = client.post(f"/api/targets/{target_id}/actions", json={"action": "approve_close", "version": 3})
    assert own.status_code == 403  # a village's staff may not decide at all
    sign_in_as(client, auth, "township_staff", OPEN_TOWNSHIP)
    page = client.get(url).get_data(as_text=True)
    assert "批准销号" in page and "新班子已选出" in page
    assert client.post(f"{url}/actions", data={"action": "approve_close", "version": "3"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "已销号" in page and "回头看" in page
    layer = client.get("/map/targets.geojson")
    assert layer.mimetype == "application/geo+json"
    [feature] = layer.get_json()["features"]
    assert feature["properties"]["status"] == "closed"


def test_meetings_deeds_and_diary_pages_record_and_keep_text_inert(client, auth, county):
    auth.as_role("grid_worker", VILLAGE + "001")
    response = client.post("/meetings", data={"kind": "consultation", "attendance": "38",
                                              "topics": HOSTILE_NAME, "place": HOSTILE_NAME,
                                              "held_at": "2026-11-20T19:00"})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    meeting_url = response.headers["Location"]
    page = client.get(meeting_url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "1337" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*191 }}" in page
    raised = client.post(meeting_url, data={"title": "村道塌方", "category": "water"})
    assert raised.status_code == 302
    assert "村道塌方" in client.get(meeting_url).get_data(as_text=True)
    bad = client.post("/meetings", data={"attendance": "很多", "topics": "x"})
    assert bad.status_code == 422 and "attendance" in bad.get_data(as_text=True)
    assert client.post("/deeds", data={"title": "修好路灯", "cost_yuan": "260"}).status_code == 302
    assert "修好路灯" in client.get("/deeds").get_data(as_text=True)
    assert client.post("/diary", data={"body": "夜访独居老人"}).status_code == 302
    assert "夜访独居老人" in client.get("/diary?q=独居").get_data(as_text=True)
    assert client.get("/targets").status_code == 403  # a grid worker keeps ledgers, not targets


def test_the_dashboard_shows_the_figures_clicks_through_and_downloads(client, auth, county):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    assert client.post("/meetings", data={"attendance": "12", "topics": "冬季防火",
                                          "region": VILLAGE}).status_code == 302
    page = client.get("/dashboard?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    for words in ("民情工作通报", "召开民情恳谈会（场）", "民情责任区（网格，个）", "2026-10-02", "明细"):
        assert words in page
    data = client.get("/api/dashboard?from=2026-11-01&to=2026-11-30").get_json()
    figures = {f["key"]: f for f in data["figures"]}
    assert (figures["meetings"]["value"], figures["meetings"]["previous"], figures["grids"]["value"]) \
        == (1, 0, 4)
    assert [row["code"] for row in data["ranking"]][0] == VILLAGE
    rows = client.get("/dashboard/rows/meetings?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert "冬季防火" in rows
    sheet = client.get("/dashboard.xlsx?from=2026-11-01&to=2026-11-30")
    assert sheet.status_code == 200
    cells = [[c.value for c in row] for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows()]
    assert ["召开民情恳谈会（场）", 1, 0, 1] in cells
    assert client.get("/api/dashboard?from=2026-13-01").status_code == 422
    assert client.get("/dashboard/rows/passwords").status_code == 404


def test_a_campaign_and_a_check_through_the_pages(client, auth, county, connection):
    households = dict(connection.execute(text("SELECT code, id FROM household")).all())
    connection.execute(text("INSERT INTO visit (county_code, household_id, visited_at, notes)"
                            " VALUES (:c, :h, '2026-11-20T10:00:00+08:00', '看望低保户')"),
                       {"c": ISSUE_COUNTY, "h": households["H0"]})
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    response = client.post("/campaigns", data={"name": "春节前走访重点关爱户", "rule": "care",
                                               "starts_on": "2026-11-01", "due_on": "2027-02-10"})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已走访 1 / 5 户" in page  # 5 低保 households, one visited in the campaign
    assert client.get(response.headers["Location"] + "?by=cadre").status_code == 200
    bad = client.post("/campaigns", data={"name": "x", "due_on": "明天"})
    assert bad.status_code == 422 and "due_on" in bad.get_data(as_text=True)
    assert client.post("/checks", data={"n": "5", "from": "2026-11-01"}).status_code == 302
    check = connection.execute(text("SELECT id FROM visit_check")).scalar()
    page = client.get("/checks").get_data(as_text=True)
    assert "待核查（1）" in page and "看望低保户" in page
    assert client.post("/checks", data={"check": check, "result": "confirmed",
                                        "method": "phone"}).status_code == 302
    assert "待核查（0）" in client.get("/checks").get_data(as_text=True)
