"""The engine's pool: a connection the database dropped while it waited is replaced, not
handed to a request; our sessions run without JIT; a database that does not answer is given
up within the connect timeout, and a gunicorn worker serves on with a clear log line."""

import logging
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import event, text

from gridmap import create_app, db
from gridmap.db import CONNECT_TIMEOUT_SECONDS, make_engine
from gridmap.errors import ConfigurationError
from gridmap.web.serving import post_worker_init


def test_a_connection_dropped_while_idle_is_replaced(database_url, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = make_engine(database_url)
        with killer.connect() as conn:  # the database ends the pooled connection's backend
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        killer.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        engine.dispose()


def test_sessions_run_without_jit_and_keep_given_options(database_url):
    engine = make_engine(database_url, connect_args={"options": "-c lock_timeout=7s"})
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "7s"
    finally:
        engine.dispose()



def test_a_warmed_pool_serves_its_threads_without_connecting(database_url):
    engine = make_engine(database_url, pool_size=3, max_overflow=0)
    opened = []
    event.listen(engine, "connect", lambda *_args: opened.append(1))
    try:
        db.warm(engine, 3)
        assert len(opened) == 3 and engine.pool.checkedin() == 3  # open and waiting
        held = [engine.connect() for _ in range(3)]  # three request threads at once
        assert len(opened) == 3
        for conn in held:
            conn.close()
    finally:
        engine.dispose()


@pytest.fixture
def silent_database():
    """A port that takes connections (the kernel completes them into the backlog) and never
    says a word: a database host hung, or a firewall that swallows the startup packet."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"postgresql://gridmap:x@127.0.0.1:{listener.getsockname()[1]}/gridmap"


def finished_within(seconds: float, work) -> tuple[float, object]:
    """(elapsed, what `work` raised or returned), failing if it is still running after
    `seconds` (a connection with no timeout would wait for ever)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as raised:  # noqa: BLE001 - handed to the test to look at
            outcome["value"] = raised

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still connecting after {seconds} s"
    return time.monotonic() - started, outcome["value"]


def test_warming_gives_up_on_a_silent_database_within_the_connect_timeout(silent_database):
    engine = make_engine(silent_database, connect_timeout=2, pool_size=8)
    try:
        elapsed, raised = finished_within(8, lambda: db.warm(engine, 8))
    finally:
        engine.dispose()
    assert isinstance(raised, ConfigurationError)
    port = silent_database.rsplit(":", 1)[1].split("/")[0]
    assert f"database 127.0.0.1:{port}/gridmap not reached" in str(raised)
    assert "timeout expired" in str(raised) and "x@" not in str(raised)
    assert 1.5 < elapsed < 6  # one connection's timeout, not one per pooled connection


def test_a_worker_whose_database_is_silent_logs_it_and_serves_on(silent_database, caplog):
    app = create_app({"DATABASE_URL": silent_database, "SECRET_KEY": "t",
                      "GRIDMAP_DB_CONNECT_TIMEOUT": 2})
    worker = SimpleNamespace(wsgi=app, log=logging.getLogger("gunicorn.error"))
    try:
        with caplog.at_level(logging.WARNING, logger="gunicorn.error"):
            elapsed, raised = finished_within(8, lambda: post_worker_init(worker))
    finally:
        app.extensions["gridmap.engine"].dispose()
    assert raised is None and elapsed < 6  # well inside gunicorn's 30 s worker timeout
    [line] = [r.getMessage() for r in caplog.records if r.name == "gunicorn.error"]
    assert line.startswith("database pool not warmed: database 127.0.0.1:")
    assert "Check DATABASE_URL" in line


def connect_params(url: str) -> dict:
    """What the engine of `url` hands the driver for a new connection."""
    engine, given = make_engine(url), []
    event.listen(engine, "do_connect",
                 lambda _dialect, _record, _args, params: given.append(params.copy()))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    return given[0]


def test_new_connections_carry_the_connect_timeout_unless_the_url_names_one(database_url):
    assert connect_params(database_url)["connect_timeout"] == CONNECT_TIMEOUT_SECONDS
    assert connect_params(database_url + "?connect_timeout=3")["connect_timeout"] == "3"
