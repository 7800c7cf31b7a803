"""Importing files from the browser (导入): upload → the dry run's report on a page (counts,
problems, a map of where they are) → confirm to commit. For township staff (their township
only) and administrators (the county).

Thin views over gridmap.importers: the files are kept by `importers.uploads` in a directory
of their own; the dry run and the commit are the same `import_files` call on the same
stored files (the commit checks everything again, in one transaction), worked in the
background by `importers.runs` (a thread of this process; the page shows its progress, then
its report). Every upload and commit is in the audit log.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from gridmap.errors import BadInput, GridmapError, NotFound, _
from gridmap.importers import runs, uploads
from gridmap.importers.core import TABLE_LABELS
from gridmap.importers.report import Limits
from gridmap.importers.specs import ORDER
from gridmap.maps.layers import region_name
from gridmap.web.errors import accepts_files, text_of
from gridmap.web.guard import current_scope, requires
from gridmap.web.i18n import gettext_for, select_locale
from gridmap.web.session import db_session

bp = Blueprint("imports", __name__)
# What a township's staff may bring in: tables whose rows name their village or grid.
SCOPED_TABLES = ("region", "grid", "household", "party_branch")
# Accounts come in through `gridmap users` and the admin pages, never a file in a browser.
COUNTY_TABLES = tuple(t for t in ORDER if t != "app_user")
CRS_CHOICES = (("auto", _("自动（文件自带，否则经纬度）")), ("gcj02", _("高德/腾讯 GCJ-02")),
               ("bd09", _("百度 BD-09")), ("EPSG:4490", _("CGCS2000 经纬度 EPSG:4490")))


def _private(body, status: int = 200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _within() -> str | None:
    """The region a user's rows must lie in (None: the whole county)."""
    scope = current_scope()
    return None if scope.county_wide else scope.region_code


def _tables() -> tuple[str, ...]:
    return COUNTY_TABLES if _within() is None else SCOPED_TABLES


def _limits() -> Limits:
    return Limits(max_bytes=current_app.config["MAX_CONTENT_LENGTH"])


def _root() -> Path:
    return Path(current_app.config["GRIDMAP_UPLOADS_DIR"])


def _form_page(error: GridmapError | None = None, status: int = 200):
    within = _within()
    within_name = within and region_name(db_session(), current_scope().county_code, within)
    return _private(render_template(
        "imports/upload.html", tables=[(t, TABLE_LABELS.get(t, t)) for t in _tables()],
        crs_choices=CRS_CHOICES, form=request.form, error=error,
        error_text=text_of(error.message) if error else None, within=within,
        within_name=within_name,
        limit=uploads.megabytes(current_app.config["MAX_CONTENT_LENGTH"])), status)


def _start(upload: uploads.Upload, commit: bool) -> None:
    """Queue the upload's dry run (or commit) and have it worked: by a thread of this process
    (or in the request, with GRIDMAP_IMPORTS_INLINE: the tests' one connection)."""
    session = db_session()
    run, queued = runs.start(session, upload, current_user, commit=commit, locale=select_locale(),
                             address=request.remote_addr)
    session.commit()
    if queued:
        app = current_app._get_current_object()
        job = (app.extensions["gridmap.sessionmaker"], run.id, _root(), _limits(), gettext_for(run.locale))
        if app.config.get("GRIDMAP_IMPORTS_INLINE"):
            runs.work(*job)
        else:
            threading.Thread(target=runs.work, args=job, name=f"import-run-{run.id}", daemon=True).start()
    session.expire_all()  # the worker writes the run through sessions of its own


def _started(upload: uploads.Upload, commit: bool):
    """Start the run, then its page (which follows its progress)."""
    _start(upload, commit)
    return redirect(url_for("imports.report", upload_id=upload.id))


@bp.route("/imports", methods=["GET", "POST"], endpoint="upload")
@accepts_files
@requires("import_data")
def upload_page():
    """The upload form; a POST keeps the files and starts their dry run (its page follows)."""
    if request.method == "GET":
        return _form_page()
    table = request.form.get("table") or ""
    crs = (request.form.get("crs") or "auto").strip()[:40] or "auto"
    layer = (request.form.get("layer") or "").strip()[:100]
    try:
        if table and table not in _tables():
            raise BadInput(_("不能导入表 %(table)s；可导入：%(tables)s", table=table[:40],
                                   tables=", ".join(_tables())), field="table")
        if not table and _within() is not None:
            raise BadInput(_("请选择要导入的表"), field="table")
        files = [(f.filename or "", f.stream) for f in request.files.getlist("files") if f.filename]
        upload = uploads.store(_root(), files, county_code=current_user.county_code, user_id=current_user.id,
                               max_bytes=current_app.config["MAX_CONTENT_LENGTH"], table=table,
                               crs=crs, layer=layer)
    except GridmapError as refused:
        if refused.status not in (413, 422):
            raise
        return _form_page(refused, refused.status)
    return _started(upload, commit=False)


def _load(upload_id: str) -> uploads.Upload:
    return uploads.load(_root(), upload_id, county_code=current_user.county_code, user_id=current_user.id)


def _found(upload_id: str) -> uploads.Upload | None:
    try:
        return _load(upload_id)
    except NotFound:
        return None


def _report_page(upload: uploads.Upload | None, report: dict, status: int = 200):
    rejected: dict[str, int] = {}
    for problem in report["problems"]:
        rejected[problem["source"]] = rejected.get(problem["source"], 0) + 1
    return _private(render_template(
        "imports/report.html", upload=upload, report=report, rejected=rejected,
        labels={t: TABLE_LABELS.get(t, t) for t in ORDER}), status)


def _run_of(upload_id: str):
    """The upload's run (an interrupted one marked so), or 404: no such upload of this user
    (or expired). A committed upload's files are gone: its run keeps the report."""
    run = runs.current(db_session(), upload_id, current_user)
    if run is None or not (run.state == "done" and run.report["committed"]):
        _load(upload_id)
    return run


@bp.route("/imports/<upload_id>", endpoint="report")
@requires("import_data")
def report_page(upload_id: str):
    """The upload's run: its progress while it works, then its report (with the button to
    commit when nothing is wrong); an interrupted run can be started again."""
    run = _run_of(upload_id)
    if run is None:  # stored but never checked: check it now
        _start(_load(upload_id), commit=False)
        run = _run_of(upload_id)
    if run.state != "done":
        return _private(render_template("imports/progress.html", run=run, upload_id=upload_id,
                                        labels={t: TABLE_LABELS.get(t, t) for t in ORDER}))
    return _report_page(_found(upload_id), run.report,
                        422 if run.commit and not run.report["committed"] else 200)


@bp.route("/imports/<upload_id>/progress", endpoint="progress")
@requires("import_data")
def progress_json(upload_id: str):
    """How far the upload's run has come (the progress page asks every second)."""
    run = _run_of(upload_id)
    if run is None:
        return _private(jsonify({"state": "none"}))
    return _private(jsonify({"state": run.state, "commit": run.commit, "stage": run.stage,
                             "source": run.source, "rows": run.rows}))


@bp.route("/imports/<upload_id>/check", methods=["POST"], endpoint="check")
@requires("import_data")
def check_page(upload_id: str):
    """Run the dry run again (after an interruption)."""
    return _started(_load(upload_id), commit=False)


@bp.route("/imports/<upload_id>/commit", methods=["POST"], endpoint="commit")
@requires("import_data")
def commit_page(upload_id: str):
    """Import the stored files for real: checked again, written in one transaction or not at all."""
    return _started(_load(upload_id), commit=True)
