"""Each JSON blueprint declares its OpenAPI paths, they match its routes, and
/api/openapi.json assembles all of them."""

import re

import pytest

from gridmap.web.errors import render_json
from gridmap.web.openapi import OPENAPI_ATTRIBUTE

OPERATION_METHODS = {"get", "post", "put", "patch", "delete"}
JSON_BLUEPRINTS = ("controls_api", "exports", "field_api", "files_api", "grid_edits_api", "households_api",
                   "issues_api", "layers", "ledgers_api", "metrics_api", "search_api")


def openapi_path(rule: str) -> str:
    path = re.sub(r"<any\([^)]*\):(\w+)>", r"{\1}", rule)
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", path)


def test_every_json_blueprint_declares_its_paths(app):
    answering_json = {name for name, bp in app.blueprints.items()
                      if getattr(bp, "error_renderer", None) is render_json}
    assert answering_json == set(JSON_BLUEPRINTS)
    assert all(getattr(app.blueprints[name], OPENAPI_ATTRIBUTE, None) for name in JSON_BLUEPRINTS)


@pytest.mark.parametrize("blueprint", JSON_BLUEPRINTS)
def test_every_json_route_is_declared_and_every_declaration_is_a_route(app, blueprint):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(blueprint + "."):
            routes.setdefault(openapi_path(rule.rule), set()).update(
                m.lower() for m in rule.methods if m.lower() in OPERATION_METHODS)
    declared = {path: set(item) & OPERATION_METHODS
                for path, item in getattr(app.blueprints[blueprint], OPENAPI_ATTRIBUTE).items()}
    assert declared == routes
    for item in getattr(app.blueprints[blueprint], OPENAPI_ATTRIBUTE).values():
        for operation in item.values():
            assert operation["summary"] and operation["responses"]
            for parameter in operation.get("parameters", ()):
                assert parameter["in"] in ("path", "query") and parameter["schema"]


def test_the_document_holds_every_json_route(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.0")
    assert {"/api/issues", "/api/issues/{issue_id}", "/api/metrics", "/api/visits",
            "/api/households/{household_id}/show", "/map/{layer}.geojson",
            "/map/gaps.json"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            public = {} in operation.get("security", ())
            assert public == path.startswith("/exports/{collection_id}")  # never the gaps
            assert {"401", "403"} <= set(operation["responses"])
