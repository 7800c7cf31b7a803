"""Issues through HTTP alone: report, triage, acknowledge, handle, feed back, close; the pages."""

import pytest
from sqlalchemy import text
from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county


@pytest.fixture
def staff(client, connection, auth, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    units = seed_issue_county(connection)
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    return units


def report(client, **data):
    body = {"title": "插甸村自来水浑浊", "category": "drinking_water", "village_code": ISSUE_VILLAGE,
            "description": "三组水管破裂", **data}
    return client.post("/api/issues", json=body)


def act(client, issue, action, **data):
    response = client.post(f"/api/issues/{issue['id']}/actions",
                           json={"action": action, "version": issue["version"], **data})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["issue"]


def test_an_issue_goes_from_report_to_close_through_http_alone(client, connection, staff):
    response = report(client, real_name=True, reporter_name="张三", reporter_phone="13800001111")
    assert response.status_code == 201, response.get_json()
    issue = response.get_json()["issue"]
    assert issue["reporter_phone"] == "138****1111"  # personal data masked
    issue = act(client, issue, "triage")
    issue = act(client, issue, "acknowledge")
    issue = act(client, issue, "handle", note="已抢修管道")
    issue = act(client, issue, "feed_back", channel="phone", contacted_in_time=True, solved=True,
                satisfaction="basically_satisfied")
    issue = act(client, issue, "close")
    assert (issue["status"], issue["version"]) == ("closed", 6)
    detail = client.get(f"/api/issues/{issue['id']}").get_json()
    assert [s["action"] for s in detail["timeline"]] == [
        "report", "triage", "acknowledge", "handle", "feed_back", "close"]
    assert all(s["actor"] == "township_staff-532329104" for s in detail["timeline"])
    assert detail["timeline"][1]["unit"] == "插甸村民委员会"
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    for words in ("办理过程", "受理分拨", "签收", "插甸村民委员会", "已抢修管道", "已结案"):
        assert words in page


def test_the_pages_report_queue_and_act_with_buttons(client, connection, staff):
    connection.execute(text("UPDATE region SET name = '插甸村' WHERE code = :v"), {"v": ISSUE_VILLAGE})
    form = {"title": "路面塌陷", "category": "drinking_water", "village_code": ISSUE_VILLAGE,
            "urgency": "urgent", "source": "hotline"}
    response = client.post("/issues/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    detail_url = response.headers["Location"]
    page = client.get(detail_url).get_data(as_text=True)
    assert f'插甸村 <span class="code">{ISSUE_VILLAGE}</span>' in page  # the place by its name
    assert 'value="triage"' in page and 'value="reject"' in page and 'value="close"' not in page
    issue_id = int(detail_url.rstrip("/").rsplit("/", 1)[1])
    response = client.post(f"/issues/{issue_id}/actions", data={"action": "triage", "version": "1"})
    assert response.status_code == 302
    queue = client.get("/issues").get_data(as_text=True)
    assert "路面塌陷" in queue and "已分拨" in queue
    stale = client.post(f"/issues/{issue_id}/actions", data={"action": "triage", "version": "1"})
    assert stale.status_code == 409 and "刚被他人更新" in stale.get_data(as_text=True)


def test_the_report_form_names_the_field_at_fault(client, staff):
    response = client.post("/issues/new", data={"title": "", "category": "drinking_water",
                                                "village_code": ISSUE_VILLAGE})
    assert response.status_code == 422
    assert 'role="alert">请填写 title' in response.get_data(as_text=True)


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"title": "x", "category": "none", "village_code": ISSUE_VILLAGE}, 422, "category"),
    ({"title": "x", "category": "drinking_water", "village_code": "532329101201"}, 422, "village_code"),
    ({"title": "x" * 201, "category": "drinking_water", "village_code": ISSUE_VILLAGE}, 422, "title"),
    ([1, 2], 422, "body"),
])
def test_the_report_api_answers_bad_input_naming_the_field(client, staff, body, status, field):
    response = client.post("/api/issues", json=body)
    assert response.status_code == status and response.get_json()["field"] == field


def test_the_actions_api_says_what_is_allowed_and_refuses_other_roles(client, staff, auth):
    issue = report(client).get_json()["issue"]
    refused = client.post(f"/api/issues/{issue['id']}/actions",
                          json={"action": "close", "version": issue["version"]})
    assert refused.status_code == 409
    assert "受理分拨" in refused.get_json()["message"]
    missing = client.post(f"/api/issues/{issue['id']}/actions", json={"action": "triage"})
    assert missing.status_code == 422 and missing.get_json()["field"] == "version"
    auth.sign_out()
    auth.as_role("township_staff", "532329101")  # 狮山镇: not theirs
    assert client.get(f"/api/issues/{issue['id']}").status_code == 404


