"""gridmap served by gunicorn on 127.0.0.1 (scripts/serve.sh, 2 workers) and signed-in
clients for it. Only loopback: every URL here is built from LOOPBACK and a free port."""

from __future__ import annotations

import gzip
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2

from bench.data import BENCH_VAR, ROOT
from bench.timing import cpu_seconds, vm_hwm
from gridmap import devdb
from gridmap.maps.styles import GAP_DEFAULT_ON

LOOPBACK = "127.0.0.1"
# What map.js fetches for a leader's first paint: the county outline, regions and grids, the
# open issues, the grids longest unvisited, the 挂牌 targets and the coverage-gap layers
# switched on when the page opens.
PAGE_LAYERS = ("county", "townships", "villages", "grids", "issues", "unvisited", "targets",
               *(f"gaps/{kind}" for kind in sorted(GAP_DEFAULT_ON)))
# map.js asks for each layer in the compact encoding (gridmap.maps.compact) and decodes it.
LAYER_QUERY = "?compact=1"
# The page's own scripts, styles and icon (what a first visit loads besides the layers).
ASSET = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, probe_url: str, log: Path, ready=lambda: True,
                  seconds: float = 60) -> None:
    """Wait until `probe_url` answers and `ready()` holds; RuntimeError naming `log` when the
    process stops or does not answer within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: see {log}")
        try:
            with urllib.request.urlopen(probe_url, timeout=2):
                pass
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {seconds:.0f} s: see {log}")


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Server:
    """`with Server(url) as server:` gunicorn on a free loopback port, stopped on exit."""

    def __init__(self, database_url: str, workers: int = 2, port: int | None = None):
        self.database_url = database_url
        self.workers = workers
        self.port = port or _free_port()  # a restarted server answers where the old one did
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        BENCH_VAR.mkdir(parents=True, exist_ok=True)
        log = (BENCH_VAR / "server.log").open("w")
        env = {**os.environ, "DATABASE_URL": self.database_url, "HOST": LOOPBACK,
               "PORT": str(self.port), "GRIDMAP_WORKERS": str(self.workers),
               "GRIDMAP_ESCALATE_SECONDS": "0"}  # no escalation loop: serve.sh execs gunicorn
        self.proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve.sh")], env=env,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_until_up(self.proc, self.base + "/healthz", BENCH_VAR / "server.log",
                          ready=lambda: len(self.worker_pids()) >= self.workers)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        stop(self.proc)

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the master's children (serve.sh execs the master)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def cpu_seconds(self) -> float:
        """CPU time used so far by what serves a request: the gunicorn workers, the database's
        backends and the cluster's reaped processes (the parallel query workers, which come
        and go; any other session of the private cluster counts too, so run nothing beside)."""
        workers = sum(cpu_seconds(pid) for pid in self.worker_pids())
        conn = psycopg2.connect(self.database_url)
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()")
            backends = [pid for (pid,) in cur.fetchall()]
        conn.close()
        postmaster = int((devdb.cluster_dir() / "postmaster.pid").read_text().split()[0])
        return (workers + sum(cpu_seconds(pid) for pid in backends)
                + cpu_seconds(postmaster, children=True))

    def peak_rss(self) -> int:
        """The largest VmHWM of a worker: the memory one request-serving process needed."""
        return max(vm_hwm(pid) for pid in self.worker_pids())

    def client(self, login: str = "leader") -> Client:
        return Client(self.base, login)


class Client:
    """One signed-in browser-like session (its own cookie jar); bytes it received."""

    def __init__(self, base: str, login: str):
        self.base = base
        self.wire = self.decoded = 0
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.get("/sign-in").decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        if token is None:
            raise RuntimeError("no csrf_token on the sign-in form")
        body = urllib.parse.urlencode({"login": login, "password": f"demo-{login}",
                                       "csrf_token": token.group(1)}).encode()
        with self.opener.open(self.base + "/sign-in", data=body, timeout=120) as response:
            if response.url.rstrip("/").endswith("sign-in"):
                raise RuntimeError(f"could not sign in as {login}")

    def get(self, path: str) -> bytes:
        """The body of GET `path`, asked for as a browser does (gzip accepted); the bytes that
        came over the wire are added to `wire`, the decoded ones to `decoded`."""
        request = urllib.request.Request(self.base + path, headers={"Accept-Encoding": "gzip"})
        with self.opener.open(request, timeout=300) as response:
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status}")
            body = response.read()
            encoded = response.headers.get("Content-Encoding") == "gzip"
        self.wire += len(body)
        body = gzip.decompress(body) if encoded else body
        self.decoded += len(body)
        return body

    def _counted(self, fetch) -> dict[str, bytes]:
        self.wire = self.decoded = 0
        return fetch()

    def page(self) -> dict[str, bytes]:
        """The map page as a first visit paints it: the HTML, its scripts and styles, then each
        layer map.js fetches. Bytes: `wire` (as sent) and `decoded` after the call."""
        def fetch():
            responses = {"/": self.get("/")}
            for asset in ASSET.findall(responses["/"].decode()):
                responses[asset] = self.get(asset)
            for layer in PAGE_LAYERS:
                responses[layer] = self.get(f"/map/{layer}.geojson{LAYER_QUERY}")
            responses["gap counts"] = self.get("/map/gaps.json")  # the legend's numbers
            return responses
        return self._counted(fetch)

    def appeals_page(self) -> dict[str, bytes]:
        """The map page as an appeals map: its HTML, its scripts and styles, the open issues'
        layer."""
        def fetch():
            responses = {"/": self.get("/")}
            for asset in ASSET.findall(responses["/"].decode()):
                responses[asset] = self.get(asset)
            responses["issues"] = self.get(f"/map/issues.geojson{LAYER_QUERY}")
            return responses
        return self._counted(fetch)
