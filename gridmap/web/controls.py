"""Case controls on the office pages (`controls`) and as JSON (`controls_api`): 延期, 督办, 催办,
督办回复, 挂账复核, 合并 — one POST each, through gridmap.controls.take; duplicate suggestions;
the 挂账/作废 ledger; the QR codes of the residents' report pages of one's villages.

The buttons sit on the issue's page (templates/issues/_controls.html, shown by issues.detail);
which of them shows is gridmap.controls.panel (the policy table); the service checks again.
"""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from gridmap import clock, controls, issue_queries, issues, lifecycle, residents
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, NotFound
from gridmap.models import Region
from gridmap.web.errors import answers_with, render_json, text_of
from gridmap.web.guard import current_scope, requires
from gridmap.web.issues import back_to
from gridmap.web.openapi import ROW_ID, declare
from gridmap.web.session import db_session

bp = Blueprint("controls", __name__)
api_bp = answers_with(Blueprint("controls_api", __name__), render_json)
CONTROL_FIELDS = ("version", "note", "new_due", "answer_due", "review_on", "into", "supervision")

_ERROR = {"description": "refused", "content": {"application/json": {"schema": {
    "type": "object", "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                   "field": {"type": "string"}}}}}}
_ISSUE_ID = {"name": "issue_id", "in": "path", "required": True, "schema": ROW_ID}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


OPENAPI_PATHS = {
    "/api/issues/{issue_id}/controls": {
        "post": {"summary": "Take a case control: ask_extension, grant_extension, deny_extension, "
                            "supervise, remind, answer, review, merge",
                 "parameters": [_ISSUE_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["control"], "properties": {
                         "control": {"type": "string", "enum": list(controls.CONTROLS)},
                         "version": {"type": "integer"},
                         **{name: {"type": "string"} for name in (
                             "note", "new_due", "answer_due", "review_on", "into")},
                         "supervision": {"type": "integer"}}}}}},
                 "responses": {"200": _json("the issue after the control", {
                     "type": "object", "required": ["issue"],
                     "properties": {"issue": {"type": "object"}}}),
                     "403": _ERROR, "404": _ERROR, "409": _ERROR, "422": _ERROR}}},
    "/api/issues/{issue_id}/duplicates": {
        "get": {"summary": "Likely duplicates: same category, near in place and time",
                "parameters": [_ISSUE_ID],
                "responses": {"200": _json("candidates, nearest first", {
                    "type": "object", "properties": {"duplicates": {"type": "array", "items": {
                        "type": "object", "properties": {"id": {"type": "integer"},
                                                         "code": {"type": "string"},
                                                         "metres": {"type": "number",
                                                                    "nullable": True}}}}}}),
                    "404": _ERROR}}},
    "/api/issues/ledger": {
        "get": {"summary": "The 挂账 (long-term) and 作废 (voided) ledger of the user's scope",
                "responses": {"200": _json("long-term items, then voided ones", {
                    "type": "object", "properties": {"ledger": {"type": "array", "items": {
                        "type": "object"}}, "overdue_supervisions": {"type": "array", "items": {
                            "type": "object"}}}})}}},
}
declare(api_bp, OPENAPI_PATHS)


def _private(response):
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _take(issue_id: int, data) -> object:
    session = db_session()
    issue = controls.take(session, issue_id, str(data.get("control") or ""), current_user,
                          {name: data.get(name) for name in CONTROL_FIELDS})
    session.commit()
    return issue


def _iso(value):
    return value.isoformat() if value is not None else None


@bp.route("/issues/<int:issue_id>/controls", methods=["POST"], endpoint="take")
@requires("view_issues")
def take_page(issue_id: int):
    """A control's button on the issue's page; back to the issue."""
    control = request.form.get("control")
    issue = _take(issue_id, request.form)
    label = lifecycle.ACTION_LABELS.get(control)
    flash(_("已%(action)s：%(code)s", action=text_of(label) if label else control,
            code=issue.code), "info")
    return redirect(back_to(issue_id))


@bp.route("/issues/ledger", endpoint="ledger")
@requires("view_case_ledger")
def ledger_page():
    """挂账 and 作废: long-term items with their review dates and reviews, voided ones; 督办
    unanswered past their limit, in red."""
    session, scope, now = db_session(), current_scope(), clock.now()
    rows = controls.ledger(session, scope)
    return _private(Response(render_template(
        "controls/ledger.html", rows=rows, today=now.astimezone(CHINA_TIME).date(),
        overdue=controls.overdue_supervisions(session, scope, now), limit=controls.LEDGER_LIMIT)))


@bp.route("/issues/report-codes", endpoint="codes")
@requires("print_public_codes")
def codes_page():
    """The residents' report page of each village of the scope, with its QR code, to print."""
    villages = db_session().execute(
        select(Region.code, Region.name)
        .where(current_scope().regions(), Region.level == "village", Region.current())
        .order_by(Region.code).limit(200)).all()
    return _private(Response(render_template(
        "controls/codes.html",
        villages=[(code, name, url_for("residents.report", village_code=code, _external=True))
                  for code, name in villages])))


@bp.route("/issues/report-codes/<village_code>.svg", endpoint="qr")
@requires("print_public_codes")
def qr_svg(village_code: str):
    """The QR code of a village's report page (SVG, made here: no outside service)."""
    found = db_session().scalar(select(Region.code).where(
        current_scope().regions(), Region.code == village_code, Region.level == "village",
        Region.current()))
    if found is None:
        raise NotFound(_("没有这个村（社区），或不在您的范围内"))
    residents.village(db_session(), found)
    url = url_for("residents.report", village_code=found, _external=True)
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2,
                                    title=f"{found}", xmldecl=False)
    return _private(Response(out.getvalue(), mimetype="image/svg+xml"))


# --- JSON ----------------------------------------------------------------------------------


@api_bp.route("/api/issues/<int:issue_id>/controls", methods=["POST"], endpoint="take")
@requires("view_issues")
def take_json(issue_id: int):
    """`{"control": "ask_extension", "new_due": "2026-12-10", "note": "…"}` → the issue."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadInput(_("请求体应是 JSON 对象"), field="body")
    return jsonify(issue=issue_queries.as_dict(_take(issue_id, data)))


@api_bp.route("/api/issues/<int:issue_id>/duplicates", endpoint="duplicates")
@requires("triage_issue")
def duplicates_json(issue_id: int):
    """Likely duplicates of the issue in the user's scope."""
    session = db_session()
    issue = issues.get(session, current_user, issue_id)
    return _private(jsonify(duplicates=[
        {**row.__dict__, "reported_at": _iso(row.reported_at)}
        for row in controls.duplicates(session, current_user, issue)]))


@api_bp.route("/api/issues/ledger", endpoint="ledger")
@requires("view_case_ledger")
def ledger_json():
    """The 挂账/作废 ledger as JSON, with the 督办 unanswered past their limit."""
    session, scope = db_session(), current_scope()
    rows = controls.ledger(session, scope)
    overdue = controls.overdue_supervisions(session, scope, clock.now())
    return _private(jsonify(ledger=[
        {**row.__dict__, "review_on": _iso(row.review_on), "since": _iso(row.since),
         "last_review": _iso(row.last_review)} for row in rows],
        overdue_supervisions=[{**row.__dict__, "at": _iso(row.at),
                               "answer_due": _iso(row.answer_due)} for row in overdue]))
