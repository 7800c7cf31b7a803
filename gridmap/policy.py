"""Who may see what. The SQL filter that limits any query to a user's scope lives here.

Region and grid codes are hierarchical strings (county 6 → township 9 → village 12 →
grid 15+), so "inside a region" is a prefix match on the code: one index-friendly rule
for every table that carries a code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, select, true
from sqlalchemy.sql.elements import ColumnElement

from gridmap.models import Assignment, Grid, Household, Issue, Region

COUNTY_WIDE_ROLES = frozenset({"leader", "inspector", "admin"})


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
