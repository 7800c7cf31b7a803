"""The field pages for the tablet (`field`) and their JSON (`field_api`).

my grid (map, households by visit due) → a household (visits, open issues) → log a visit
(checklist toggles, 民情日记 notes, geolocation) → report an issue found on it → my reported
issues. The visit form and any offline queue post the same JSON to `POST /api/visits`;
an issue found on a visit goes to `POST /api/visits/<id>/issues` (gridmap.issues.report,
linked to the visit). Thin views over gridmap.visits and gridmap.field_queries.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from gridmap import (
    categories,
    clock,
    controls,
    field_queries,
    issue_queries,
    issues,
    lifecycle,
    visits,
)
from gridmap.field_queries import CARE_LABELS
from gridmap.web.errors import answers_with, render_json, text_of
from gridmap.web.guard import can, current_scope, requires
from gridmap.web.openapi import declare, error_response, json_body, json_request, json_response
from gridmap.web.session import db_session

bp = Blueprint("field", __name__)
api_bp = answers_with(Blueprint("field_api", __name__), render_json)
VISIT_FIELDS = ("household_id", "client_uuid", "checklist", "notes", "lon", "lat", "accuracy_m",
                "visited_at")
ISSUE_FIELDS = ("title", "description", "category", "urgency", "lon", "lat", "client_uuid",
                "note", "resolved_on_spot", "resolution")


VISIT_REPLY = {"type": "object", "required": ["visit", "created"], "properties": {
    "visit": {"type": "object", "required": ["id", "client_uuid", "household_id", "visited_at"],
              "properties": {"id": {"type": "integer"}, "client_uuid": {"type": "string"},
                             "household_id": {"type": "integer"}, "visited_at": {"type": "string"},
                             "checklist": {"type": "object"},
                             "accuracy_m": {"type": "number", "nullable": True}}},
    "distance_m": {"type": "integer", "nullable": True}, "far": {"type": "boolean"},
    "created": {"type": "boolean"}, "report_url": {"type": "string"},
    "household_url": {"type": "string"}}}
_VISIT_REF = {"name": "visit_ref", "in": "path", "required": True,
              "description": "the visit's id or client_uuid", "schema": {"type": "string"}}
OPENAPI_PATHS = {
    "/api/visits": {"post": {
        "summary": "Record a visit (走访) of a household in the user's scope; the same client_uuid "
                   "again answers the visit already recorded",
        "requestBody": json_body({"type": "object", "required": ["household_id"], "properties": {
            "household_id": {"type": "integer"}, "client_uuid": {"type": "string", "format": "uuid"},
            "checklist": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "notes": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"},
            "accuracy_m": {"type": "number"}, "visited_at": {"type": "string", "format": "date-time"}}}),
        "responses": {
            "200": json_response("the visit already recorded under this client_uuid", VISIT_REPLY),
            "201": json_response("the new visit", VISIT_REPLY),
            "404": error_response(), "409": error_response(), "422": error_response()}}},
    "/api/visits/{visit_ref}/issues": {"post": {
        "summary": "Report an issue found on a visit, placed at the household and linked to it",
        "parameters": [_VISIT_REF],
        "requestBody": json_body({"type": "object", "required": ["title", "category"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"},
            "category": {"type": "string"}, "urgency": {"type": "string"},
            "lon": {"type": "number"}, "lat": {"type": "number"}, "client_uuid": {"type": "string"},
            "note": {"type": "string"}}}),
        "responses": {
            "201": json_response("the new issue (or the one already reported under its client_uuid)", {
                "type": "object", "required": ["issue", "issues_url"], "properties": {
                    "issue": {"type": "object", "required": ["id", "code", "status"]},
                    "issues_url": {"type": "string"}}}),
            "404": error_response(), "409": error_response(), "422": error_response()}}},
}
declare(api_bp, OPENAPI_PATHS)


def lands_in_the_field() -> bool:
    """Does the signed-in user start on the field pages (visits but no triage) or on the map?"""
    return can("log_visit") and not can("triage_issue")


def _private(page):
    response = make_response(page)
    response.headers["Cache-Control"] = "private, no-cache"  # scoped, personal data
    return response


def _care(row) -> list[dict]:
    return [{"flag": flag, "label": text_of(CARE_LABELS[flag][0]), "icon": CARE_LABELS[flag][1]}
            for flag in row.care]


def _household_json(row) -> dict:
    return {"id": row.id, "code": row.code, "head": row.head, "due": row.due,
            "lonlat": list(row.lonlat) if row.lonlat else None,
            "url": url_for("field.household", household_id=row.id),
            "visit_url": url_for("field.visit", household_id=row.id)}


# --- pages ---------------------------------------------------------------------------------


@bp.route("/field", endpoint="home")
@requires("log_visit")
def home():
    """My grid: the map with "locate me", and my households, the most overdue first."""
    session, scope, now = db_session(), current_scope(), clock.now()
    rows = field_queries.households(session, scope, current_user.role, now)
    total, due = field_queries.counts(session, scope, now)
    return _private(render_template(
        "field/home.html", rows=rows, total=total, due=due, care=_care, now=now,
        map_data={"households": [_household_json(r) for r in rows],
                  "grids": url_for("layers.layer", layer="grids")}))


@bp.route("/field/households/<int:household_id>", endpoint="household")
@requires("log_visit")
def household(household_id: int):
    """A household: its care categories, when a visit is due, its visits and open issues."""
    session = db_session()
    row, visit_rows, open_issues = field_queries.household(
        session, current_scope(), current_user.role, household_id, clock.now())
    return _private(render_template("field/household.html", row=row, visits=visit_rows,
                                    issues=open_issues, care=_care))


@bp.route("/field/households/<int:household_id>/visit", endpoint="visit")
@requires("log_visit")
def visit_form(household_id: int):
    """Log a visit: the checklist as toggles, notes (民情日记), where the tablet is."""
    session = db_session()
    row, _visits, _issues = field_queries.household(
        session, current_scope(), current_user.role, household_id, clock.now())
    return _private(render_template(
        "field/visit.html", row=row, care=_care,
        checklist=visits.checklist_items(session, current_user.county_code)))


@bp.route("/field/report", endpoint="report")
@requires("report_issue")
def report_form():
    """Report an issue found on a visit (`?visit=<client_uuid>&household=<id>`): category,
    title, description, where. The page itself names no visit, so the offline copy serves
    every visit, even one still waiting in the tablet's queue."""
    session = db_session()
    return _private(render_template(
        "field/report.html", categories=categories.all_of(session, current_user.county_code),
        on_spot=can(lifecycle.ACTIONS["resolve_on_spot"].policy)))


