"""`make run`'s server (scripts/serve.sh): started as root, requests never run as root."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def wait_for(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server.stdout.read()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def gunicorn_master(script_pid: int) -> int:
    """The gunicorn master started by scripts/serve.sh."""
    listing = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(script_pid)],
                             capture_output=True, text=True, check=False).stdout
    return next(int(line.split()[0]) for line in listing.splitlines() if "gunicorn" in line)


def owners_of_children(pid: int) -> set[str]:
    """The users that the server's worker processes run as."""
    listing = subprocess.run(["ps", "-o", "user=", "--ppid", str(pid)],
                             capture_output=True, text=True, check=False).stdout
    return {line.strip() for line in listing.splitlines() if line.strip()}


@pytest.mark.skipif(os.geteuid() != 0, reason="only a server started as root drops privileges")
def test_a_server_started_as_root_answers_requests_as_an_unprivileged_user(database_url):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "GRIDMAP_SECRET_KEY": "serve-test",
           "HOST": "127.0.0.1", "PORT": str(port), "GRIDMAP_WORKERS": "1",
           "GRIDMAP_ESCALATE_SECONDS": "1"}
    server = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        status, body = get(f"http://127.0.0.1:{port}/sign-in")  # templates and catalogs load
        assert status == 200 and "登录" in body
        workers = owners_of_children(gunicorn_master(server.pid))
        assert workers == {"gridmap-web"}, workers
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    output = server.stdout.read()
    assert "escalated 0" in output  # the escalation loop ran beside the server
    assert server.returncode == 0, output[-2000:]
