"""The OpenAPI 3 document of every JSON API at `/api/openapi.json`.

Each JSON blueprint declares its own path items once, next to its views (`declare(bp,
OPENAPI_PATHS)`); this module only assembles them, adds the two ways in (a session cookie
of the web pages, or an API token as `Authorization: Bearer gm_…`, gridmap.tokens) and the
shared error body. tests/web/test_openapi_paths.py checks every declaration against the
routes, and tests/web/test_openapi_fuzz.py runs schemathesis against the document.
(OGC API – Features keeps its own document at /ogc/api, as that standard wants.)
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, make_response, request, url_for

from gridmap.errors import BadInput, _

OPENAPI_ATTRIBUTE = "openapi_paths"
ROW_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # web.RowId: other ids are 404
ERROR_SCHEMA = {"type": "object", "required": ["error", "message"], "properties": {
    "error": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}


def error_response(description: str = "refused") -> dict:
    """A response carrying the JSON error body of gridmap.web.errors.render_json."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def json_response(description: str, schema: dict, media_type: str = "application/json") -> dict:
    """A response of `schema` as `media_type`."""
    return {"description": description, "content": {media_type: {"schema": schema}}}


def json_body(schema: dict) -> dict:
    """A required JSON request body of `schema`."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# Every guarded JSON route may answer these (not signed in, not allowed, a bad request such as
# an expired CSRF token of a cookie session, a body too large).
COMMON_RESPONSES = {"400": error_response("a malformed request"),
                    "401": error_response("no session and no valid API token"),
                    "403": error_response("the account may not do this"),
                    "413": error_response("the request is too large")}


_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
          "object": dict, "array": list}
_NUMERAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _of_kind(value, kind: str) -> bool:
    """Is `value` a JSON value of `kind`? Numbers may come as numerals ("1"), as forms send
    them and the core reads them; nothing else is bent."""
    if kind in ("integer", "number") and isinstance(value, str):
        return bool(_NUMERAL.fullmatch(value)) and (kind == "number" or "." not in value)
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def json_request(paths: dict, path: str, method: str = "post") -> dict:
    """The request's JSON object, its properties of the types `paths[path][method]` declares
    (a missing or null one is the core's to judge); else BadInput naming the field."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadInput(_("请求体应是 JSON 对象"), field="body")
    schema = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
    for name, declared in schema.get("properties", {}).items():
        value, kind = data.get(name), declared.get("type")
        if value is None or kind not in _TYPES:
            continue
        if not _of_kind(value, kind):
            raise BadInput(_("字段 %(field)s 应为 %(kind)s 类型的值", field=name, kind=kind),
                           field=name)
    return data


def declare(blueprint: Blueprint, paths: dict) -> Blueprint:
    """Declare `blueprint`'s OpenAPI path items (its routes, in OpenAPI's `{name}` form)."""
    setattr(blueprint, OPENAPI_ATTRIBUTE, paths)
    return blueprint


def document(app) -> dict:
    """The assembled OpenAPI 3.0 document of `app`'s JSON blueprints."""
    paths: dict[str, dict] = {}
    for blueprint in app.blueprints.values():
        for path, item in getattr(blueprint, OPENAPI_ATTRIBUTE, {}).items():
            paths[path] = {method: {**operation, "responses": {
                **COMMON_RESPONSES, **operation["responses"]}}
                for method, operation in item.items()}
    return {
        "openapi": "3.0.3",
        "info": {"title": "gridmap JSON API", "version": "1.0.0",
                 "description": "民情地图: issues, visits, metrics, map layers and the per-record "
                                "show of personal data, each scoped by the account's role and "
                                "region. A token acts as its account; a cookie session must "
                                "send its CSRF token (X-CSRFToken) on every POST."},
        "servers": [{"url": url_for("openapi.document", _external=True).rsplit("/api/", 1)[0]}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token: gridmap tokens create LOGIN"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {"Error": ERROR_SCHEMA}},
    }


bp = Blueprint("openapi", __name__)


@bp.route("/api/openapi.json", endpoint="document")
def openapi_document():
    """The document (public: it describes the doors, it opens none)."""
    response = make_response(jsonify(document(current_app)))
    response.headers["Cache-Control"] = "public, no-cache"
    return response
