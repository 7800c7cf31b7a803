"""Who may do what, and the SQL filter that limits any query to a user's scope.

Three things live here, and nowhere else:

* `ACTIONS`: the role × action table. Every guarded view names one action.
* `requires(action)`: the view decorator. Anonymous → sign-in page (302) for pages,
  401 JSON under /api/; signed in without the action → 403.
* `Scope`: the part of a county a user may see, as SQL filters per table.

Public routes are the explicit allow-list `PUBLIC_ENDPOINTS`; tests/web/test_routes_guarded.py
fails when a route is neither on it nor guarded by `requires`.

Region and grid codes are hierarchical strings (county 6 → township 9 → village 12 →
grid 15+), so "inside a region" is a prefix match on the code: one index-friendly rule
for every table that carries a code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import false, select, true
from sqlalchemy.sql.elements import ColumnElement

from gridmap.models import ROLES, Assignment, Grid, Household, Issue, Region

COUNTY_WIDE_ROLES = frozenset({"leader", "inspector", "admin"})

ALL_ROLES = frozenset(ROLES)
FIELD = frozenset({"grid_worker", "cadre", "village_staff"})
OFFICE = frozenset({"village_staff", "township_staff"})
OVERSIGHT = frozenset({"leader", "inspector"})

# The role × action table: action → (what it allows, roles allowed).
#
# To add an action: add one line here (a snake_case verb_object name, a one-line
# description, the roles), then guard the view with `@requires("the_action")` and
# add the role expectations to tests/unit/test_policy.py. Never test a role name in
# a view; ask `allowed(role, action)` / `can(action)` instead.
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "signed_in": ("any signed-in user (sign out, own preferences)", ALL_ROLES),
    "view_map": ("see the map of one's scope", ALL_ROLES),
    "view_households": ("list households of one's scope, personal data masked",
                        FIELD | OFFICE | OVERSIGHT),
    "unmask_personal_data": ("show a name, phone or ID number unmasked (PIPL Art. 28)",
                             FIELD | OFFICE),
    "log_visit": ("record a 走访/回访", FIELD),
    "view_issues": ("see issues of one's scope", ALL_ROLES - {"admin"}),
    "report_issue": ("report an issue", FIELD | OFFICE),
    "triage_issue": ("classify and dispatch an issue (小事不出村: village first)", OFFICE),
    "handle_issue": ("work on and mark an issue handled", OFFICE | {"unit_handler"}),
    "supervise_issue": ("督办/催办 an issue", OVERSIGHT | {"township_staff"}),
    "view_coverage": ("coverage gaps and roll-ups", OFFICE | OVERSIGHT),
    "export_aggregate": ("download counts and rates", OFFICE | OVERSIGHT),
    "export_detail": ("download row-level ledgers (personal data masked)",
                      OFFICE | {"inspector"}),
    "manage_users": ("create and disable accounts", frozenset({"admin"})),
    "manage_settings": ("change the county's settings", frozenset({"admin"})),
}

# Endpoints anyone may reach without signing in. Keep this list short and explicit.
PUBLIC_ENDPOINTS = frozenset({
    "static",            # CSS/JS/fonts/tiles served from static/
    "health.healthz",    # monitoring
    "auth.sign_in",
    "auth.set_language",  # the language switch works on the sign-in page too
})

GUARD_ATTRIBUTE = "gridmap_required_action"


class PolicyError(RuntimeError):
    """A programming error in using the policy (unknown action, no signed-in user)."""


def allowed(role: str, action: str) -> bool:
    """May a user with `role` do `action`? Unknown actions are a programming error."""
    try:
        return role in ACTIONS[action][1]
    except KeyError:
        raise PolicyError(f"unknown action {action!r}: add it to gridmap.policy.ACTIONS") from None


def actions_of(role: str) -> frozenset[str]:
    return frozenset(action for action, (_, roles) in ACTIONS.items() if role in roles)


def can(action: str) -> bool:
    """May the signed-in user (if any) do `action`? For templates and views."""
    from flask_login import current_user

    return bool(current_user.is_authenticated) and allowed(current_user.role, action)


def current_scope() -> Scope:
    """The signed-in user's scope. Only call it from a view guarded by `requires`."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        raise PolicyError("current_scope() needs a signed-in user: guard the view with @requires")
    return Scope.of_user(current_user)


