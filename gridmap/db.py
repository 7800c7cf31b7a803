"""Engine and sessions. One SRID for every geometry the system stores."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

SRID = 4326  # WGS84; CGCS2000 (4490) input is treated as 4326 and recorded (see geo.py)


def make_engine(url: str, **kw) -> Engine:
    """An engine for `url`; psycopg2 is the driver whatever the URL's scheme says."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("connect_args", {"application_name": "gridmap"})
    return create_engine(url, **kw)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine` whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine):
    """A session inside one transaction: committed on success, rolled back on any error."""
    with make_sessionmaker(engine)() as session, session.begin():
        yield session
