"""Households' personal data on request: the explicit "show" of one value of one household,
for roles that may unmask, with a reason that goes to the audit log (gridmap.privacy.show)."""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, request
from flask_login import current_user

from gridmap import privacy
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import requires
from gridmap.web.openapi import ROW_ID, declare, error_response, json_body, json_response
from gridmap.web.session import db_session

api_bp = answers_with(Blueprint("households_api", __name__), render_json)
OPENAPI_PATHS = {"/api/households/{household_id}/show": {"post": {
    "summary": "Unmask one personal value of a household, with a reason (written to the audit log)",
    "parameters": [{"name": "household_id", "in": "path", "required": True, "schema": ROW_ID}],
    "requestBody": json_body({"type": "object", "required": ["kind", "reason"], "properties": {
        "kind": {"type": "string", "enum": sorted(privacy.MASKS)},
        "reason": {"type": "string"}}}),
    "responses": {"200": json_response("the value, unmasked", {
        "type": "object", "required": ["kind", "value"], "properties": {
            "kind": {"type": "string"}, "value": {"type": "string", "nullable": True}}}),
        "404": error_response(), "422": error_response()}}}}
declare(api_bp, OPENAPI_PATHS)


@api_bp.route("/api/households/<int:household_id>/show", methods=["POST"], endpoint="show")
@requires("unmask_personal_data")
def show_json(household_id: int):
    """`{"kind": "phone", "reason": "回访核实"}` (or the same as a form) → `{"value": …}`."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else request.form
    session = db_session()
    value = privacy.show(session, current_user, household_id, str(data.get("kind") or ""),
                         str(data.get("reason") or ""), address=request.remote_addr)
    session.commit()
    response = make_response(jsonify(kind=data.get("kind"), value=value))
    response.headers["Cache-Control"] = "no-store"  # an unmasked value is never cached
    return response
