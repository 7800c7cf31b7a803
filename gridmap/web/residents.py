"""Residents' public pages (no sign-in): report an issue from a village's page (reached by the
QR code printed for the village), and look up its progress with the code and phone tail.

Both are on guard.PUBLIC_ENDPOINTS on purpose: they show nothing of anyone else (a lookup
answers the same for a wrong code and a wrong phone tail) and are throttled per address
(gridmap.throttle). Work is gridmap.residents; CSRF protects the forms as everywhere.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from gridmap import residents
from gridmap.errors import BadInput, NotFound
from gridmap.throttle import TooManyAttempts
from gridmap.web.errors import text_of
from gridmap.web.session import db_session

bp = Blueprint("residents", __name__)


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _page(template: str, status: int = 200, retry_after: int | None = None, **context):
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/r/<village_code>", methods=["GET", "POST"], endpoint="report")
def report_page(village_code: str):
    """A resident reports an issue in this village: anonymous, or with name and phone; a tap on
    the map or a named place. Returns the issue code (and how to look up its progress)."""
    session = db_session()
    village = residents.village(session, village_code)
    form, error, retry = request.form, None, None
    if request.method == "POST":
        try:
            issue = residents.report(session, village.code, form, _address())
            session.commit()
            return _page("residents/reported.html", village=village, code=issue.code,
                         real_name=issue.real_name)
        except (BadInput, TooManyAttempts) as refused:
            session.rollback()
            error, retry = refused, getattr(refused, "retry_after", None)
    return _page("residents/report.html", 429 if retry else 422 if error else 200, retry,
                 village=village, form=form, error=error,
                 error_text=text_of(error.message) if error else None,
                 categories=residents.categories_for(session, village.county_code))


@bp.route("/progress", methods=["GET", "POST"], endpoint="progress")
def progress_page():
    """The progress of one's own issue: its code and the last 4 digits of one's phone."""
    session = db_session()
    progress, error, status, retry = None, None, 200, None
    if request.method == "POST":
        try:
            progress = residents.lookup(session, request.form.get("code"),
                                        request.form.get("tail"), _address())
            session.commit()  # a failed lookup is counted (throttle) before it is answered
            if progress is None:
                raise NotFound(residents.NOT_FOUND)
        except (NotFound, TooManyAttempts) as refused:
            error, retry = text_of(refused.message), getattr(refused, "retry_after", None)
            status = 429 if retry else 404
    return _page("residents/progress.html", status, retry, progress=progress, error=error,
                 code=request.form.get("code", "") if request.method == "POST" else
                 request.args.get("code", ""))
