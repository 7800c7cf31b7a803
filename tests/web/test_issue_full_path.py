"""Issue 10's "done when", through HTTP alone: report, triage, acknowledge, dispatch (交办),
escalate (上交), handle, feed back, reopen and close, each by the office whose step it is,
and a timeline page that names who, when and which unit for every step."""

import re

import pytest
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

STEPS_AT = iter(f"2026-11-{day:02d}T{hour:02d}:00:00+08:00" for day, hour in (
    (23, 9), (23, 10), (23, 11), (24, 9), (24, 10), (24, 11), (24, 15), (25, 9), (25, 10),
    (26, 9), (26, 10), (27, 9), (27, 10), (27, 11)))


@pytest.fixture
def offices(client, connection, auth, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", next(STEPS_AT))
    units = seed_issue_county(connection)
    logins = {}

    def become(role, scope, **columns):
        """Sign in as that office, kept signed in (the steps span days)."""
        auth.sign_out()
        if (role, scope) not in logins:
            logins[role, scope] = auth.as_role(role, scope, **columns)
            auth.sign_out()
        assert auth.sign_in(logins[role, scope], remember="y").status_code == 302
        return logins[role, scope]

    return units, become


def test_every_step_through_http_with_who_when_and_unit_on_the_timeline(client, offices,
                                                                       monkeypatch):
    units, become = offices
    clock = iter(STEPS_AT)

    def act(issue, action, **data):
        monkeypatch.setenv("GRIDMAP_NOW", next(clock))
        response = client.post(f"/api/issues/{issue['id']}/actions",
                               json={"action": action, "version": issue["version"], **data})
        assert response.status_code == 200, (action, response.get_json())
        return response.get_json()["issue"]

    def call_back(issue, satisfaction):
        monkeypatch.setenv("GRIDMAP_NOW", next(clock))
        response = client.post(f"/api/issues/{issue['id']}/callbacks", json={
            "version": issue["version"], "channel": "phone", "reached": True,
            "contacted_in_time": True, "solved": satisfaction != "unsatisfied",
            "satisfaction": satisfaction})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["issue"]

    worker = become("grid_worker", ISSUE_GRID)
    response = client.post("/api/issues", json={
        "title": "三组自来水浑浊", "category": "drinking_water", "grid_code": ISSUE_GRID,
        "real_name": True, "reporter_name": "张三", "reporter_phone": "13800001111"})
    assert response.status_code == 201, response.get_json()
    issue = response.get_json()["issue"]
    village = become("village_staff", ISSUE_VILLAGE)
    issue = act(issue, "triage")                                   # to the 村委会
    issue = act(issue, "acknowledge")                              # 签收
    issue = act(issue, "escalate", note="村里修不了主管道")          # 上交 to the 水务站
    assert (issue["level"], issue["responsible_unit_id"]) == ("township", units[ISSUE_TOWNSHIP + "S11"])
    township = become("township_staff", ISSUE_TOWNSHIP)
    issue = act(issue, "dispatch", to_level="village",             # 交办 back down
                unit=ISSUE_VILLAGE + "V")
    assert (issue["status"], issue["level"]) == ("triaged", "village")
    become("village_staff", ISSUE_VILLAGE)
    issue = act(issue, "acknowledge")
    issue = act(issue, "escalate", note="需要水务站换管")
    handler = become("unit_handler", ISSUE_TOWNSHIP, unit_id=units[ISSUE_TOWNSHIP + "S11"])
    issue = act(issue, "handle", note="已更换主管道")
    become("grid_worker", ISSUE_GRID)
    issue = call_back(issue, "unsatisfied")                        # 不满意 reopens
    assert issue["status"] == "in_progress"
    become("unit_handler", ISSUE_TOWNSHIP, unit_id=units[ISSUE_TOWNSHIP + "S11"])
    issue = act(issue, "handle", note="加装过滤器，水已清")
    become("grid_worker", ISSUE_GRID)
    issue = call_back(issue, "satisfied")
    become("township_staff", ISSUE_TOWNSHIP)
    issue = act(issue, "close")
    assert issue["status"] == "closed"

    detail = client.get(f"/api/issues/{issue['id']}").get_json()
    steps = [(s["action"], s["actor"], s["unit"], s["at"][:16]) for s in detail["timeline"]]
    assert steps == [
        ("report", worker, None, "2026-11-23T01:00"),
        ("triage", village, "插甸村民委员会", "2026-11-23T02:00"),
        ("acknowledge", village, "插甸村民委员会", "2026-11-23T03:00"),
        ("escalate", village, "插甸镇水务站", "2026-11-24T01:00"),
        ("dispatch", township, "插甸村民委员会", "2026-11-24T02:00"),
        ("acknowledge", village, "插甸村民委员会", "2026-11-24T03:00"),
        ("escalate", village, "插甸镇水务站", "2026-11-24T07:00"),
        ("handle", handler, "插甸镇水务站", "2026-11-25T01:00"),
        ("feed_back", worker, "插甸镇水务站", "2026-11-25T02:00"),
        ("reopen", worker, "插甸镇水务站", "2026-11-25T02:00"),
        ("handle", handler, "插甸镇水务站", "2026-11-26T01:00"),
        ("feed_back", worker, "插甸镇水务站", "2026-11-26T02:00"),
        ("close", township, "插甸镇水务站", "2026-11-27T01:00"),
    ]
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    timeline = page[page.index("办理过程"):]
    for label in ("上报", "受理分拨", "签收", "上交", "交办", "办结", "回访反馈", "重新处置", "结案"):
        assert label in timeline, label
    for who in (worker, village, township, handler):
        assert who in timeline, who
    for when in ("2026-11-23 09:00", "2026-11-24 10:00", "2026-11-25 09:00", "2026-11-27 09:00"):
        assert when in timeline, when
    assert len(re.findall("插甸镇水务站", timeline)) >= 8 and "插甸村民委员会" in timeline
