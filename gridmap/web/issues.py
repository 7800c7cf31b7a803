"""Issues: the triage queue, an issue with its timeline and action buttons, the office report
form (`issues`, pages) and the same as JSON (`issues_api`) for the tablet and other systems.

Thin views: every change is one call of gridmap.issues (report / apply) and a commit; what
they show comes from gridmap.issue_queries. Which buttons an issue shows is the state machine
∩ the policy table (issues.actions_for); the service checks both again on every POST.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from gridmap import categories, clock, controls, files, issue_queries, issues, lifecycle, privacy
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput
from gridmap.maps.appeals import filter_choices
from gridmap.maps.county import appeal_filter_fields
from gridmap.models import HANDLING_LEVELS, Region
from gridmap.web import files as web_files
from gridmap.web.errors import accepts_files, answers_with, render_json, text_of
from gridmap.web.forms import attempt, refusal
from gridmap.web.forms import status as form_status
from gridmap.web.guard import can, current_scope, requires
from gridmap.web.openapi import ROW_ID, declare, error_response, json_request, json_response
from gridmap.web.session import db_session

bp = Blueprint("issues", __name__)
api_bp = answers_with(Blueprint("issues_api", __name__), render_json)
ACTION_FIELDS = ("note", "unit", "to_level", "satisfaction", "category", "urgency")
PHOTO_ACTIONS = ("handle", "close")  # a photo of the work done comes with these
# OpenAPI 3.0 path items of the JSON routes (`issues_api`), for the document the Exports work
# serves; tests/web/test_openapi_paths.py checks they match the routes.
_ERROR = error_response()
_ISSUE = {"type": "object", "required": ["id", "code", "version", "status", "level"], "properties": {
    "id": {"type": "integer"}, "code": {"type": "string"}, "version": {"type": "integer"},
    "title": {"type": "string"}, "status": {"type": "string"}, "level": {"type": "string"},
    "category": {"type": "string"}, "urgency": {"type": "string"}, "real_name": {"type": "boolean"},
    "satisfaction": {"type": "string", "nullable": True}}}
_ISSUE_ID = {"name": "issue_id", "in": "path", "required": True, "schema": ROW_ID}
_ACTION_BODY = {"type": "object", "required": ["action", "version"], "properties": {
    "action": {"type": "string"}, "version": {"type": "integer"},
    **{name: {"type": "string"} for name in (
        "note", "unit", "to_level", "satisfaction", "category", "urgency")}}}


_json = json_response


def _issue_reply(description: str) -> dict:
    return _json(description, {"type": "object", "required": ["issue"], "properties": {"issue": _ISSUE}})


OPENAPI_PATHS = {
    "/api/issues": {
        "get": {"summary": "The queue of open issues in the user's scope",
                "parameters": [
                    {"name": name, "in": "query", "schema": {"type": "string"},
                     "description": "narrows the queue as the appeals map's filter of that "
                                    "name does (dates as YYYY-MM-DD, overdue as 1 or 0)"}
                    for name in issue_queries.PARAMETERS],
                "responses": {"200": _json("open issues, most urgent first", {
                    "type": "object", "properties": {"issues": {"type": "array", "items": {
                        "type": "object", "properties": {"id": {"type": "integer"},
                                                         "code": {"type": "string"},
                                                         "light": {"type": "string"}}}}}}),
                              "422": error_response("a bad filter, named in `field`")}},
        "post": {"summary": "Report an issue",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["title", "category"], "properties": {
                         "title": {"type": "string"}, "category": {"type": "string"},
                         "description": {"type": "string"}, "urgency": {"type": "string"},
                         "grid_code": {"type": "string"}, "village_code": {"type": "string"},
                         "lon": {"type": "number"}, "lat": {"type": "number"},
                         "real_name": {"type": "boolean"}, "reporter_name": {"type": "string"},
                         "reporter_phone": {"type": "string"}, "client_uuid": {"type": "string"}}}}}},
                 "responses": {"201": _issue_reply("the new issue"), "422": _ERROR}}},
    "/api/issues/{issue_id}": {
        "get": {"summary": "One issue, its timeline, its 回访 and the actions allowed now",
                "parameters": [_ISSUE_ID],
                "responses": {"200": _json("the issue", {"type": "object", "properties": {
                    "issue": _ISSUE, "actions": {"type": "array", "items": {"type": "string"}},
                    "timeline": {"type": "array", "items": {"type": "object"}},
                    "callbacks": {"type": "array", "items": {"type": "object"}}}}),
                    "404": _ERROR}}},
    "/api/issues/{issue_id}/actions": {
        "post": {"summary": "Take an action of the state machine (optimistic lock on version)",
                 "parameters": [_ISSUE_ID],
                 "requestBody": {"required": True, "content": {
                     "application/json": {"schema": _ACTION_BODY},
                     "multipart/form-data": {"schema": {**_ACTION_BODY, "properties": {
                         **_ACTION_BODY["properties"],
                         "photo": {"type": "string", "format": "binary"}}}}}},
                 "responses": {"200": _issue_reply("the issue after the action"), "404": _ERROR,
                               "409": _ERROR, "422": _ERROR}}},
    "/api/issues/{issue_id}/callbacks": {
        "post": {"summary": "Record a 回访 (不满意 reopens the issue)", "parameters": [_ISSUE_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["version", "channel", "reached"], "properties": {
                         "version": {"type": "integer"}, "channel": {"type": "string"},
                         "reached": {"type": "boolean"}, "contacted_in_time": {"type": "boolean"},
                         "solved": {"type": "boolean"}, "satisfaction": {"type": "string"},
                         "unreached_reason": {"type": "string"}, "note": {"type": "string"},
                         "reporter": {"type": "string", "description":
                                      "the code of a duplicate merged into this issue: a 回访 "
                                      "of its reporter (default: this issue's own)"}}}}}},
                 "responses": {"201": _issue_reply("the issue after the 回访"), "404": _ERROR,
                               "409": _ERROR, "422": _ERROR}}},
}
declare(api_bp, OPENAPI_PATHS)
REPORT_FIELDS = ("title", "description", "category", "urgency", "source", "grid_code",
                 "village_code", "lon", "lat", "reporter_name", "reporter_phone", "real_name",
                 "client_uuid", "note")


def _private(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "private, no-cache"  # scoped data, personal data
    return response


def _photo() -> bytes | None:
    """The posted `photo` part's bytes; None when the form's file field was left empty."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return upload.read() or None


