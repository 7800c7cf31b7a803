"""Engine and sessions. One SRID for every geometry the system stores."""

from __future__ import annotations

import time
from contextlib import contextmanager

import psycopg2.extensions
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from gridmap.errors import ConfigurationError

SRID = 4326  # WGS84; CGCS2000 (4490) input is treated as 4326 and recorded (see geo.py)


# What every session of ours runs with. JIT off: PostgreSQL compiles a plan whose estimated
# cost passes jit_above_cost, and the estimates of our correlated subqueries (a grid worker's
# 37 households by visit due) pass it by far: 20 s of compiling for 20 ms of work, 40–180 ms
# on each coverage and layer query. Nothing we run is long enough to earn it back.
SESSION_OPTIONS = "-c jit=off -c work_mem=32MB"
# A connection that waited in the pool longer than this is pinged before use (a restarted
# database leaves dead ones); a busy server's connections are back within milliseconds and
# are not, so a request does not pay a round trip for the check.
PING_AFTER_IDLE_SECONDS = 5.0
# How long a new connection may take (libpq's connect_timeout, per address of the host): a
# database host that takes the connection and never answers would otherwise hold a command,
# or a gunicorn worker filling its pool, until gunicorn's own timeout killed it (30 s), again
# and again. A URL's own `?connect_timeout=` wins; GRIDMAP_DB_CONNECT_TIMEOUT sets the app's.
CONNECT_TIMEOUT_SECONDS = 10
# How long one statement of a web request may run (PostgreSQL's statement_timeout, on the web
# engine's sessions only; GRIDMAP_STATEMENT_TIMEOUT sets it). Every page query is bounded and
# takes milliseconds to a second at county scale, so a statement past this is a fault (a plan
# gone wrong, a lock never released): without it the request thread, its connection and the
# locks it holds stayed taken until someone killed the backend by hand. Imports run as long
# as their files need (importers.core.import_files lifts it in its own transaction), and a
# streamed download's reads are statements of their own.
STATEMENT_TIMEOUT_SECONDS = 30


# Execution option: the statement's text columns come back as the UTF-8 bytes PostgreSQL sent
# (psycopg2's BYTES caster, on that statement's cursor alone). A map layer is megabytes of
# GeoJSON bound for the wire as bytes: decoding it to str to encode it back cost more than
# PostgreSQL took to read it (a county's grids, 3.7 MB: ~25 ms).
TEXT_AS_BYTES = "gridmap_text_as_bytes"


@event.listens_for(Engine, "before_cursor_execute")
def _text_as_bytes(conn, cursor, statement, parameters, context, executemany) -> None:
    if context is not None and context.execution_options.get(TEXT_AS_BYTES):
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor)


def make_engine(url: str, connect_timeout: int = CONNECT_TIMEOUT_SECONDS, **kw) -> Engine:
    """An engine for `url`; psycopg2 is the driver whatever the URL's scheme says."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    given = kw.get("connect_args", {})
    timeout = {} if "connect_timeout" in make_url(url).query else {
        "connect_timeout": connect_timeout}
    # UTF-8 whatever the database's encoding: text read as bytes (TEXT_AS_BYTES) and COPY text
    # sent as bytes (importers.writers) are UTF-8.
    kw["connect_args"] = {"application_name": "gridmap", "client_encoding": "UTF8", **timeout, **given,
                          "options": f"{SESSION_OPTIONS} {given.get('options', '')}".strip()}
    engine = create_engine(url, **kw)
    if not kw.get("pool_pre_ping"):
        _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, record, proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as gone:
            raise exc.DisconnectionError(str(gone)) from gone  # the pool connects anew


def warm(engine: Engine, connections: int) -> None:
    """Open `connections` of the pool at once and load PostGIS into each backend, so the first
    requests after a (re)start do not each pay ~25 ms to connect and ~50-90 ms for PostGIS's
    first use (the tablets that queued during a restart all send at once).

    A database that cannot be reached (refused, or silent past the connect timeout) stops the
    warming at the first connection, as a ConfigurationError naming the server: the caller
    serves on, and requests report the database until it answers."""
    held = []
    try:
        for _ in range(connections):
            try:
                held.append(engine.connect())
            except exc.OperationalError as unreachable:
                raise unreachable_database(engine, unreachable) from unreachable
            held[-1].exec_driver_sql("SELECT postgis_lib_version()")
    finally:
        for connection in held:
            connection.close()  # back to the pool, still open


def unreachable_database(engine: Engine, error: exc.OperationalError) -> ConfigurationError:
    """The operator's words for a database that did not take a connection."""
    url = engine.url
    reason = str(error.orig or error).strip().splitlines()[0]
    return ConfigurationError(
        f"database {url.host or 'localhost'}:{url.port or 5432}/{url.database} not reached:"
        f" {reason}. Check DATABASE_URL and that the server is up (one that takes connections"
        f" and does not answer is given up after GRIDMAP_DB_CONNECT_TIMEOUT seconds).")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine` whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine):
    """A session inside one transaction: committed on success, rolled back on any error."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session