@bp.route("/field/issues", endpoint="issues")
@requires("report_issue")
def my_issues():
    """The issues waiting for me (my tasks, a 督办 past its limit in red) and those I reported."""
    session = db_session()
    only = issue_queries.tasks_of(current_user)
    tasks = [] if only is None else issue_queries.queue(session, current_scope(), limit=50, only=only)
    return _private(render_template("field/issues.html", tasks=tasks,
                                    issues=field_queries.my_issues(session, current_user)))


# The lifecycle steps a handler takes on the tablet (the rest stay on the office page).
TABLET_ACTIONS = ("acknowledge", "handle", "close")


@bp.route("/field/issues/<int:issue_id>", endpoint="issue")
@requires("log_visit")
def issue_page(issue_id: int):
    """One issue on the tablet: its stage, its timeline with photos, and the buttons the
    policy allows here: 签收/办结/结案 (with a photo), 申请延期, 督办回复, 回访, a photo."""
    session = db_session()
    issue = issues.get(session, current_user, issue_id)
    actions = [a for a in issues.actions_for(issue, current_user.role) if a in TABLET_ACTIONS]
    return _private(render_template(
        "field/issue.html", issue=issue, actions=actions, steps=issue_queries.timeline(session, issue),
        controls=controls.panel(session, issue, current_user),
        may_add_photo=can("report_issue") and issue.status not in ("voided", "rejected"),
        category=categories.find(session, issue.county_code, issue.category)))


@bp.route("/field-sw.js", endpoint="service_worker")
@requires("log_visit")
def service_worker():
    """The service worker, served from the top so that its scope can be /field."""
    from gridmap.web import STATIC_ROOT

    root = Path(current_app.config.get("GRIDMAP_STATIC", STATIC_ROOT))
    response = send_from_directory(root, "field-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- JSON ----------------------------------------------------------------------------------


def _body(path: str, fields) -> dict:
    data = json_request(OPENAPI_PATHS, path)
    return {name: data.get(name) for name in fields}


@api_bp.route("/api/visits", methods=["POST"], endpoint="record")
@requires("log_visit")
def record_json():
    """Record a visit: 201 with it, or 200 with the one already recorded under its client_uuid."""
    session = db_session()
    recorded = visits.record(session, current_user, _body("/api/visits", VISIT_FIELDS))
    session.commit()
    visit = recorded.visit
    return jsonify(
        visit={"id": visit.id, "client_uuid": str(visit.client_uuid),
               "household_id": visit.household_id, "visited_at": visit.visited_at.isoformat(),
               "checklist": visit.checklist, "accuracy_m": visit.accuracy_m},
        distance_m=None if recorded.distance_m is None else round(recorded.distance_m),
        far=recorded.far, created=recorded.created,
        report_url=url_for("field.report", visit=str(visit.client_uuid), household=visit.household_id),
        household_url=url_for("field.household", household_id=visit.household_id),
    ), 201 if recorded.created else 200


@api_bp.route("/api/visits/<visit_ref>/issues", methods=["POST"], endpoint="report")
@requires("report_issue")
def report_json(visit_ref: str):
    """Report an issue found on a visit (its id or client_uuid), placed at the household and
    linked to the visit: 201 with the issue (the same client_uuid again: the same issue)."""
    session = db_session()
    issue = visits.report_issue(session, current_user, visit_ref, _body("/api/visits/{visit_ref}/issues", ISSUE_FIELDS))
    session.commit()
    return jsonify(issue=issue_queries.as_dict(issue), issues_url=url_for("field.issues")), 201
