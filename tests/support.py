"""Helpers shared by the test suites: the demo users, the demo county, a served app.

tests/ is on sys.path (pytest's rootdir conftest), so tests import this as `support`.
"""

from __future__ import annotations

import contextlib
import csv
import threading
from pathlib import Path

from gridmap import create_app
from gridmap.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
DEMO_USERS_FILE = ROOT / "data" / "demo" / "users.csv"


def demo_users() -> dict[str, str]:
    """login -> password of every demo user (data/demo/users.csv, listed in the README)."""
    with DEMO_USERS_FILE.open(encoding="utf-8") as users:
        return {row["login"]: row["password"] for row in csv.DictReader(users)}


DEMO_USERS = demo_users()


def load_demo_county(url: str) -> None:
    from gridmap.demo.load import load_demo

    engine = make_engine(url)
    with engine.connect() as connection:
        report = load_demo(connection, commit=True)
    engine.dispose()
    assert not report.problems, report.problems


@contextlib.contextmanager
def served(url: str, **config):
    """The real app (CSRF on, real sign-in) over database `url` on a free 127.0.0.1 port."""
    from werkzeug.serving import make_server

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", **config})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridmap-test-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["gridmap.engine"].dispose()