def _act(issue_id: int, data, photo: bytes | None = None) -> object:
    """Apply the posted action (with a photo of the work for 办结/结案) in one transaction;
    commit; the issue after it. `feed_back` is a reached 回访."""
    session = db_session()
    action = data.get("action")
    if photo is not None and action not in PHOTO_ACTIONS:
        raise BadInput(_("照片只能随%(actions)s一起上传", actions="、".join(
            label(a, "action") for a in PHOTO_ACTIONS)), field="photo")
    if action == "feed_back":
        return _callback(issue_id, {"reached": True, **data})
    issue = issues.apply(session, issue_id, action, current_user,
                         expected_version=data.get("version"),
                         **{name: data.get(name) or None for name in ACTION_FIELDS})
    if photo is not None:  # linked to the event just written: the timeline shows it there
        files.attach(session, web_files.files_root(), current_user, "issue", issue.id, photo)
    session.commit()
    return issue


def _action_body() -> tuple[dict, bytes | None]:
    """The JSON action's fields: a JSON object, or the same fields as multipart with `photo`."""
    if request.mimetype == "multipart/form-data":
        return request.form.to_dict(), _photo()
    return _body("/api/issues/{issue_id}/actions"), None


def _callback(issue_id: int, data) -> object:
    """Record the posted 回访; commit; the issue after it."""
    session = db_session()
    issue = issues.record_callback(session, issue_id, current_user,
                                   expected_version=data.get("version"),
                                   data={name: data.get(name) for name in issues.CALLBACK_FIELDS})
    session.commit()
    return issue


def _reporter(session, issue) -> privacy.Reporter:
    """The reporter as the signed-in user may see them (privacy.reporter_for); unmasked values
    shown leave a trace in the audit log."""
    category = categories.find(session, issue.county_code, issue.category)
    reporter = privacy.reporter_for(current_user, issue, category.appeal_type if category else None)
    privacy.log_reporter_shown(session, current_user, issue, reporter, address=request.remote_addr)
    return reporter


def _issue_json(issue) -> dict:
    """The issue for a JSON answer, its reporter as the user may see them."""
    session = db_session()
    reporter = _reporter(session, issue)
    session.commit()
    return issue_queries.as_dict(issue, reporter)


def _labels() -> dict:
    return {"status": lifecycle.STATUS_LABELS, "action": lifecycle.ACTION_LABELS,
            "level": lifecycle.LEVEL_LABELS, "urgency": issues.URGENCY_LABELS,
            "satisfaction": issues.SATISFACTION_LABELS, "source": issues.SOURCE_LABELS,
            "appeal": categories.APPEAL_LABELS, "channel": issues.CHANNEL_LABELS}


@bp.app_template_filter("label")
def label(value, kind: str) -> str:
    """The reader's word for a stored code (a status, action, level …); unknown codes as they are."""
    message = _labels()[kind].get(value)
    return text_of(message) if message is not None else (value or "")


@bp.app_template_filter("china_time")
def china_time(moment) -> str:
    """A stored time as China time, to the minute."""
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


# --- pages ---------------------------------------------------------------------------------


