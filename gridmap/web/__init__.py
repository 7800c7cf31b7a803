"""The web layer: thin views over the core modules, one blueprint per area.

| module    | blueprints        | what                                                   |
|-----------|-------------------|--------------------------------------------------------|
| auth      | auth              | sign in/out, language switch, the signed-in account    |
| health    | health            | /healthz                                               |
| maps      | maps, layers      | the map page; its layers as GeoJSON                    |
| issues    | issues, issues_api| triage queue, issue + timeline + actions, report form; JSON |
| ogc       | ogc               | OGC API – Features: public open data at /ogc          |
| open311   | open311           | Open311 GeoReport v2 at /open311/v2                    |
| field     | field, field_api  | the tablet: my grid, a household, log a visit, report, my issues; JSON |
| files     | files, files_api  | photos: attach to a visit or issue (JSON), serve within scope |
| audit     | audit             | the audit log page (inspectors), filtered and paged     |
| households| households_api    | the per-record "show" of personal data, with a reason   |
| controls  | controls, controls_api | 延期, 督办, 催办, 复核, 合并; the 挂账/作废 ledger; QR codes |
| residents | residents         | public: a resident reports, and looks up progress       |
| exports   | exports           | the public collections as GeoJSON / GeoPackage downloads |
| imports   | imports           | upload files → the import's dry run on a page → commit  |
| openapi   | openapi           | /api/openapi.json, assembled from each JSON blueprint's paths |
| guard     |                   | `requires(action)`, `current_scope()`, public endpoints |
| errors    |                   | one handler per kind of error, in each blueprint's form |
| nav       |                   | the navigation entries                                 |
| security  |                   | CSP and other headers, HTTPS/proxy/trusted-host settings |
| session   |                   | the request's database session                         |

A new area is a module with its blueprint(s), templates under templates/<blueprint>/, a
line in `BLUEPRINTS` below and, if it has a page in the menu, a line in nav.NAV_LINKS.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory
from werkzeug.routing import IntegerConverter

from gridmap.db import STATEMENT_TIMEOUT_SECONDS, make_engine, make_sessionmaker

STATIC_ROOT = Path(__file__).resolve().parent.parent.parent / "static"
# (module, blueprint attribute) registered in this order; auth registers itself with
# Flask-Login and CSRF in its init_app.
BLUEPRINTS = (("health", "bp"), ("maps", "bp"), ("maps", "layers_bp"), ("issues", "bp"),
              ("issues", "api_bp"), ("field", "bp"), ("field", "api_bp"), ("files", "bp"),
              ("files", "api_bp"), ("audit", "bp"),
              ("households", "api_bp"), ("metrics", "bp"), ("metrics", "api_bp"), ("ogc", "bp"),
              ("open311", "bp"), ("ledgers", "bp"), ("ledgers", "api_bp"), ("upkeep", "bp"), ("grid_edits", "bp"), ("grid_edits", "api_bp"),
              ("controls", "bp"), ("controls", "api_bp"), ("residents", "bp"), ("categories", "bp"),
              ("search", "bp"), ("people", "bp"), ("admin", "bp"), ("exports", "bp"), ("imports", "bp"),
              ("openapi", "bp"))


class RowId(IntegerConverter):
    """`<int:…>` in every route: a row id, 1 to 2^31-1 (PostgreSQL integer), so an id out of
    range is a 404 like any unknown one, never an overflow in the database (a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", ROW_ID_MAX)
        super().__init__(url_map, *args, **kwargs)


ROW_ID_MAX = 2**31 - 1


def register(app: Flask) -> None:
    """Wire the database, i18n, errors, sign-in, navigation and every blueprint into `app`."""
    from importlib import import_module

    from gridmap.web import auth, compress, errors, i18n, nav, security, session

    app.url_map.converters["int"] = RowId
    # One connection per request thread, and a few for a thread that needs a second one
    # briefly (a streamed export ends its read before it writes the audit line).
    threads = app.config.get("GRIDMAP_THREADS", 8)
    # Last in, first out: a quiet server keeps reusing the connection it just used (never idle
    # long enough to be pinged) while the rest of the warmed pool (gridmap.web.serving) waits
    # for a burst; first in, first out cycled one tablet's requests through every connection.
    app.config.setdefault("GRIDMAP_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT_SECONDS)
    statement_ms = int(app.config["GRIDMAP_STATEMENT_TIMEOUT"] * 1000)
    engine = make_engine(app.config["DATABASE_URL"], pool_size=threads, max_overflow=4,
                         pool_use_lifo=True,
                         connect_timeout=app.config["GRIDMAP_DB_CONNECT_TIMEOUT"],
                         connect_args={"options": f"-c statement_timeout={statement_ms}"})
    app.extensions["gridmap.engine"] = engine
    app.extensions["gridmap.sessionmaker"] = make_sessionmaker(engine)
    app.teardown_appcontext(session.close_db_session)

    static_root = Path(app.config.get("GRIDMAP_STATIC", STATIC_ROOT))

    @app.route("/static/<path:filename>", endpoint="static")
    def static(filename):
        return send_from_directory(static_root, filename, max_age=3600)

    security.init_app(app)  # headers, HTTPS and proxy settings
    compress.init_app(app)  # gzip for the static assets
    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)  # Flask-Login, CSRF on every POST, the auth blueprint
    nav.init_app(app)
    for module, attribute in BLUEPRINTS:
        app.register_blueprint(getattr(import_module(f"gridmap.web.{module}"), attribute))