def test_real_name_reports_come_first_among_equal_lights(client, connection, staff):
    anonymous = report(client, title="匿名").get_json()["issue"]
    named = report(client, title="实名", real_name=True, reporter_name="李四",
                   reporter_phone="13900002222").get_json()["issue"]
    order = [row["id"] for row in client.get("/api/issues").get_json()["issues"]]
    assert order.index(named["id"]) < order.index(anonymous["id"])
    connection.execute(text("UPDATE issue SET triage_due = reported_at WHERE id = :id"),
                       {"id": anonymous["id"]})
    rows = client.get("/api/issues").get_json()["issues"]
    assert rows[0]["id"] == anonymous["id"] and rows[0]["light"] == "red"


def test_the_navigation_shows_issues_to_those_who_may_see_them(client, staff):
    page = client.get("/issues").get_data(as_text=True)
    assert 'href="/issues"' in page and 'href="/issues/new"' in page


def test_callbacks_through_the_form_and_json_and_unsatisfied_reopens(client, connection, staff):
    issue = report(client).get_json()["issue"]
    for action, note in (("triage", None), ("acknowledge", None), ("handle", "已抢修")):
        issue = act(client, issue, action, **({"note": note} if note else {}))
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    assert f'action="/issues/{issue["id"]}/callbacks"' in page and 'value="feed_back"' not in page
    response = client.post(f"/issues/{issue['id']}/callbacks", data={
        "version": issue["version"], "channel": "phone", "reached": "false",
        "unreached_reason": "电话无人接听"})
    assert response.status_code == 302
    response = client.post(f"/api/issues/{issue['id']}/callbacks", json={
        "version": issue["version"], "channel": "visit", "reached": True,
        "contacted_in_time": True, "solved": False, "satisfaction": "unsatisfied"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["issue"]["status"] == "in_progress"
    detail = client.get(f"/api/issues/{issue['id']}").get_json()
    assert [(c["reached"], c["satisfaction"]) for c in detail["callbacks"]] == [
        (False, None), (True, "unsatisfied")]
    assert [s["action"] for s in detail["timeline"]][-2:] == ["feed_back", "reopen"]
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    assert "回访记录" in page and "电话无人接听" in page and "不满意" in page
    missing = client.post(f"/api/issues/{issue['id']}/callbacks", json={
        "version": detail["issue"]["version"], "channel": "phone", "reached": True})
    assert missing.status_code in (409, 422)


def test_metrics_page_json_and_downloads(client, connection, staff):
    issue = report(client).get_json()["issue"]
    for action, note in (("triage", None), ("acknowledge", None), ("handle", "已抢修")):
        issue = act(client, issue, action, **({"note": note} if note else {}))
    response = client.post(f"/api/issues/{issue['id']}/callbacks", json={
        "version": issue["version"], "channel": "phone", "reached": True,
        "contacted_in_time": True, "solved": True, "satisfaction": "basically_satisfied"})
    assert response.status_code == 201
    figures = client.get("/api/metrics?by=village").get_json()
    [row] = figures["rows"]
    assert (row["key"], row["valid_callbacks"], row["satisfaction_rate"]) == (ISSUE_VILLAGE, 1, 0.9)
    page = client.get("/metrics?by=unit").get_data(as_text=True)
    assert "满意率" in page and "90.0%" in page and "插甸村民委员会" in page
    csv = client.get("/metrics.csv?by=village")
    assert csv.status_code == 200 and "attachment" in csv.headers["Content-Disposition"]
    assert ISSUE_VILLAGE in csv.get_data(as_text=True)
    assert client.get("/metrics.xlsx").status_code == 200
    bad = client.get("/api/metrics?by=grid")
    assert (bad.status_code, bad.get_json()["field"]) == (422, "by")
    assert client.get("/api/metrics?from=yesterday").get_json()["field"] == "from"


def test_my_tasks_count_in_the_navigation_and_the_receipt(client, connection, staff):
    issue = report(client).get_json()["issue"]
    page = client.get("/issues").get_data(as_text=True)
    assert 'href="/issues/mine"' in page and '<span class="nav-count"' in page
    mine = client.get("/issues/mine").get_data(as_text=True)
    assert "我的待办" in mine and "插甸村自来水浑浊" in mine
    issue = act(client, issue, "triage")  # to the 村委会: the village's task now, not the township's
    assert 'href="/issues/mine"' not in client.get("/issues").get_data(as_text=True)
    assert "插甸村自来水浑浊" not in client.get("/issues/mine").get_data(as_text=True)
    receipt = client.get(f"/issues/{issue['id']}/print").get_data(as_text=True)
    for words in ("民情事项办理回执", "受理分拨", "插甸村民委员会", issue["code"]):
        assert words in receipt
