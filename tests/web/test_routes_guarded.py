"""Every route is either on the public allow-list or guarded by gridmap.web.guard.requires."""

from gridmap.web.errors import render_json
from gridmap.web.guard import GUARD_ATTRIBUTE, PUBLIC_ENDPOINTS, requires, unguarded_endpoints


def test_every_route_of_the_app_is_public_or_guarded(app):
    assert unguarded_endpoints(app) == [], (
        "guard these views with @gridmap.web.guard.requires(action), "
        "or add them to policy.PUBLIC_ENDPOINTS if they must be public")


def test_an_unguarded_route_is_caught(app):
    app.add_url_rule("/leaky", "leaky", lambda: "households")
    app.add_url_rule("/sealed", "sealed", requires("view_households")(lambda: "households"))
    assert unguarded_endpoints(app) == ["leaky"]


def test_the_allow_list_names_real_endpoints_only(app):
    assert set(PUBLIC_ENDPOINTS) <= set(app.view_functions)


def test_public_routes_answer_without_signing_in(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/sign-in").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def build_some_url(rule) -> str:
    """A URL the rule matches; the guard runs before the view looks at the arguments."""
    for value in ("grids", "1", "village", "csv", "appeals"):
        try:
            return rule.build(dict.fromkeys(rule.arguments, value), append_unknown=False)[1]
        except Exception:  # a converter refused this value; try the next one
            continue
    raise AssertionError(f"cannot build a URL for {rule.rule}; extend build_some_url")


def test_every_guarded_rule_sends_anonymous_visitors_away(app, client):
    """GET each guarded route without signing in: never a 200."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, GUARD_ATTRIBUTE, None) or "GET" not in rule.methods:
            continue
        url = build_some_url(rule)
        response = client.get(url)
        json_blueprint = getattr(app.blueprints.get(rule.endpoint.split(".")[0]),
                                 "error_renderer", None) is render_json
        expected = 401 if json_blueprint else 302
        assert response.status_code == expected, (rule.rule, response.status_code)
