"""The grid editor (画网格、拆分、合并、调整公共边): a map page for township staff and
administrators, and its JSON doors (`grid_edits_api`): the village's shapes, a preview of an
edit (its problems drawn in red, who would move) and the save.

Thin views over gridmap.grid_edits. Shapes leave and arrive in the basemap's datum (GCJ-02 or
BD-09 on a Chinese basemap), as the map layers do; the core works in WGS84.
"""

from __future__ import annotations

import json

import shapely
from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from gridmap import codes, geo, grid_edits
from gridmap.errors import N_, NotFound
from gridmap.maps.county import Basemap
from gridmap.models import Grid, Region
from gridmap.web.errors import answers_with, render_json, text_of
from gridmap.web.guard import current_scope, requires
from gridmap.web.maps import geojson_response
from gridmap.web.openapi import declare, error_response, json_body, json_request, json_response
from gridmap.web.session import db_session

bp = Blueprint("grid_edits", __name__)
api_bp = answers_with(Blueprint("grid_edits_api", __name__), render_json)

_FEATURES = {"type": "object", "properties": {
    "type": {"type": "string"}, "features": {"type": "array", "items": {"type": "object"}}}}
_EDIT = {"type": "object", "required": ["operation"], "properties": {
    "operation": {"type": "string", "enum": list(grid_edits.OPERATIONS)},
    "grids": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 24}},
    "line": {"type": "object", "description": "GeoJSON LineString (split, edge)"},
    "polygon": {"type": "object", "description": "GeoJSON Polygon (draw)"},
    "village_code": {"type": "string", "maxLength": 12},
    "name": {"type": "string", "maxLength": 100}}}
_OUTCOME = {"type": "object", "properties": {
    "ok": {"type": "boolean"}, "saved": {"type": "boolean"}, "operation": {"type": "string"},
    "shapes": _FEATURES, "problems": _FEATURES,
    "moved": {"type": "array", "items": {"type": "object", "properties": {
        "table": {"type": "string"}, "code": {"type": "string"},
        "before": {"type": "string", "nullable": True},
        "after": {"type": "string", "nullable": True}}}},
    "duties": {"type": "array", "description": "包组 duties of a grid merged away: inherited by "
               "the surviving grid (after), or ended when it has its own (after null)",
               "items": {"type": "object", "properties": {
                   "unit": {"type": "string"}, "name": {"type": "string"},
                   "before": {"type": "string"},
                   "after": {"type": "string", "nullable": True}}}}}}
OPENAPI_PATHS = {
    "/api/grid-edits/shapes": {"get": {
        "summary": "A village's outline and current grids, to draw on (edit_grids)",
        "parameters": [{"name": "village", "in": "query",
                        "description": "a village code; none: the first village of the region with grids",
                        "schema": {"type": "string", "pattern": codes.VILLAGE_CODE}}],
        "responses": {"200": json_response("the village and its grids", _FEATURES,
                                           "application/geo+json"),
                      "404": error_response("no such village in the caller's region"),
                      "422": error_response("not a village code")}}},
    "/api/grid-edits/preview": {"post": {
        "summary": "What an edit (draw, split, merge, edge) would do: shapes, problems, moves",
        "requestBody": json_body(_EDIT),
        "responses": {"200": json_response("the edit, not saved", _OUTCOME),
                      "404": error_response("a grid or village not in the caller's region"),
                      "422": error_response("an edit that cannot be drawn, naming the field")}}},
    "/api/grid-edits": {"post": {
        "summary": "Save an edit through the generation service, when nothing is wrong with it",
        "requestBody": json_body(_EDIT),
        "responses": {"200": json_response("saved: the new shapes and who moved", _OUTCOME),
                      "404": error_response("a grid or village not in the caller's region"),
                      "409": json_response("not saved: the problems, drawn", _OUTCOME),
                      "422": error_response("an edit that cannot be drawn, naming the field")}}},
}
declare(api_bp, OPENAPI_PATHS)


def _crs() -> str:
    return Basemap.from_config(current_app.config).crs


def _feature(shape, crs: str, **properties) -> dict:
    if crs != "wgs84":
        shape = geo.shift_geometry(shape, crs)
    return {"type": "Feature", "geometry": shapely.geometry.mapping(shape), "properties": properties}


