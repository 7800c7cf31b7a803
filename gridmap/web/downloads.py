"""Downloads: a CSV/XLSX export as a Flask response (the writer is gridmap.exports.tabular).

Every download is in the audit log (who, what, how many rows, from where).
"""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user

from gridmap import audit
from gridmap.exports.tabular import FORMATS, content_disposition, render, safe_filename
from gridmap.web.session import db_session


def download(fmt: str, stem: str, columns, rows) -> Response:
    """A response downloading `rows` as `stem`.csv or `stem`.xlsx, recorded in the audit log.

    The one way a view serves an export: call it from a guarded view (it names the user)."""
    rows = list(rows)
    response = tabular_response(fmt, stem, columns, rows)
    session = db_session()
    audit.record(session, current_user, "export", safe_filename(stem, fmt),
                 {"format": fmt, "rows": len(rows)}, address=request.remote_addr)
    session.commit()
    return response


def tabular_response(fmt: str, stem: str, columns, rows) -> Response:
    """The file response itself (no audit record: use `download` in views)."""
    body = render(fmt, columns, rows)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = content_disposition(safe_filename(stem, fmt))
    response.headers["Cache-Control"] = "no-store"  # exports may hold personal data
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
