"""Issue transitions under contention (issue 10): 20 signed-in township staff over HTTP, a
few issues between them, each client moving an issue one step at a time around
reported → 梳理 triaged → 签收 in_progress → 退单 reported, with the version it last saw.
A 409 (someone moved it first) is re-read and tried again, as the office page does.

Every acknowledged transition must be exactly one `issue_event`, each issue's events must
chain (each starts where the one before ended) and its version must have risen once per
event: nothing lost, nothing doubled. The clients write, so they run on a scratch copy of
the county, dropped after the row.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from bench.data import bench_users
from bench.results import Line
from bench.server import Client, Server
from bench.timing import load_average, progress

CLIENTS = 20
ISSUES = 5  # four clients to an issue: most steps meet another client's
# The next step of each state, and what it needs besides the version.
CYCLE = {"reported": ("triage", {"urgency": "normal"}), "triaged": ("acknowledge", {}),
         "in_progress": ("return", {"note": "bench 退单"})}
EVENTS = tuple(action for action, _fields in CYCLE.values())


def _seconds() -> float:
    return float(os.environ.get("BENCH_TRANSITION_SECONDS", "60"))


def _setup(url: str, county: str) -> tuple[list[str], list[int], str]:
    """20 township staff of the township with the most open issues, that township's
    `ISSUES` open issues in the cycle's states, and a unit to dispatch to."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT left(village_code, 9) FROM issue WHERE county_code = %s"
                    " AND status = ANY(%s) AND merged_into IS NULL AND village_code IS NOT NULL"
                    " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", (county, list(CYCLE)))
        (township,) = cur.fetchone()
        cur.execute("SELECT id FROM issue WHERE county_code = %s AND status = ANY(%s)"
                    " AND merged_into IS NULL AND village_code LIKE %s ORDER BY id LIMIT %s",
                    (county, list(CYCLE), township + "%", ISSUES))
        issue_ids = [i for (i,) in cur.fetchall()]
        cur.execute("SELECT code FROM unit WHERE county_code = %s ORDER BY code LIMIT 1",
                    (county,))
        (unit,) = cur.fetchone()
    conn.close()
    logins = bench_users(url, county, "township_staff", "bench-staff", [township] * CLIENTS)
    return logins, issue_ids, unit


