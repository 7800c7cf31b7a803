"""The web layer: thin views over the core modules. Blueprints are registered here."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, send_from_directory

from gridmap.db import make_engine, make_sessionmaker

STATIC_ROOT = Path(__file__).resolve().parent.parent.parent / "static"


def register(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], pool_size=5, max_overflow=10)
    app.extensions["gridmap.engine"] = engine
    app.extensions["gridmap.sessionmaker"] = make_sessionmaker(engine)

    @app.teardown_appcontext
    def _close_session(exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    static_root = Path(app.config.get("GRIDMAP_STATIC", STATIC_ROOT))

    @app.route("/static/<path:filename>", endpoint="static")
    def static(filename):
        return send_from_directory(static_root, filename, max_age=3600)

    from gridmap.web import auth, errors, health, i18n

    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)  # Flask-Login, CSRF on every POST, the auth blueprint
    app.register_blueprint(health.bp)

    from gridmap.web import pages

    app.register_blueprint(pages.bp)


def db_session():
    """The request's session (one per request, closed at teardown)."""
    from flask import current_app

    if "db_session" not in g:
        g.db_session = current_app.extensions["gridmap.sessionmaker"]()
    return g.db_session
