"""Test fixtures on a real PostGIS.

One template database per run (postgis + migrations). Each database test runs in a
transaction on a clone of it that is rolled back afterwards; browser and concurrency
tests get their own committed clone (`committed_db_url`). Skips of database or browser
tests fail the run when CI is set: a skip must never hide a broken set-up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from sqlalchemy.orm import Session
from support import AuthActions

from gridmap import create_app, devdb
from gridmap.db import make_engine
from gridmap.migrate import prepare

ROOT = Path(__file__).resolve().parent.parent
MARKER_BY_DIR = {"db": "db", "web": "db", "browser": "browser"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        part = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if part in MARKER_BY_DIR:
            item.add_marker(getattr(pytest.mark, MARKER_BY_DIR[part]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    guarded = item.get_closest_marker("db") or item.get_closest_marker("browser")
    if report.skipped and guarded and os.environ.get("CI"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which hides a broken set-up: {report.longrepr}"


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def _admin(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


class RunDatabases:
    """Creates and drops the run's databases on the configured server."""

    def __init__(self):
        self.admin_url = devdb.admin_url()
        self.app_url = devdb.app_url()
        self.owner_url = devdb.owner_url() or self.app_url
        if not (self.admin_url and self.app_url):
            pytest.fail("no PostGIS to test against: run `make test` (it brings one up) "
                        "or set DATABASE_URL", pytrace=False)
        self.prefix = f"gridmap_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.app_role = urlsplit(self.app_url).username
        self.owner_role = urlsplit(self.owner_url).username
        self.created: list[str] = []

    def create(self, name: str, template: str | None = None) -> str:
        """Create database `name` owned by the owner role; return the app role's URL to it."""
        conn = _admin(self.admin_url)
        owner = ("" if urlsplit(self.admin_url).username == self.owner_role
                 else f" OWNER {self.owner_role}")
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"{owner} TEMPLATE {template or "template0"}')
        conn.close()
        self.created.append(name)
        if template is None:
            devdb.ensure_postgis(_with_db(self.admin_url, name))
        return _with_db(self.app_url, name)

    def owner_url_of(self, name: str) -> str:
        """The owner role's URL to database `name` (migrations run as it)."""
        return _with_db(self.owner_url, name)

    def admin_url_of(self, name: str) -> str:
        """The superuser's URL to database `name` (for set-up that must bypass triggers)."""
        return _with_db(self.admin_url, name)

    def drop_all(self) -> None:
        conn = _admin(self.admin_url)
        with conn.cursor() as cur:
            for name in reversed(self.created):
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(scope="session")
def test_databases():
    dbs = RunDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def template_db(test_databases) -> str:
    """Name of the migrated, empty template database."""
    name = test_databases.prefix + "_tpl"
    prepare(test_databases.owner_url_of(name), test_databases.create(name))
    return name


@pytest.fixture(scope="session")
def database_url(test_databases, template_db) -> str:
    """URL of the run's database for rolled-back tests."""
    return test_databases.create(test_databases.prefix, template=template_db)


@pytest.fixture(scope="session")
def engine(database_url):
    # A lock wait in a test is a bug: fail it in a minute rather than hang the run.
    eng = make_engine(database_url, connect_args={
        "application_name": "gridmap-tests", "options": "-c lock_timeout=60s"})
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def db(connection) -> Session:
    """An ORM session whose commits become savepoints of the rolled-back transaction."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def app(database_url, connection, tmp_path):
    """The app, its sessions bound to the test's rolled-back transaction, its stored files
    in the test's own directory."""
    from sqlalchemy.orm import sessionmaker

    flask_app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test",
                            "TESTING": True, "WTF_CSRF_ENABLED": False,
                            "GRIDMAP_FILES_DIR": str(tmp_path / "files"),
                            "GRIDMAP_UPLOADS_DIR": str(tmp_path / "uploads"),
                            # an upload's import runs in the request, on the test's connection
                            "GRIDMAP_IMPORTS_INLINE": True})
    flask_app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield flask_app
    flask_app.extensions["gridmap.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def fresh_database_url(test_databases, template_db, request):
    """A new, empty, migrated database of this test's own, for work that must really commit."""
    return test_databases.create(f"{test_databases.prefix}_{secrets.token_hex(3)}",
                                 template=template_db)


@pytest.fixture(scope="session")
def committed_db_url(test_databases, template_db):
    """A database of its own whose rows are really committed (browser, concurrency)."""
    return test_databases.create(f"{test_databases.prefix}_c", template=template_db)


@pytest.fixture
def auth(client, connection) -> AuthActions:
    """Sign-in helper for web tests: `auth.as_role("leader", "532329")`."""
    return AuthActions(client, connection)
