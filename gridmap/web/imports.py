"""Importing files from the browser (导入): upload → the dry run's report on a page (counts,
problems, a map of where they are) → confirm to commit. For township staff (their township
only) and administrators (the county).

Thin views over gridmap.importers: the files are kept by `importers.uploads` in a directory
of their own; the dry run and the commit are the same `import_files` call on the same
stored files (the commit checks everything again, in one transaction). Every upload and
commit is in the audit log.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from gridmap import audit
from gridmap.errors import BadInput, GridmapError, _
from gridmap.importers import uploads
from gridmap.importers.core import TABLE_LABELS, import_files
from gridmap.importers.report import Limits
from gridmap.importers.specs import ORDER
from gridmap.web.errors import accepts_files, text_of
from gridmap.web.guard import current_scope, requires
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
    return _private(render_template(
        "imports/upload.html", tables=[(t, TABLE_LABELS.get(t, t)) for t in _tables()],
        crs_choices=CRS_CHOICES, form=request.form, error=error,
        error_text=text_of(error.message) if error else None, within=_within(),
        limit=uploads.megabytes(current_app.config["MAX_CONTENT_LENGTH"])), status)


def _run(upload: uploads.Upload, commit: bool):
    """The import of the stored files, dry run or commit, in the request's transaction."""
    session = db_session()
    report = import_files(session.connection(), upload.sources(), current_user.county_code, commit=commit,
                          limits=_limits(), actor=current_user, repair=True, within=_within())
    return session, report


@bp.route("/imports", methods=["GET", "POST"], endpoint="upload")
@accepts_files
@requires("import_data")
def upload_page():
    """The upload form; a POST keeps the files, runs the dry run and shows its report."""
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
    session, report = _run(upload, commit=False)
    session.rollback()
    upload.save_report(report.as_dict(gettext))
    audit.record(session, current_user, "import_check", ", ".join(upload.meta["files"])[:200],
                 {"upload": upload.id, "table": table, "ok": report.ok,
                  "problems": len(report.problems) + report.problems_left_off,
                  "tables": {t.table: [t.inserted, t.updated, t.unchanged] for t in report.tables}},
                 address=request.remote_addr)
    session.commit()
    return redirect(url_for("imports.report", upload_id=upload.id))


def _load(upload_id: str) -> uploads.Upload:
    return uploads.load(_root(), upload_id, county_code=current_user.county_code, user_id=current_user.id)


def _report_page(upload: uploads.Upload | None, report: dict, status: int = 200):
    rejected: dict[str, int] = {}
    for problem in report["problems"]:
        rejected[problem["source"]] = rejected.get(problem["source"], 0) + 1
    return _private(render_template(
        "imports/report.html", upload=upload, report=report, rejected=rejected,
        labels={t: TABLE_LABELS.get(t, t) for t in ORDER}), status)


@bp.route("/imports/<upload_id>", endpoint="report")
@requires("import_data")
def report_page(upload_id: str):
    """The dry run's report of an upload, with the button to commit it when nothing is wrong."""
    upload = _load(upload_id)
    report = upload.report()
    if report is None:  # stored but never checked (or its report lost): check it now
        session, checked = _run(upload, commit=False)
        session.rollback()
        report = checked.as_dict(gettext)
        upload.save_report(report)
    return _report_page(upload, report)


@bp.route("/imports/<upload_id>/commit", methods=["POST"], endpoint="commit")
@requires("import_data")
def commit_page(upload_id: str):
    """Import the stored files for real: checked again, written in one transaction or not at all."""
    upload = _load(upload_id)
    session, report = _run(upload, commit=True)
    if report.committed:
        if not any(t.inserted or t.updated for t in report.tables):  # the core audits only changes
            audit.record(session, current_user, "import_check", ", ".join(upload.meta["files"])[:200],
                         {"upload": upload.id, "committed": True, "changed": False},
                         address=request.remote_addr)
        session.commit()
        upload.remove()
        return _report_page(None, report.as_dict(gettext))
    session.rollback()
    upload.save_report(report.as_dict(gettext))
    audit.record(session, current_user, "import_check", ", ".join(upload.meta["files"])[:200],
                 {"upload": upload.id, "committed": False, "problems": len(report.problems)},
                 address=request.remote_addr)
    session.commit()
    return _report_page(upload, report.as_dict(gettext), 422)