class Staff:
    """One signed-in client: what it saw of each issue, what it was acknowledged."""

    def __init__(self, base: str, login: str, unit: str):
        self.client, self.base, self.unit = Client(base, login), base, unit
        page = self.client.get("/issues").decode()
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        self.seen: dict[int, dict] = {}
        self.done: Counter = Counter()  # issue id → transitions acknowledged
        self.conflicts = 0
        self.errors: list[str] = []

    def _send(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRFToken": self.csrf})
        try:
            with self.client.opener.open(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, {}

    def read(self, issue_id: int) -> None:
        status, body = self._send("GET", f"/api/issues/{issue_id}")
        if status != 200:
            self.errors.append(f"GET issue {issue_id}: {status}")
            return
        self.seen[issue_id] = body["issue"]

    def step(self, issue_id: int) -> None:
        if issue_id not in self.seen:
            self.read(issue_id)
        issue = self.seen.get(issue_id)
        if issue is None or issue["status"] not in CYCLE:
            self.errors.append(f"issue {issue_id} left the cycle: {issue and issue['status']}")
            return
        action, fields = CYCLE[issue["status"]]
        body = {"action": action, "version": issue["version"], **fields}
        if action == "triage":
            body["unit"] = self.unit
        status, answer = self._send("POST", f"/api/issues/{issue_id}/actions", body)
        if status == 200:
            self.done[issue_id] += 1
            self.seen[issue_id] = answer["issue"]
        elif status == 409:  # another client moved it first: look again
            self.conflicts += 1
            self.read(issue_id)
        else:
            self.errors.append(f"{action} on {issue_id}: {status}")

    def work(self, issue_ids: list[int], until: float) -> None:
        while time.monotonic() < until and len(self.errors) < 5:
            self.step(random.choice(issue_ids))
            progress.tick()


def _check(url: str, issue_ids: list[int], before: dict, done: Counter) -> list[str]:
    """What is wrong with the stored events (empty: every transition stored exactly once)."""
    conn = psycopg2.connect(url)
    wrong = []
    with conn.cursor() as cur:
        for issue_id in issue_ids:
            start_version, start_event = before[issue_id]
            cur.execute("SELECT version, status FROM issue WHERE id = %s", (issue_id,))
            version, status = cur.fetchone()
            cur.execute("SELECT from_status, to_status FROM issue_event WHERE issue_id = %s"
                        " AND id > %s ORDER BY id", (issue_id, start_event))
            events = cur.fetchall()
            if len(events) != done[issue_id]:
                wrong.append(f"issue {issue_id}: {done[issue_id]} acknowledged, "
                             f"{len(events)} events stored")
            if version != start_version + len(events):
                wrong.append(f"issue {issue_id}: version {start_version} → {version} "
                             f"after {len(events)} events")
            for (_f, to_status), (from_status, _t) in zip(events, events[1:], strict=False):
                if to_status != from_status:
                    wrong.append(f"issue {issue_id}: an event from {from_status} after one "
                                 f"to {to_status} (a lost update)")
                    break
            if events and events[-1][1] != status:
                wrong.append(f"issue {issue_id}: is {status}, last event to {events[-1][1]}")
    conn.close()
    return wrong


def _state(url: str, issue_ids: list[int]) -> dict[int, tuple[int, int]]:
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT i.id, i.version, coalesce(max(e.id), 0) FROM issue i"
                    " LEFT JOIN issue_event e ON e.issue_id = i.id WHERE i.id = ANY(%s)"
                    " GROUP BY i.id, i.version", (issue_ids,))
        state = {issue_id: (version, last) for issue_id, version, last in cur.fetchall()}
    conn.close()
    return state


def transition_rows(bench) -> list[Line]:
    """20 clients moving a few issues through the lifecycle at once: transitions per second;
    every acknowledged transition stored once, in order."""
    if bench.scale == 10:  # a few issues of one township, whatever the database's size
        return []
    progress.start_row(f"issue transitions, {CLIENTS} clients")
    seconds, url = _seconds(), bench.dbs.scratch("transitions")
    try:
        logins, issue_ids, unit = _setup(url, bench.county)
        with Server(url) as server:
            with ThreadPoolExecutor(4) as pool:  # signing in is scrypt and a page: 20 take a while
                staff = list(pool.map(lambda login: Staff(server.base, login, unit), logins))
            before = _state(url, issue_ids)
            started, cpu = time.monotonic(), server.cpu_seconds()
            threads = [threading.Thread(target=s.work, args=(issue_ids, started + seconds))
                       for s in staff]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.monotonic() - started
            cores, load = (server.cpu_seconds() - cpu) / wall, load_average()
        done = sum((s.done for s in staff), Counter())
        wrong = _check(url, issue_ids, before, done)
    finally:
        bench.dbs.drop("transitions")
    errors = [e for s in staff for e in s.errors]
    for problem in (wrong + errors)[:10]:
        progress.note(f"  issue transitions: {problem}")
    conflicts = sum(s.conflicts for s in staff)
    total = sum(done.values())
    label = (f"issue transitions, {CLIENTS} concurrent clients on {len(issue_ids)} issues for "
             f"{seconds:.0f} s (HTTP, version lock; server and PostgreSQL busy {cores:.1f} "
             f"cores, machine load {load:.0f})")
    return [Line(label, "—", f"{total / wall:.1f} transitions/s ({total:,}; {conflicts:,} "
                 f"refused as stale and retried; {len(errors)} errors)", "—", "—",
                 "0 lost or doubled events; transitions/s reported",
                 not wrong and not errors and total > 0)]
