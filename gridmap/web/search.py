"""The search endpoint (/api/search): one box, every kind the user may see (gridmap.search)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, request
from flask_babel import gettext

from gridmap import search
from gridmap.maps.county import Basemap
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import can, current_scope, requires
from gridmap.web.openapi import declare
from gridmap.web.session import db_session

bp = answers_with(Blueprint("search_api", __name__), render_json)

# OpenAPI 3.0 path items of this blueprint's routes; tests/web/test_openapi_paths.py.
OPENAPI_PATHS = {
    "/api/search": {"get": {
        "summary": "Find regions, grids, issues, households and cadres of the caller's scope by name, code, title, phone tail or address",
        "parameters": [
            {"name": "q", "in": "query",
             "schema": {"type": "string", "maxLength": search.MAX_QUERY}},
            {"name": "kind", "in": "query",
             "schema": {"type": "string", "enum": sorted(search.SEARCHABLE)}}],
        "responses": {
            "200": {"description": "hits, at most 10 of each kind, with where the map should go",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "hits": {"type": "array", "items": {"type": "object", "properties": {
                            "kind": {"type": "string"}, "code": {"type": "string"},
                            "name": {"type": "string"},
                            "context": {"type": "string", "nullable": True},
                            "bounds": {"type": "array", "nullable": True,
                                       "items": {"type": "array",
                                                 "items": {"type": "number"}}}}}}}}}}},
            "422": {"description": "a query longer than 50 characters, or an unknown kind"}}}},
}
declare(bp, OPENAPI_PATHS)


@bp.route("/api/search", endpoint="search")
@requires("view_map")
def search_json():
    """Hits for `q` in the caller's scope (`kind` narrows to one kind)."""
    kinds = tuple(request.args.getlist("kind")) or None
    hits = search.search(db_session(), current_scope(), request.args.get("q", ""), can,
                         kinds=kinds)
    crs = Basemap.from_config(current_app.config).crs
    if crs != "wgs84":  # where the map should go, in the basemap's datum
        hits = [hit.shifted(crs) for hit in hits]
    response = make_response(jsonify({"hits": [hit.as_dict(gettext) for hit in hits]}))
    response.headers["Cache-Control"] = "private, no-cache"
    return response
