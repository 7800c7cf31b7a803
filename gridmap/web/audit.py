"""The audit log page: inspectors (and admins) read who signed in, unmasked, exported,
imported and changed what, filtered, newest first, a bounded page at a time."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, make_response, render_template, request
from flask_login import current_user

from gridmap import audit
from gridmap.errors import BadInput, _
from gridmap.exports.tabular import Column
from gridmap.web.downloads import download
from gridmap.web.errors import text_of
from gridmap.web.guard import requires
from gridmap.web.session import db_session

bp = Blueprint("audit", __name__)


def _date(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(_("日期应写成 2026-11-23"), field=name) from None


def _int(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadInput(_("%(name)s 应是整数", name=name), field=name)
    return int(raw)


def filters_of_request() -> audit.Filters:
    """The filters the query string asks for (an unknown action is refused)."""
    action = (request.args.get("action") or "").strip() or None
    if action is not None and action not in audit.ACTIONS:
        raise BadInput(_("没有这种操作：%(action)r", action=action), field="action")
    return audit.Filters(
        action=action, actor=(request.args.get("actor") or "").strip()[:64] or None,
        target=(request.args.get("target") or "").strip()[:100] or None,
        since=_date("since"), until=_date("until"))


@bp.app_template_filter("audit_detail")
def audit_detail(detail: dict | None) -> str:
    """An event's detail as one line of text (escaped by the template like any text)."""
    if not detail:
        return ""
    return "; ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in detail.items())


@bp.route("/audit", endpoint="log")
@requires("read_audit")
def log_page():
    """The county's audit log, newest first; `before` pages to older events."""
    filters = filters_of_request()
    page = audit.events(db_session(), current_user.county_code, filters,
                        before=_int("before"), limit=_int("limit") or audit.PAGE_SIZE)
    response = make_response(render_template(
        "audit/log.html", page=page, filters=filters,
        actions=[(code, text_of(label)) for code, label in audit.ACTIONS.items()],
        labels={code: text_of(label) for code, label in audit.ACTIONS.items()},
        query={k: v for k, v in request.args.items() if k in ("action", "actor", "target", "since", "until", "limit") and v}))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/audit.<any(csv, xlsx):fmt>", endpoint="export")
@requires("read_audit")
def export_log(fmt: str):
    """The filtered log as CSV or XLSX for inspectors (the download is itself in the log)."""
    filters = filters_of_request()
    labels = {code: text_of(label) for code, label in audit.ACTIONS.items()}
    rows = [{"at": event.at, "actor": event.actor, "action": labels.get(event.action, event.action),
             "target": event.target, "detail": audit_detail(event.detail),
             "address": event.address}
            for event in audit.export_rows(db_session(), current_user.county_code, filters)]
    columns = [Column(key, text_of(label), "auto" if key == "at" else "text") for key, label in (
        ("at", _("时间")), ("actor", _("操作人")), ("action", _("操作")), ("target", _("对象")),
        ("detail", _("详情")), ("address", _("地址")))]
    stem = text_of(_("审计日志_%(county)s", county=current_user.county_code))
    return download(fmt, stem, columns, rows)