def _refusal(action: str):
    """The response refusing the current request, or None when it may proceed."""
    from flask import redirect, request, url_for
    from flask_babel import gettext as _
    from flask_login import current_user

    from gridmap.web.errors import refusal

    api = request.path.startswith("/api/")
    if not current_user.is_authenticated:
        if api:
            return refusal(401, "unauthorized", _("请先登录。"))
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if allowed(current_user.role, action):
        return None
    return refusal(403, "forbidden", _("您的角色无权进行此操作。"))


def requires(action: str):
    """Guard a view: only signed-in users whose role may do `action` get in.

    The action is checked when the decorator is applied, so a typo fails at start-up.
    """
    allowed("admin", action)  # raises PolicyError for an unknown action

    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            refusal = _refusal(action)
            return refusal if refusal is not None else view(*args, **kwargs)

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


@dataclass(frozen=True)
class Scope:
    """The part of a county a user may see.

    `region_code` is a county, township, village or grid code (prefix rule); `cadre_id`
    limits to the cadre's paired households; `unit_id` to the unit's issues.
    """

    county_code: str
    region_code: str | None = None
    cadre_id: int | None = None
    unit_id: int | None = None

    @classmethod
    def of_user(cls, user) -> Scope:
        if user.role in COUNTY_WIDE_ROLES:
            return cls(user.county_code, region_code=user.county_code)
        if user.role == "cadre":
            return cls(user.county_code, cadre_id=user.cadre_id)
        if user.role == "unit_handler":
            return cls(user.county_code, unit_id=user.unit_id, region_code=user.scope_code)
        return cls(user.county_code, region_code=user.scope_code)

    @property
    def county_wide(self) -> bool:
        return self.region_code == self.county_code and self.cadre_id is None

    def _prefix(self, column) -> ColumnElement[bool]:
        if self.region_code is None:
            return false()
        return column.startswith(self.region_code, autoescape=True)

    def _paired_households(self):
        return select(Assignment.household_id).where(
            Assignment.county_code == self.county_code,
            Assignment.kind == "household",
            Assignment.cadre_id == self.cadre_id,
            Assignment.valid_to.is_(None),
        )

    def regions(self) -> ColumnElement[bool]:
        """Regions shown as context: the scope's own region, its ancestors and descendants."""
        if self.cadre_id is not None:
            paired_villages = select(Household.village_code).where(
                Household.id.in_(self._paired_households()))
            return (Region.county_code == self.county_code) & (
                (Region.level == "county") | Region.code.in_(paired_villages))
        if self.region_code is None:
            return (Region.county_code == self.county_code) & (Region.level == "county")
        scope = self.region_code[:12]
        return (Region.county_code == self.county_code) & (
            self._prefix(Region.code) | Region.code.in_(
                [scope[:n] for n in (6, 9, 12) if n <= len(scope)]))

    def grids(self) -> ColumnElement[bool]:
        in_county = Grid.county_code == self.county_code
        if self.cadre_id is not None:
            return in_county & Grid.code.in_(select(Household.grid_code).where(
                Household.id.in_(self._paired_households())))
        return in_county & self._prefix(Grid.code)

    def households(self) -> ColumnElement[bool]:
        in_county = Household.county_code == self.county_code
        if self.cadre_id is not None:
            return in_county & Household.id.in_(self._paired_households())
        if self.region_code is not None and len(self.region_code) > 12:
            return in_county & (Household.grid_code == self.region_code)
        if self.county_wide:  # includes households whose village is not yet known
            return in_county & true()
        return in_county & self._prefix(Household.village_code)

    def issues(self) -> ColumnElement[bool]:
        in_county = Issue.county_code == self.county_code
        if self.cadre_id is not None:
            return in_county & Issue.household_id.in_(self._paired_households())
        if self.unit_id is not None:
            return in_county & (Issue.responsible_unit_id == self.unit_id)
        if self.region_code is not None and len(self.region_code) > 12:
            return in_county & (Issue.grid_code == self.region_code)
        if self.county_wide:
            return in_county & true()
        return in_county & self._prefix(Issue.village_code)
