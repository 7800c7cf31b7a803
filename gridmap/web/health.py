"""/healthz: is the database reachable, which PostGIS is it running."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gridmap.web.session import db_session

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    """Database reachable, PostGIS version; 503 when the database is down."""
    try:
        session = db_session()
        postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
        return jsonify(status="ok", database=True, postgis=postgis)
    except SQLAlchemyError as exc:
        return jsonify(status="error", database=False, postgis=None,
                       error=type(exc).__name__), 503