@bp.app_template_filter("due_phrase")
def due_phrase(due) -> str:
    """How far a stage's deadline is, in words, so the traffic light is not colour alone:
    '已超期 3 天', '已超期 5 小时', '还剩 2 天', '还剩 4 小时'."""
    if due is None:
        return ""
    seconds = (due - clock.now()).total_seconds()
    hours = max(int(abs(seconds) // 3600), 1)
    if seconds < 0:
        if hours >= 24:
            return _("已超期 %(n)s 天", n=hours // 24)
        return _("已超期 %(n)s 小时", n=hours)
    if hours >= 24:
        return _("还剩 %(n)s 天", n=hours // 24)
    return _("还剩 %(n)s 小时", n=hours)


@bp.route("/issues", endpoint="queue")
@requires("view_issues")
def queue_page():
    """The triage queue: open issues of the user's scope, most urgent first, narrowed by the
    same filters as the appeals map (AppealFilter); the figures count every issue kept."""
    session, scope = db_session(), current_scope()
    error = None
    try:
        where = issue_queries.AppealFilter.parse(request.args)
    except BadInput as refused:
        error, where = refused, issue_queries.AppealFilter()
    rows = issue_queries.queue(session, scope, where=where)
    fields = appeal_filter_fields(filter_choices(session, scope))
    return _private((render_template(
        "issues/queue.html", rows=rows, limit=issue_queries.QUEUE_LIMIT,
        counts=issue_queries.queue_counts(session, scope, where), fields=fields,
        chosen=request.args, filtered=where != issue_queries.AppealFilter(),
        **refusal(error)), form_status(error)))


@bp.route("/issues/mine", endpoint="mine")
@requires("view_issues")
def mine_page():
    """My tasks: what waits for the user's unit, village or township (issue_queries.tasks_of)."""
    session, only = db_session(), issue_queries.tasks_of(current_user)
    rows = [] if only is None else issue_queries.queue(session, current_scope(), only=only)
    return _private(render_template(
        "issues/queue.html", rows=rows, mine=True, limit=issue_queries.QUEUE_LIMIT,
        tasks=issue_queries.task_counts(session, current_user),
        unread=issue_queries.unread_ids(session, current_user, (row.id for row in rows))))


@bp.route("/issues/<int:issue_id>/print", endpoint="print")
@requires("view_issues")
def print_page(issue_id: int):
    """The issue's receipt (回执): its facts, timeline and 回访, laid out for paper."""
    session = db_session()
    issue = issues.get(session, current_user, issue_id)
    reporter = _reporter(session, issue)
    session.commit()
    return _private(render_template(
        "issues/print.html", issue=issue, reporter=reporter,
        steps=issue_queries.timeline(session, issue),
        callbacks=issue_queries.callbacks(session, issue),
        place=issue_queries.place_name(session, issue),
        category=categories.find(session, issue.county_code, issue.category)))


@bp.route("/issues/<int:issue_id>", endpoint="detail")
@requires("view_issues")
def detail_page(issue_id: int):
    """One issue: its facts, its timeline (who, when, which unit) and the actions allowed now."""
    session = db_session()
    issue = issues.get(session, current_user, issue_id)
    issue_queries.mark_read(session, current_user, issue)
    reporter = _reporter(session, issue)
    session.commit()
    owed = issues.owed_callbacks(session, issue) \
        if issue.status in issues.MERGED_CALLBACK_STATES and can("callback_issue") else []
    return _private(render_template(
        "issues/detail.html", owed_callbacks=owed, issue=issue, reporter=reporter, steps=issue_queries.timeline(session, issue),
        callbacks=issue_queries.callbacks(session, issue),
        actions=[a for a in issues.actions_for(issue, current_user.role)
                 if a not in ("feed_back", "merge")],  # merge: in the controls (_controls.html)
        controls=controls.panel(session, issue, current_user),
        may_call_back=(issue.status == "handled" or bool(owed)) and can("callback_issue"),
        needs_note={n for n, a in lifecycle.ACTIONS.items() if a.needs_note} | {"close", "handle"},
        photo_actions=PHOTO_ACTIONS,
        units=issue_queries.unit_choices(session, issue),
        place=issue_queries.place_name(session, issue),
        lower_levels=HANDLING_LEVELS[:HANDLING_LEVELS.index(issue.level)],
        category=categories.find(session, issue.county_code, issue.category),
        all_categories=categories.all_of(session, issue.county_code)))


@bp.route("/issues/<int:issue_id>/actions", methods=["POST"], endpoint="act")
@accepts_files
@requires("view_issues")
def act_page(issue_id: int):
    """A button of the detail page: the action (办结/结案 with a photo), then back to the issue."""
    issue = _act(issue_id, request.form, _photo())
    flash(_("已%(action)s：%(code)s", action=label(request.form.get("action"), "action"),
            code=issue.code), "info")
    return redirect(back_to(issue.id))


def back_to(issue_id: int) -> str:
    """Where a button's form returns: the tablet's issue page when it says `back=field`
    (a fixed choice, never a URL taken from the request), else the office page."""
    if request.form.get("back") == "field":
        return url_for("field.issue", issue_id=issue_id)
    return url_for("issues.detail", issue_id=issue_id)


@bp.route("/issues/<int:issue_id>/callbacks", methods=["POST"], endpoint="callback")
@requires("callback_issue")
def callback_page(issue_id: int):
    """The 回访 form of the detail page: reached with answers, or why not; back to the issue."""
    issue = _callback(issue_id, request.form)
    flash(_("已记录回访：%(code)s", code=issue.code), "info")
    return redirect(back_to(issue.id))


def _villages(session) -> list[tuple[str, str]]:
    return [tuple(row) for row in session.execute(
        select(Region.code, Region.name)
        .where(current_scope().regions(), Region.level == "village", Region.current())
        .order_by(Region.code).limit(500))]


@bp.route("/issues/new", methods=["GET", "POST"], endpoint="new")
@requires("report_issue")
def new_page():
    """The office report form (窗口/热线登记): place, category, description, reporter."""
    session, error, form = db_session(), None, request.form
    if request.method == "POST":
        issue, error = attempt(
            session, lambda: issues.report(session, current_user, {k: form.get(k) for k in REPORT_FIELDS}),
            raises=lambda refused: not isinstance(refused, BadInput))
        if not error:
            flash(_("已登记事项 %(code)s", code=issue.code), "info")
            return redirect(url_for("issues.detail", issue_id=issue.id))
    return render_template(
        "issues/new.html", form=form, **refusal(error),
        categories=categories.all_of(session, current_user.county_code),
        villages=_villages(session), grid_only=current_scope().grid_code is not None,
        scope_grid=current_scope().grid_code), form_status(error)


# --- JSON ----------------------------------------------------------------------------------


def _body(path: str) -> dict:
    return json_request(OPENAPI_PATHS, path)


@api_bp.route("/api/issues", methods=["GET"], endpoint="list")
@requires("view_issues")
def list_json():
    """The queue as JSON, narrowed by the same filters as the queue page (422 names a bad one)."""
    rows = issue_queries.queue(db_session(), current_scope(),
                               where=issue_queries.AppealFilter.parse(request.args))
    return _private(jsonify(issues=[
        {**row.__dict__, "due": row.due.isoformat() if row.due else None} for row in rows]))


@api_bp.route("/api/issues", methods=["POST"], endpoint="report")
@requires("report_issue")
def report_json():
    """Report an issue (the tablet's field form posts here too): 201 with the issue."""
    session = db_session()
    issue = issues.report(session, current_user, _body("/api/issues"))
    session.commit()
    return jsonify(issue=_issue_json(issue)), 201


@api_bp.route("/api/issues/<int:issue_id>", methods=["GET"], endpoint="issue")
@requires("view_issues")
def issue_json(issue_id: int):
    """One issue, its timeline and the actions the user may take now (opening it reads it)."""
    session = db_session()
    issue = issues.get(session, current_user, issue_id)
    issue_queries.mark_read(session, current_user, issue)
    return _private(jsonify(
        issue=_issue_json(issue), actions=issues.actions_for(issue, current_user.role),
        timeline=[{**step.__dict__, "at": step.at.isoformat(),
                   "due_at": step.due_at.isoformat() if step.due_at else None,
                   "photos": [web_files.as_dict(p) for p in step.photos]}
                  for step in issue_queries.timeline(session, issue)],
        callbacks=[row.as_json() for row in issue_queries.callbacks(session, issue)]))


@api_bp.route("/api/issues/<int:issue_id>/callbacks", methods=["POST"], endpoint="callback")
@requires("callback_issue")
def callback_json(issue_id: int):
    """`{"version": 4, "channel": "phone", "reached": true, "contacted_in_time": true,
    "solved": true, "satisfaction": "satisfied"}` or `{…, "reached": false,
    "unreached_reason": "空号"}` → 201 with the issue after it (不满意 reopens it)."""
    issue = _callback(issue_id, _body("/api/issues/{issue_id}/callbacks"))
    return jsonify(issue=_issue_json(issue)), 201


@api_bp.route("/api/issues/<int:issue_id>/actions", methods=["POST"], endpoint="act")
@accepts_files
@requires("view_issues")
def act_json(issue_id: int):
    """`{"action": "triage", "version": 1, …}` → the issue after it; 409 when it moved on.
    As multipart the same fields plus `photo` (办结/结案 only), stored with the event."""
    data, photo = _action_body()
    issue = _act(issue_id, data, photo)
    return jsonify(issue=_issue_json(issue))
