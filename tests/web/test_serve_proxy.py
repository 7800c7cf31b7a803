"""`make run PROXY=nginx`: slow and half-open clients do not stop the server; GRIDMAP_TLS=1
serves HTTPS with a self-signed certificate made once under var/tls/."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from test_serve import ROOT, free_port, get, wait_for

SLOW_CLIENTS = 16


def serve(database_url: str, port: int, **env) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": database_url, "GRIDMAP_SECRET_KEY": "proxy-test",
                   "HOST": "127.0.0.1", "PORT": str(port), "GRIDMAP_WORKERS": "1",
                   "GRIDMAP_ESCALATE_SECONDS": "0", **env}
    return subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(server: subprocess.Popen) -> str:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    return server.stdout.read()


class SlowClients:
    """Connections that send a request's headers one byte every second and never finish."""

    def __init__(self, port: int, count: int):
        self.stopped = threading.Event()
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5)
                        for _ in range(count)]
        self.thread = threading.Thread(target=self._dribble, daemon=True)
        self.thread.start()

    def _dribble(self):
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
        for byte in request:
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # the server may drop a slow client
                    sock.send(bytes([byte]))
            if self.stopped.wait(1):
                return

    def close(self):
        self.stopped.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def healthz_answers(port: int, seconds: float = 5) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=seconds) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("proxy, survives", [("nginx", True), ("", False)])
def test_slow_half_open_clients_do_not_stop_healthz_behind_nginx(database_url, proxy, survives):
    port = free_port()
    server = serve(database_url, port, PROXY=proxy)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        slow = SlowClients(port, SLOW_CLIENTS)
        try:
            time.sleep(2)
            answered = [healthz_answers(port) for _ in range(3)]
        finally:
            slow.close()
        # without nginx the single worker's threads are all held: the control shows the attack
        assert all(answered) if survives else not any(answered), answered
        assert healthz_answers(port, 10)  # and once they are gone it answers again
    finally:
        output = stop(server)
    if proxy:
        assert "nginx on 127.0.0.1" in output, output[-2000:]
        assert server.returncode == 0, output[-2000:]


def test_behind_nginx_pages_answer_and_an_oversized_body_is_413_with_the_message(database_url):
    port = free_port()
    server = serve(database_url, port, PROXY="nginx")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        status, body = get(f"http://127.0.0.1:{port}/sign-in")
        assert status == 200 and "登录" in body
        big = urllib.request.Request(f"http://127.0.0.1:{port}/sign-in", method="POST",
                                     data=b"x" * (32 * 1024 * 1024 + 10),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(big, timeout=60)
        assert refused.value.code == 413
        assert "太大" in refused.value.read().decode()
    finally:
        stop(server)


@pytest.mark.skipif(os.geteuid() != 0, reason="nginx needs its temp directories: run as root")
def test_https_on_the_lan_with_a_generated_certificate(database_url):
    port = free_port()
    server = serve(database_url, port, GRIDMAP_TLS="1")
    cert = Path(ROOT, "var/tls/gridmap.crt")
    try:
        deadline = time.monotonic() + 60
        while not cert.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        context = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", timeout=5,
                                            context=context) as answer:
                    assert answer.status == 200
                    break
            except (OSError, ssl.SSLError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/sign-in", timeout=5,
                                    context=context) as answer:
            assert "Secure" in answer.headers.get("Set-Cookie", "")
            assert "max-age" in answer.headers.get("Strict-Transport-Security", "")
        assert oct(Path(ROOT, "var/tls/gridmap.key").stat().st_mode & 0o777) == "0o600"
    finally:
        stop(server)
