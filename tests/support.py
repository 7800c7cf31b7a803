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


class AuthActions:
    """Sign in as any role and scope through the real sign-in form (as flaskr's AuthActions)."""

    password = "demo-password-1"

    def __init__(self, client, connection):
        self.client = client
        self.connection = connection

    def sign_in(self, login: str, password: str | None = None, **form):
        """POST the sign-in form; returns the response (302 on success)."""
        return self.client.post("/sign-in", data={"login": login,
                                                  "password": password or self.password, **form})

    def as_role(self, role: str, scope_code: str | None, county_code: str = "532329",
                **columns) -> str:
        """Create an account of `role` scoped to `scope_code` (extra columns such as cadre_id)
        and sign in as it; returns its login."""
        from sqlalchemy import text

        from gridmap.users import hash_password

        login = f"{role}-{scope_code or 'none'}".lower()
        values = {"county_code": county_code, "login": login, "role": role,
                  "scope_code": scope_code, "password_hash": hash_password(self.password),
                  **columns}
        self.connection.execute(text(
            f"INSERT INTO app_user ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"),
            values)
        response = self.sign_in(login)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return login

    def sign_out(self):
        """POST the sign-out form."""
        return self.client.post("/sign-out")
