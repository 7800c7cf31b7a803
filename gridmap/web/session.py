"""The request's database session: one per request, closed at teardown."""

from __future__ import annotations

from flask import current_app, g


def db_session():
    """The request's session (opened on first use, closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["gridmap.sessionmaker"]()
    return g.db_session


def close_db_session(exc=None) -> None:
    """Teardown: close the request's session, if one was opened."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
