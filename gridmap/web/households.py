"""Households' personal data on request: the explicit "show" of one value of one household,
for roles that may unmask, with a reason that goes to the audit log (gridmap.privacy.show)."""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, request
from flask_login import current_user

from gridmap import privacy
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import requires
from gridmap.web.session import db_session

api_bp = answers_with(Blueprint("households_api", __name__), render_json)


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
