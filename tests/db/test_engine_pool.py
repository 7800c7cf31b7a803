"""The engine's pool: a connection the database dropped while it waited is replaced, not
handed to a request; our sessions run without JIT."""

from sqlalchemy import event, text

from gridmap import db
from gridmap.db import make_engine


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
