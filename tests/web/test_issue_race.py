"""Two people press the same button at once: real parallel requests to a served app (CSRF on)
on a committed database. One wins, the other gets 409; each action is one event, no more."""

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import text
from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, AuthActions, seed_issue_county, seed_user, served

from gridmap.db import make_engine


class Browser:
    """A signed-in session of its own (cookies, CSRF token) speaking JSON to the app."""

    def __init__(self, base_url: str, login: str):
        self.base = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{base_url}/sign-in").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"login": login, "password": AuthActions.password,
                                       "csrf_token": token}).encode()
        self.opener.open(f"{base_url}/sign-in", form)
        page = self.opener.open(f"{base_url}/issues").read().decode()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.token})
        try:
            with self.opener.open(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())


def test_two_parallel_transitions_one_wins_the_other_is_409_and_events_are_exact(
        fresh_database_url, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        seed_issue_county(connection)
        seed_user(connection, "township_staff", ISSUE_TOWNSHIP)
        seed_user(connection, "village_staff", ISSUE_VILLAGE)
    with served(fresh_database_url) as base_url:
        staff = Browser(base_url, f"township_staff-{ISSUE_TOWNSHIP}")
        village = Browser(base_url, f"village_staff-{ISSUE_VILLAGE}")
        status, body = staff.post("/api/issues", {"title": "水管破裂", "category": "drinking_water",
                                                  "village_code": ISSUE_VILLAGE})
        assert status == 201, body
        issue = body["issue"]
        for action, extra in (("triage", {}), ("reject", {"note": "不属受理范围"})):
            barrier, results = threading.Barrier(2), []

            def press(who, action=action, extra=extra, barrier=barrier, results=results,
                      issue=issue):
                barrier.wait()
                results.append(who.post(f"/api/issues/{issue['id']}/actions",
                                        {"action": action, "version": issue["version"], **extra}))

            threads = [threading.Thread(target=press, args=(who,)) for who in (staff, village)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sorted(code for code, _ in results) == [200, 409], results
            loser = next(body for code, body in results if code == 409)
            assert loser["error"] == "conflict" and "刚被他人更新" in loser["message"]
            issue = next(body for code, body in results if code == 200)["issue"]
    with engine.connect() as connection:
        actions = connection.execute(text(
            "SELECT action FROM issue_event WHERE issue_id = :id ORDER BY id"), {"id": issue["id"]}
        ).scalars().all()
        version = connection.execute(text("SELECT version FROM issue WHERE id = :id"),
                                     {"id": issue["id"]}).scalar()
    engine.dispose()
    assert actions == ["report", "triage", "reject"] and version == 3