def _private(response, status: int = 200):
    response = make_response(response, status)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _villages(session) -> list:
    scope = current_scope()
    with_grids = select(Grid.village_code).where(scope.grids(), Grid.current())
    return session.execute(select(Region.code, Region.name).where(
        Region.county_code == scope.county_code, Region.level == "village", Region.current(),
        scope.in_region(Region.code), Region.code.in_(with_grids)).order_by(Region.code)
        .limit(500)).all()


@bp.route("/grids/edit", endpoint="editor")
@requires("edit_grids")
def editor_page():
    """The map to redraw one village's grids on (the first village of the region with grids)."""
    session = db_session()
    villages = _villages(session)
    chosen = request.args.get("village") or (villages[0][0] if villages else "")
    return _private(render_template(
        "grids/editor.html", villages=villages,
        village=chosen if any(code == chosen for code, _name in villages) else "",
        labels={op: text_of(label) for op, label in grid_edits.LABELS.items()}))


@api_bp.route("/api/grid-edits/shapes", endpoint="shapes")
@requires("edit_grids")
def shapes_json():
    """The village (frame, not editable) and its current grids, in the basemap's datum."""
    session, scope, crs = db_session(), current_scope(), _crs()
    village = request.args.get("village") or next(iter(code for code, _name in _villages(session)), "")
    if not village:
        return _private(jsonify({"type": "FeatureCollection", "features": []}))
    codes.level_of(village, field="village")
    row = session.execute(select(Region.name, func.ST_AsBinary(Region.geom)).where(
        Region.county_code == scope.county_code, Region.code == village, Region.level == "village",
        Region.current(), scope.in_region(Region.code))).first()
    if row is None or row[1] is None:
        raise NotFound(N_("村（社区）%(code)s 不存在或不在您的范围内", code=village[:12]), field="village")
    features = [_feature(shapely.from_wkb(bytes(row[1])), crs, kind="village", code=village, name=row[0])]
    grids = session.execute(select(Grid.code, Grid.name, func.ST_AsBinary(Grid.geom)).where(
        scope.grids(), Grid.current(), Grid.village_code == village).order_by(Grid.code).limit(500)).all()
    features += [_feature(shapely.from_wkb(bytes(wkb)), crs, kind="grid", code=code, name=name)
                 for code, name, wkb in grids]
    # As every map layer answers: ETag, 304 and gzip (a village's grids at full detail, for
    # a tablet on a slow line).
    return geojson_response(json.dumps({"type": "FeatureCollection", "features": features},
                                       ensure_ascii=False, separators=(",", ":")))


def _outcome_json(outcome: grid_edits.Outcome, crs: str) -> dict:
    proposal = outcome.proposal
    return {
        "ok": outcome.ok, "saved": outcome.saved, "operation": proposal.operation,
        "shapes": {"type": "FeatureCollection", "features": [
            _feature(shape, crs, code=code, new=code in proposal.names,
                     name=proposal.names.get(code)) for code, shape in proposal.shapes.items()]},
        "problems": {"type": "FeatureCollection", "features": [
            _feature(problem.where, crs, kind=problem.kind, message=text_of(problem.message))
            if problem.where is not None and not problem.where.is_empty
            else {"type": "Feature", "geometry": None,
                  "properties": {"kind": problem.kind, "message": text_of(problem.message)}}
            for problem in outcome.problems]},
        "moved": [{"table": m.table, "code": m.code, "before": m.before, "after": m.after}
                  for m in outcome.moved],
        "duties": [{"unit": d.unit_code, "name": d.unit_name, "before": d.before, "after": d.after}
                   for d in outcome.duties],
    }


@api_bp.route("/api/grid-edits/preview", methods=["POST"], endpoint="preview")
@requires("edit_grids")
def preview_json():
    """An edit tried and rolled back: the shapes it makes, what is wrong, who would move."""
    crs = _crs()
    data = json_request(OPENAPI_PATHS, "/api/grid-edits/preview")
    outcome = grid_edits.edit(db_session(), current_user, data, crs=crs, save=False)
    return _private(jsonify(_outcome_json(outcome, crs)))


@api_bp.route("/api/grid-edits", methods=["POST"], endpoint="save")
@requires("edit_grids")
def save_json():
    """Save an edit: 200 with the moves, or 409 with its problems and nothing written."""
    session, crs = db_session(), _crs()
    data = json_request(OPENAPI_PATHS, "/api/grid-edits")
    outcome = grid_edits.edit(session, current_user, data, crs=crs, save=True)
    session.commit() if outcome.saved else session.rollback()
    return _private(jsonify(_outcome_json(outcome, crs)), 200 if outcome.saved else 409)
