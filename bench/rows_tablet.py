"""50 simulated tablets against gunicorn on loopback (issue 12): each its own grid worker,
signed in, opening its grid (/field), then logging visits to its households and reporting an
issue on every fourth, for BENCH_TABLET_SECONDS (180 by default); the server is stopped and
started again on the same port half way. A tablet that gets no answer keeps the entry and
sends it again with the same client_uuid, as the field pages' queue does. Baseline: one tablet
alone, the same loop. Every acknowledged visit and report must be stored exactly once.

The tablets write, so they run on a scratch copy of the county's database, dropped after.
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
import uuid

import psycopg2

from bench.data import bench_users
from bench.results import Line
from bench.server import Client, Server
from bench.timing import Sample, load_average, progress

TABLETS = 50
THINK_SECONDS = 2.0  # between two entries a grid worker walks, asks, ticks and types
# What the serving side used in the first half of the tablets' run (gunicorn workers and
# PostgreSQL, in cores) and the machine's load average then: the figures' context.
USE = {"cores": 0.0, "load": 0.0}
CATEGORY_SQL = "SELECT code FROM issue_category WHERE county_code = %s ORDER BY code LIMIT 1"


def _seconds() -> float:
    return float(os.environ.get("BENCH_TABLET_SECONDS", "180"))


def _tablets() -> int:
    return int(os.environ.get("BENCH_TABLETS", str(TABLETS)))


def _accounts(url: str, county: str, count: int) -> list[str]:
    """`count` grid workers, one for each of the grids with the most households."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT grid_code FROM household WHERE county_code = %s AND grid_code IS NOT NULL"
                    " GROUP BY grid_code ORDER BY count(*) DESC, grid_code LIMIT %s", (county, count))
        grids = [g for (g,) in cur.fetchall()]
    conn.close()
    return bench_users(url, county, "grid_worker", "bench-tablet", grids)


