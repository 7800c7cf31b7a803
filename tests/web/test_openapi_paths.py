"""Each JSON blueprint declares its OpenAPI paths, and they match its routes."""

import re

import pytest

from gridmap.web import controls, files, issues, ledgers, metrics, search

DECLARED = {"issues_api": issues.OPENAPI_PATHS, "metrics_api": metrics.OPENAPI_PATHS,
            "controls_api": controls.OPENAPI_PATHS, "search_api": search.OPENAPI_PATHS,
            "ledgers_api": ledgers.OPENAPI_PATHS, "files_api": files.OPENAPI_PATHS}
OPERATION_METHODS = {"get", "post", "put", "patch", "delete"}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule)


@pytest.mark.parametrize("blueprint", sorted(DECLARED))
def test_every_json_route_is_declared_and_every_declaration_is_a_route(app, blueprint):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(blueprint + "."):
            routes.setdefault(openapi_path(rule.rule), set()).update(
                m.lower() for m in rule.methods if m.lower() in OPERATION_METHODS)
    declared = {path: set(item) & OPERATION_METHODS for path, item in DECLARED[blueprint].items()}
    assert declared == routes
    for item in DECLARED[blueprint].values():
        for operation in item.values():
            assert operation["summary"] and operation["responses"]
            for parameter in operation.get("parameters", ()):
                assert parameter["in"] in ("path", "query") and parameter["schema"]
