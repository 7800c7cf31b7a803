"""Case controls and the residents' pages through HTTP alone: JSON actions, buttons, refusals."""

import re

import pytest
from hostile_text import HOSTILE_STRINGS, evaluated
from sqlalchemy import text
from support import ISSUE_COUNTY, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

VILLAGE_BOX = "MULTIPOLYGON(((102.39 25.54, 102.41 25.54, 102.41 25.56, 102.39 25.56, 102.39 25.54)))"


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    units = seed_issue_county(connection)
    connection.execute(text("UPDATE region SET name = '插甸村', geom = ST_GeomFromText(:g, 4326)"
                            " WHERE code = :v"), {"g": VILLAGE_BOX, "v": ISSUE_VILLAGE})
    return units


def report(client, **data):
    body = {"title": "自来水浑浊", "category": "drinking_water", "village_code": ISSUE_VILLAGE,
            "lon": 102.40, "lat": 25.55, **data}
    response = client.post("/api/issues", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["issue"]


def act(client, issue, action, **data):
    response = client.post(f"/api/issues/{issue['id']}/actions",
                           json={"action": action, "version": issue["version"], **data})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["issue"]


def control(client, issue, name, status=200, **data):
    response = client.post(f"/api/issues/{issue['id']}/controls",
                           json={"control": name, "version": issue["version"], **data})
    assert response.status_code == status, response.get_json()
    return response.get_json().get("issue") or response.get_json()


def test_extension_through_http_and_approving_ones_own_is_403(client, auth, county):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    issue = act(client, act(client, report(client), "triage"), "acknowledge")
    issue = act(client, issue, "escalate", note="需乡镇协调")
    issue = control(client, issue, "ask_extension", new_due="2026-12-10", note="等管材")
    refused = control(client, issue, "grant_extension", status=403)
    assert refused["error"] == "forbidden" and "自己" in refused["message"]
    auth.sign_out()
    auth.as_role("leader", ISSUE_COUNTY)
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    assert 'value="grant_extension"' in page and 'value="supervise"' in page
    issue = control(client, issue, "grant_extension", note="同意")
    assert issue["handling_due"].startswith("2026-12-10")
    detail = client.get(f"/api/issues/{issue['id']}").get_json()
    assert [s["action"] for s in detail["timeline"]][-2:] == ["ask_extension", "grant_extension"]
    table = client.get("/api/metrics").get_json()
    assert table["rows"][0]["extension_rate"] is None  # nothing due to close yet


def test_supervision_and_reminders_by_button_show_in_the_timeline(client, auth, county):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    issue = act(client, report(client), "triage")
    auth.sign_out()
    auth.as_role("inspector", ISSUE_COUNTY)
    response = client.post(f"/issues/{issue['id']}/controls", data={
        "control": "supervise", "note": "请三日内书面答复", "version": issue["version"]})
    assert response.status_code == 302
    client.post(f"/issues/{issue['id']}/controls", data={"control": "remind", "note": "请加快"})
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    for words in ("督办", "请三日内书面答复", "催办", "待回复"):
        assert words in page
    assert re.search(r"催办</dt><dd>1 次", page)
    auth.sign_out()
    auth.as_role("village_staff", ISSUE_VILLAGE)
    assert 'value="answer"' in client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    issue = control(client, issue, "answer", note="已安排维修")
    assert "已安排维修" in client.get(f"/issues/{issue['id']}").get_data(as_text=True)


def test_void_of_a_closed_issue_is_409_and_the_ledger_shows_void_and_long_term(client, auth, county):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    closed = act(client, act(client, report(client), "triage"), "acknowledge")
    closed = act(client, act(client, closed, "handle", note="已修"), "close", note="匿名，无法回访")
    response = client.post(f"/api/issues/{closed['id']}/actions",
                           json={"action": "void", "version": closed["version"], "note": "测试"})
    assert response.status_code == 409
    act(client, report(client, title="测试数据"), "void", note="测试")
    deferred = act(client, act(client, report(client, title="修水库"), "triage"), "acknowledge")
    act(client, deferred, "defer", note="列入明年项目")
    rows = client.get("/api/issues/ledger").get_json()["ledger"]
    assert [(r["title"], r["status"], r["reason"]) for r in rows] == [
        ("修水库", "long_term", "列入明年项目"), ("测试数据", "voided", "测试")]
    page = client.get("/issues/ledger").get_data(as_text=True)
    assert "列入明年项目" in page and "挂账" in page
    auth.sign_out()
    auth.as_role("grid_worker", ISSUE_VILLAGE + "001")
    assert client.get("/issues/ledger").status_code == 403


def test_duplicates_and_merge_by_the_form(client, auth, county):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    survivor = report(client)
    duplicate = report(client, title="水是黄的", lon=102.4004)
    found = client.get(f"/api/issues/{duplicate['id']}/duplicates").get_json()["duplicates"]
    assert [d["code"] for d in found] == [survivor["code"]]
    page = client.get(f"/issues/{duplicate['id']}").get_data(as_text=True)
    assert 'value="merge"' in page and survivor["code"] in page
    response = client.post(f"/issues/{duplicate['id']}/controls", data={
        "control": "merge", "into": survivor["code"], "version": duplicate["version"]})
    assert response.status_code == 302
    page = client.get(f"/issues/{survivor['id']}").get_data(as_text=True)
    assert f"合并自 {duplicate['code']}" in page
    assert client.get(f"/api/issues/{duplicate['id']}").get_json()["issue"]["status"] == "voided"


def test_a_resident_reports_without_signing_in_and_gets_a_code(client, auth, county):
    page = client.get(f"/r/{ISSUE_VILLAGE}")
    assert page.status_code == 200 and "插甸村" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    response = client.post(f"/r/{ISSUE_VILLAGE}", data={
        "title": "路灯不亮", "category": "drinking_water", "lon": "102.40", "lat": "25.55",
        "reporter_name": "王五", "reporter_phone": "13800005678"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:800]
    code = re.search(r"(MQ\d{13})", body).group(1)
    progress = client.post("/progress", data={"code": code, "tail": "5678"})
    assert progress.status_code == 200 and "已上报" in progress.get_data(as_text=True)
    assert "王五" not in progress.get_data(as_text=True)
    wrong_tail = client.post("/progress", data={"code": code, "tail": "1111"})
    wrong_code = client.post("/progress", data={"code": "MQ2026112300000", "tail": "5678"})
    assert wrong_tail.status_code == wrong_code.status_code == 404
    strip = lambda r: re.sub(r'name="csrf_token" value="[^"]*"|value="MQ\d+"', "",  # noqa: E731
                             r.get_data(as_text=True))
    assert strip(wrong_tail) == strip(wrong_code)
    assert client.get(f"/r/{ISSUE_VILLAGE}9").status_code == 404
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    queue = client.get("/api/issues").get_json()["issues"]
    assert [(row["code"], row["status"]) for row in queue] == [(code, "reported")]


def test_a_residents_hostile_text_stays_inert_on_every_page(client, auth, county):
    hostile = " | ".join(HOSTILE_STRINGS[:-1])
    refused = client.post(f"/r/{ISSUE_VILLAGE}", data={
        "title": hostile[:200], "category": "drinking_water", "place": "", "description": hostile})
    assert refused.status_code == 422
    assert not evaluated(refused.get_data(as_text=True))
    assert "<script>alert(1)</script>" not in refused.get_data(as_text=True)
    done = client.post(f"/r/{ISSUE_VILLAGE}", data={
        "title": hostile[:200], "category": "drinking_water", "place": hostile[:200],
        "description": hostile})
    assert done.status_code == 200
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    [row] = client.get("/api/issues").get_json()["issues"]
    page = client.get(f"/issues/{row['id']}").get_data(as_text=True)
    assert not evaluated(page) and "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_reports_from_one_address_are_throttled_with_429(client, county):
    form = {"title": "路灯不亮", "category": "drinking_water", "place": "三组"}
    for _ in range(5):
        assert client.post(f"/r/{ISSUE_VILLAGE}", data=form).status_code == 200
    response = client.post(f"/r/{ISSUE_VILLAGE}", data=form)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_qr_codes_of_the_report_pages_are_made_here_for_ones_own_villages(client, auth, county):
    auth.as_role("village_staff", ISSUE_VILLAGE)
    page = client.get("/issues/report-codes").get_data(as_text=True)
    assert f"/r/{ISSUE_VILLAGE}" in page
    svg = client.get(f"/issues/report-codes/{ISSUE_VILLAGE}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).lstrip().startswith("<svg")
    auth.sign_out()
    auth.as_role("village_staff", "532329101201")
    assert client.get(f"/issues/report-codes/{ISSUE_VILLAGE}.svg").status_code == 404


def test_an_unanswered_supervision_past_its_limit_is_red_on_the_page_tasks_and_ledger(
        client, auth, county, monkeypatch):
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    late = act(client, report(client, title="路灯不亮"), "triage")
    answered = act(client, report(client, title="垃圾未清运"), "triage")
    auth.sign_out()
    auth.as_role("inspector", ISSUE_COUNTY)
    for issue in (late, answered):
        control(client, issue, "supervise", note="请三日内书面答复")  # limit: 3 days (settings)
    auth.sign_out()
    auth.as_role("village_staff", ISSUE_VILLAGE)
    control(client, answered, "answer", note="已清运")
    assert "gm-supervision-overdue" not in client.get("/issues/mine").get_data(as_text=True)
    assert "超期未回复" not in client.get(f"/issues/{late['id']}").get_data(as_text=True)

    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-26T09:00:01+08:00")  # 3 days and a second on
    auth.sign_in("village_staff-" + ISSUE_VILLAGE)  # a new sign-in: the old session timed out
    tasks = client.get("/issues/mine").get_data(as_text=True)
    assert tasks.count("gm-supervision-overdue") == 1
    flagged = tasks[:tasks.index("gm-supervision-overdue")]
    assert "路灯不亮" in flagged[flagged.rindex("<li"):] and "督办超期未回复" in tasks
    page = client.get(f"/issues/{late['id']}").get_data(as_text=True)
    assert "1 条超期未回复" in page and 'class="gm-row-bad"' in page
    assert "gm-supervision-overdue" not in client.get(f"/issues/{answered['id']}").get_data(as_text=True)
    auth.sign_out()
    auth.sign_in("inspector-" + ISSUE_COUNTY)
    overdue = client.get("/api/issues/ledger").get_json()["overdue_supervisions"]
    assert [(row["code"], row["instruction"]) for row in overdue] == [(late["code"], "请三日内书面答复")]
    ledger = client.get("/issues/ledger").get_data(as_text=True)
    assert "超期未回复的督办（1 条）" in ledger and late["code"] in ledger
    assert answered["code"] not in ledger