class Tablet:
    """One tablet: a signed-in session, its households, what it sent and was acknowledged."""

    def __init__(self, base: str, login: str, category: str):
        self.client = Client(base, login)
        self.base, self.category = base, category
        page = self.client.get("/field").decode()
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        data = re.search(r'<script type="application/json" id="field-data">(.*?)</script>', page, re.S)
        self.households = [h["id"] for h in json.loads(data.group(1))["households"]]
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.acknowledged = {"visit": set(), "issue": set()}

    def _post(self, path: str, body: dict) -> int | None:
        """The status, or None when no answer came (the server is down)."""
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRFToken": self.csrf})
        started = time.perf_counter()
        try:
            with self.client.opener.open(request, timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        except OSError:
            return None
        self.latencies.append(time.perf_counter() - started)
        return status

    def _until_acknowledged(self, path: str, body: dict, down: threading.Event) -> bool:
        while True:
            status = self._post(path, body)
            if status in (200, 201):
                return True
            if status is not None and status != 503:
                self.errors.append(f"POST {path}: {status}")
                return False
            time.sleep(0.5 if down.is_set() else 0.2)  # queued on the tablet, sent again

    def work(self, until: float, down: threading.Event, in_restart) -> None:
        # Grid workers do not all press 保存 in the same instant: each starts somewhere in
        # its first interval, as in the steady state (not 50 requests in one burst).
        time.sleep(THINK_SECONDS * random.uniform(0, 1))
        n = 0
        while time.monotonic() < until:
            household = self.households[n % len(self.households)]
            visit = str(uuid.uuid4())
            body = {"household_id": household, "client_uuid": visit,
                    "checklist": {"look": [], "ask": [], "leave": []}, "notes": f"bench {n}"}
            started = len(self.latencies)
            if self._until_acknowledged("/api/visits", body, down):
                self.acknowledged["visit"].add(visit)
            if n % 4 == 0:
                issue = str(uuid.uuid4())
                if self._until_acknowledged(f"/api/visits/{visit}/issues", {
                        "client_uuid": issue, "title": f"bench issue {n}",
                        "category": self.category}, down):
                    self.acknowledged["issue"].add(issue)
            if in_restart():  # answers around the restart are not the steady state
                del self.latencies[started:]
            n += 1
            progress.tick()
            time.sleep(THINK_SECONDS * random.uniform(0.5, 1.5))


def _run(server_box: list, url: str, county: str, logins: list[str], seconds: float,
         restart: bool):
    """The tablets of `logins` at work for `seconds` against the server in `server_box`
    (replaced by a new one on the same port when `restart`)."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute(CATEGORY_SQL, (county,))
        (category,) = cur.fetchone()
    conn.close()
    down, window = threading.Event(), {"from": float("inf"), "to": float("inf")}
    tablets = [Tablet(server_box[0].base, login, category) for login in logins]
    started, cpu = time.monotonic(), server_box[0].cpu_seconds()
    until = started + seconds
    in_restart = lambda: window["from"] - 2 <= time.monotonic() <= window["to"] + 5  # noqa: E731
    threads = [threading.Thread(target=t.work, args=(until, down, in_restart)) for t in tablets]
    for thread in threads:
        thread.start()
    if restart:
        time.sleep(seconds / 2)
        USE["cores"] = (server_box[0].cpu_seconds() - cpu) / (time.monotonic() - started)
        USE["load"] = load_average()
        window["from"] = time.monotonic()
        down.set()
        port = server_box[0].port
        server_box[0].__exit__()
        server_box[0] = Server(url, port=port).__enter__()
        down.clear()
        window["to"] = time.monotonic()
    for thread in threads:
        thread.join()
    return tablets


def _stored_once(url: str, tablets) -> tuple[int, int, bool]:
    visits = [v for t in tablets for v in t.acknowledged["visit"]]
    issues = [i for t in tablets for i in t.acknowledged["issue"]]
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM visit WHERE client_uuid = ANY(%s::uuid[])", (visits,))
        (stored_visits,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM issue WHERE client_uuid = ANY(%s::uuid[])", (issues,))
        (stored_issues,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM visit WHERE notes LIKE 'bench %%'")
        (all_visits,) = cur.fetchone()
    conn.close()
    once = stored_visits == len(visits) == all_visits and stored_issues == len(issues)
    return len(visits), len(issues), once


def tablet_rows(bench) -> list[Line]:
    """50 tablets syncing for a few minutes, the server restarted once, vs one tablet alone."""
    if bench.scale == 10:  # the tablets' work is one grid's each, whatever the county's size
        return []
    progress.start_row(f"{_tablets()} tablets")
    seconds = _seconds()
    url = bench.dbs.scratch("tablets")
    try:
        logins = _accounts(url, bench.county, _tablets())
        server_box = [Server(url).__enter__()]
        try:
            # as long as the fifty: over 30 s one tablet made ~19 requests, so its p95 was
            # nearly its maximum and swung 92–447 ms between runs
            alone = _run(server_box, url, bench.county, logins[:1], seconds, False)
            many = _run(server_box, url, bench.county, logins, seconds, True)
        finally:
            server_box[0].__exit__()
        visits, issues, once = _stored_once(url, alone + many)
    finally:
        bench.dbs.drop("tablets")
    one, fifty = Sample(alone[0].latencies), Sample([x for t in many for x in t.latencies])
    errors = [e for t in alone + many for e in t.errors]
    ratio = fifty.p95() / one.p95()
    label = f"{len(logins)} tablets: sign in, open the grid, log visits and reports for {seconds:.0f} s (~{THINK_SECONDS:.0f} s between entries), server restarted once"
    return [
        Line(label + f" (request p95 outside the restart; server and PostgreSQL busy "
             f"{USE['cores']:.2f} cores, machine load {USE['load']:.0f})", "one tablet alone",
             f"p95 {fifty.p95() * 1000:.0f} ms", f"p95 {one.p95() * 1000:.0f} ms", f"{ratio:.2f}x",
             "p95 ≤ 4x one tablet's", ratio <= 4),
        Line(label + ": acknowledged rows stored exactly once, server errors",
             "—", f"{visits} visits, {issues} reports; {len(errors)} errors", "—", "—",
             "exactly once; 0 errors", once and not errors),
    ]
