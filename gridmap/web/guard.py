"""The web side of the policy: the view decorator, the signed-in user's scope, the allow-list.

* `requires(action)` guards a view: anonymous → the sign-in page (302) for pages, 401 for
  an API blueprint; signed in without the action → 403. The action names a row of
  gridmap.policy.ACTIONS and is checked when the decorator is applied.
* `PUBLIC_ENDPOINTS` is the explicit allow-list of views anyone may reach;
  tests/web/test_routes_guarded.py fails when a route is neither on it nor guarded.

How a refusal looks (page or JSON) is the blueprint's business: `requires` raises
`Unauthorized`/`Forbidden`, and gridmap.web.errors renders them per blueprint.
"""

from __future__ import annotations

import functools

from flask import redirect, request, url_for
from flask_login import current_user

from gridmap.errors import Forbidden, GridmapError, _
from gridmap.policy import PolicyError, Scope, allowed

# Endpoints anyone may reach without signing in. Keep this list short and explicit.
PUBLIC_ENDPOINTS = frozenset({
    "static",            # CSS/JS/fonts/tiles served from static/
    "health.healthz",    # monitoring
    "auth.sign_in",
    "auth.set_language",  # the language switch works on the sign-in page too
    # Open data (gridmap/features.py lists what it carries: no personal data, no 举报)
    "ogc.landing", "ogc.conformance", "ogc.openapi", "ogc.collections", "ogc.collection",
    "ogc.items", "ogc.item",
    # Open311 reading: gridmap/open311.py shows what the public may see of an issue
    "open311.services", "open311.service_definition", "open311.requests", "open311.request",
    "open311.create",  # needs an api_key, checked in the view (gridmap.tokens)
    # Residents' own pages (gridmap/residents.py): a report lands in triage; a lookup needs the
    # code and the phone tail and shows no one's personal data; both throttled per address
    "residents.report", "residents.progress",
    "exports.geojson", "exports.gpkg",  # the same public collections, as files (audited)
    "openapi.document",  # describes the JSON APIs; every operation in it is guarded
})

GUARD_ATTRIBUTE = "gridmap_required_action"


class Unauthorized(GridmapError):
    """Not signed in (an API answers 401; a page sends the visitor to sign in)."""

    code = "unauthorized"
    status = 401


def can(action: str) -> bool:
    """May the signed-in user (if any) do `action`? For templates and views."""
    return bool(current_user.is_authenticated) and allowed(current_user.role, action)


def current_scope() -> Scope:
    """The signed-in user's scope. Only call it from a view guarded by `requires`."""
    if not current_user.is_authenticated:
        raise PolicyError("current_scope() needs a signed-in user: guard the view with @requires")
    return Scope.of_user(current_user)


def wants_page() -> bool:
    """Does this request's blueprint answer with pages (not JSON)? Blueprints say so."""
    from gridmap.web.errors import renders_json

    return not renders_json()


def requires(action: str):
    """Guard a view: only signed-in users whose role may do `action` get in.

    The action is checked when the decorator is applied, so a typo fails at start-up.
    """
    allowed("admin", action)  # raises PolicyError for an unknown action

    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_page():
                    return redirect(url_for("auth.sign_in",
                                            next=request.full_path.rstrip("?")))
                raise Unauthorized(_("请先登录。"))
            if not allowed(current_user.role, action):
                raise Forbidden(_("您的角色无权进行此操作。"))
            return view(*args, **kwargs)

        setattr(guarded, GUARD_ATTRIBUTE, action)
        return guarded

    return decorator


def unguarded_endpoints(app) -> list[str]:
    """Endpoints of `app` that are neither public nor guarded by `requires` (should be none)."""
    return sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC_ENDPOINTS
        and not getattr(app.view_functions.get(rule.endpoint), GUARD_ATTRIBUTE, None)
    )
