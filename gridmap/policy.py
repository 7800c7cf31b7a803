"""Who may do what, and the SQL filter that limits any query to a user's scope. Core: no web.

Two things live here, and nowhere else:

* `ACTIONS`: the role × action table. Every guarded view names one action
  (gridmap.web.guard.requires); every command or service that acts for a user asks `allowed`.
* `Scope`: the part of a county a user may see, as SQL filters per table.

Region codes are hierarchical strings (gridmap.codes), so "inside a region" is a prefix
match on a region code: on `village_code` for grids, households and issues (a grid's code
need not start with its village's), and the exact grid code for a grid worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from gridmap import codes
from gridmap.errors import GridmapError
from gridmap.models import ROLES, Assignment, Grid, Household, Issue, Region, Unit

COUNTY_WIDE_ROLES = frozenset({"leader", "inspector", "admin"})

ALL_ROLES = frozenset(ROLES)
FIELD = frozenset({"grid_worker", "cadre", "village_staff"})
OFFICE = frozenset({"village_staff", "township_staff"})
OVERSIGHT = frozenset({"leader", "inspector"})

# The role × action table: action → (what it allows, roles allowed).
#
# To add an action: add one line here (a snake_case verb_object name, a one-line
# description, the roles), then guard the view with `@requires("the_action")`
# (gridmap.web.guard) and add the role expectations to tests/unit/test_policy.py. Never
# test a role name in a view; ask `allowed(role, action)` / `can(action)` instead.
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
    # Grid workers report and never handle (at village level the 村委会's staff do), so 签收,
    # 办结, 上交 and asking for 延期 are not theirs.
    "handle_issue": ("work on and mark an issue handled; ask for 延期", OFFICE | {"unit_handler"}),
    "callback_issue": ("record a 回访 result, or reopen when the resident is unsatisfied",
                       FIELD | OFFICE),
    "supervise_issue": ("督办/催办 an issue", OVERSIGHT | {"township_staff"}),
    "approve_extension": ("grant or refuse a 延期 request (the level above the asker, never "
                          "the asker)", frozenset({"township_staff", "leader"})),
    "view_case_ledger": ("the 挂账 and 作废 ledger: long-term items, their reviews, voided items",
                         OFFICE | OVERSIGHT),
    "print_public_codes": ("print the QR codes of the residents' report pages of one's villages",
                           OFFICE),
    "view_metrics": ("三率 and case metrics of one's scope (a unit handler: their unit's)",
                     OFFICE | OVERSIGHT | {"unit_handler"}),
    "view_coverage": ("coverage gaps and roll-ups", OFFICE | OVERSIGHT),
    "export_aggregate": ("download counts and rates", OFFICE | OVERSIGHT),
    "export_detail": ("download row-level ledgers (personal data masked)",
                      OFFICE | {"inspector"}),
    "view_ledgers": ("follow-through ledgers of one's region: 挂牌 targets, meetings, deeds, diaries",
                     OFFICE | OVERSIGHT),
    "work_on_target": ("note progress on a 挂牌 target, mark its steps done, ask to 销号",
                       OFFICE | OVERSIGHT),
    "manage_targets": ("tag a target (挂牌), approve or refuse its 销号 a level up, review it (回头看)",
                       frozenset({"township_staff"}) | OVERSIGHT),
    "keep_ledgers": ("meetings, deeds and the 民情日记: one's region's, or what one recorded",
                     FIELD | OFFICE | OVERSIGHT),
    "record_ledger": ("record a meeting, a deed done (办实事) or a 民情日记 entry", FIELD | OFFICE),
    "run_campaigns": ("set up a visit campaign (e.g. every paired household before 春节)",
                      frozenset({"township_staff"}) | OVERSIGHT),
    "check_visits": ("draw logged visits at random and record whether they happened (抽查)",
                     frozenset({"township_staff", "inspector"})),
    "view_dashboard": ("the county dashboard and periodic bulletin (通报) of one's region",
                       OFFICE | OVERSIGHT),
    "edit_households": ("keep the household register true: add, edit, move, split, mark moved"
                        " out or deceased (a village's staff in their village)",
                        frozenset({"village_staff", "township_staff", "admin"})),
    "manage_people": ("add, edit and deactivate cadres and units; assign 五包 duties; hand over",
                      frozenset({"township_staff", "admin"})),
    "edit_grids": ("redraw grids on the map: draw, split, merge, move a shared edge (a township's"
                   " staff in their township)", frozenset({"township_staff", "admin"})),
    "read_audit": ("read the audit log: sign-ins, unmasking, exports, imports, changes",
                   frozenset({"inspector", "admin"})),
    "import_data": ("upload files for an import, read its dry run, commit it (a township's staff:"
                    " rows of their township only)", frozenset({"township_staff", "admin"})),
    "manage_users": ("create and disable accounts", frozenset({"admin"})),
    "manage_settings": ("change the county's settings", frozenset({"admin"})),
    "manage_categories": ("edit issue categories, their stage limits and who owns them where",
                          frozenset({"admin"})),
}

class PolicyError(GridmapError):
    """A programming error in using the policy (unknown action, no signed-in user)."""

    code = "policy"
    status = 500


def allowed(role: str, action: str) -> bool:
    """May a user with `role` do `action`? Unknown actions are a programming error."""
    try:
        return role in ACTIONS[action][1]
    except KeyError:
        raise PolicyError(f"unknown action {action!r}: add it to gridmap.policy.ACTIONS") from None


def actions_of(role: str) -> frozenset[str]:
    """Every action `role` may take."""
    return frozenset(action for action, (_, roles) in ACTIONS.items() if role in roles)


def starts_with(column, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as the byte range [prefix, prefix with its last character
    raised) in pattern order (`~>=~`, `~<~`): what a `varchar_pattern_ops` index answers with
    an index range and no re-check, where `LIKE 'prefix%'` adds a Filter run on every row
    (ix_household_active_village: a township's 86k households took 2x the time of listing
    its villages). Codes are ASCII; anything else falls back to LIKE."""
    if not prefix or not prefix.isascii() or prefix[-1] == "\x7f":
        return column.startswith(prefix, autoescape=True)
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return column.op("~>=~", is_comparison=True)(prefix) & column.op(
        "~<~", is_comparison=True)(after)


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
        """The scope of a signed-in account (anything with role, county_code, scope_code …)."""
        if user.role in COUNTY_WIDE_ROLES:
            return cls(user.county_code, region_code=user.county_code)
        if user.role == "cadre":
            return cls(user.county_code, cadre_id=user.cadre_id)
        if user.role == "unit_handler":
            return cls(user.county_code, unit_id=user.unit_id, region_code=user.scope_code)
        return cls(user.county_code, region_code=user.scope_code)

    @property
    def county_wide(self) -> bool:
        """The whole county (leaders, inspectors, admins; not a unit's handler: see _in_region)."""
        return (self.region_code == self.county_code and self.cadre_id is None
                and self.unit_id is None)

    @property
    def grid_code(self) -> str | None:
        """The grid a grid worker is scoped to (None for a region or a cadre's scope)."""
        return self.region_code if codes.is_grid_code(self.region_code) else None

    # _coded_in_county: a region's code and a grid's village code start with their county's
    # (CHECK left(…, 6) = county_code), so a county-wide scope leaves the prefix test out. Kept
    # in, the planner takes it and county_code as independent and, in a database of ten
    # counties, expects a tenth of the county's villages: nested loops where hash joins belong.

    def _in_region(self, village_code_column) -> ColumnElement[bool]:
        """Rows whose village lies in the scope's region (prefix rule on region codes).

        A unit handler's region is also bounded by their unit's: a township office's handler
        created with the county's code still sees only that township.
        """
        if self.region_code is None:
            return false()
        inside = starts_with(village_code_column, self.region_code)
        if self.unit_id is not None:
            unit_region = select(func.coalesce(Unit.region_code, Unit.county_code)).where(
                Unit.id == self.unit_id, Unit.county_code == self.county_code).scalar_subquery()
            inside = inside & village_code_column.startswith(unit_region)
        return inside

    def in_region(self, region_code_column) -> ColumnElement[bool]:
        """Rows placed by a region code (挂牌 targets, meetings, deeds, diary entries) inside the
        scope's region; nothing for a cadre's or a grid worker's scope (their own rows are
        found by who recorded them)."""
        if self.cadre_id is not None or self.grid_code is not None:
            return false()
        return self._in_region(region_code_column)

    def _paired_households(self):
        return select(Assignment.household_id).where(
            Assignment.county_code == self.county_code,
            Assignment.kind == "household",
            Assignment.cadre_id == self.cadre_id,
            Assignment.current(),
        )

    def _grid_village(self):
        return select(Grid.village_code).where(
            Grid.county_code == self.county_code, Grid.code == self.grid_code,
            Grid.current()).scalar_subquery()

    def is_context(self, region_code: str) -> bool:
        """A region drawn only for orientation: around the scope, not inside it."""
        if self.region_code is None or self.grid_code is not None:
            return True  # a cadre's villages, a grid worker's village frame their own rows
        return (len(region_code) < len(self.region_code)
                and codes.is_within(self.region_code, region_code))

    def regions(self) -> ColumnElement[bool]:
        """Regions shown: the scope's own region, its ancestors and descendants."""
        in_county = Region.county_code == self.county_code
        if self.cadre_id is not None:
            paired_villages = select(Household.village_code).where(
                Household.id.in_(self._paired_households()))
            return in_county & ((Region.level == "county") | Region.code.in_(paired_villages))
        if self.region_code is None:
            return in_county & (Region.level == "county")
        if self.grid_code is not None:
            village = self._grid_village()
            return in_county & Region.code.in_(
                [village, func.left(village, codes.LENGTH["township"]),
                 func.left(village, codes.LENGTH["county"])])
        if self.county_wide:
            return in_county  # see _coded_in_county
        return in_county & (self._in_region(Region.code)
                            | Region.code.in_(codes.ancestors(self.region_code)))

    def grids(self) -> ColumnElement[bool]:
        """Grids in scope: by their village's code, or the grid worker's own grid."""
        in_county = Grid.county_code == self.county_code
        if self.cadre_id is not None:
            return in_county & Grid.code.in_(select(Household.grid_code).where(
                Household.id.in_(self._paired_households())))
        if self.grid_code is not None:
            return in_county & (Grid.code == self.grid_code)
        if self.county_wide:
            return in_county  # see _coded_in_county
        return in_county & self._in_region(Grid.village_code)

    def _placed(self, model) -> ColumnElement[bool]:
        """Rows of `model` (with grid_code and village_code) in the scope's grid or region.

        County-wide scopes include rows not yet placed in a village.
        """
        if self.grid_code is not None:
            return model.grid_code == self.grid_code
        if self.county_wide:
            return true()
        return self._in_region(model.village_code)

    def counted_places(self, model) -> ColumnElement[bool]:
        """Rows of a kept table placed by county, village and grid code (models.
        HouseholdCount, HouseholdVisitState) that `households()` would count; not for a
        cadre's scope, whose paired households are counted one by one."""
        if self.cadre_id is not None:
            raise ValueError("a cadre's households are not counted by place")
        return (model.county_code == self.county_code) & self._placed(model)

    def households(self, *, including_left: bool = False) -> ColumnElement[bool]:
        """Households in scope: a cadre's are their paired (结对) households. Only those still
        on the register (not moved out or deceased) unless `including_left`, which the
        household's own page and its history use."""
        in_county = Household.county_code == self.county_code
        if not including_left:
            in_county = in_county & (Household.status == "active")
        if self.cadre_id is not None:
            return in_county & Household.id.in_(self._paired_households())
        return in_county & self._placed(Household)

    def issues(self) -> ColumnElement[bool]:
        """Issues in scope: a unit handler's are those dispatched to their unit."""
        in_county = Issue.county_code == self.county_code
        if self.cadre_id is not None:
            return in_county & Issue.household_id.in_(self._paired_households())
        if self.unit_id is not None:
            return in_county & (Issue.responsible_unit_id == self.unit_id)
        return in_county & self._placed(Issue)
