"""Who covers what, and where the gaps (空白点) are. One gap rule per 五包 level, in one place.

| rule              | a gap is                                                        |
|-------------------|-----------------------------------------------------------------|
| `village`         | a current village with no current 包村 leader                    |
| `area`            | a current grid in no 片 that has a current 包片 agency           |
| `group`           | a current grid with no current 包组 unit                         |
| `branch`          | a Party branch with no current 包支部 cadre                      |
| `household`       | a household with no current 包户 cadre                           |
| `visit`           | a household not visited within its interval (care flags decide) |
| `uncovered`       | a household that no grid covers (a place no one answers for)    |

Stationed staff (`first_secretary`, `work_team`) go to chosen villages only, so their
absence is not a gap. Every rule is a SQLAlchemy select filtered by the caller's
policy.Scope, so the counting happens in PostGIS and is always scoped by county_code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from gridmap.models import AreaGrid, Assignment, Grid, Household, PartyBranch, Region, Visit
from gridmap.policy import Scope


@dataclass(frozen=True)
class GapRule:
    """One kind of coverage gap: its key, labels and the table whose rows are the gaps."""
    kind: str
    label_zh: str
    label_en: str
    target: str  # the table whose rows are the gaps


RULES: dict[str, GapRule] = {rule.kind: rule for rule in (
    GapRule("village", "无包村领导的村", "villages without a leader", "region"),
    GapRule("area", "未纳入包片的网格", "grids in no covered area", "grid"),
    GapRule("group", "无包组单位的网格", "grids without a unit", "grid"),
    GapRule("branch", "无包联干部的支部", "branches without a cadre", "party_branch"),
    GapRule("household", "无包户干部的户", "households without a cadre", "household"),
    GapRule("visit", "逾期未走访的户", "households not visited in time", "household"),
    GapRule("uncovered", "不在任何网格内的户", "households outside every grid", "household"),
)}


@dataclass(frozen=True)
class VisitIntervals:
    """Days allowed between visits: shorter for 特困/低保 households (settings decide)."""

    priority_days: int = 30
    default_days: int = 90


def _assigned(kind: str, scope: Scope, *conditions):
    """A current assignment of `kind` in the scope's county (the county keeps the join to
    one county's rows: without it a ten-county database is read ten times over)."""
    return exists().where(Assignment.county_code == scope.county_code, Assignment.kind == kind,
                          Assignment.current(), *conditions)


def _household_is_priority():
    return or_(Household.extreme_poverty, Household.minimum_living)


def _rule(kind: str) -> GapRule:
    try:
        return RULES[kind]
    except KeyError:
        raise ValueError(f"no coverage rule {kind!r}; known: {', '.join(RULES)}") from None


def gap_query(kind: str, scope: Scope, now: datetime,
              intervals: VisitIntervals = VisitIntervals()) -> Select:
    """The rows that are gaps under rule `kind`, within `scope` (id, code, name columns)."""
    _rule(kind)
    if kind == "village":
        return select(Region.id, Region.code, Region.name).where(
            scope.regions(), Region.level == "village", Region.current(),
            ~_assigned("village", scope, Assignment.region_code == Region.code))
    if kind in ("area", "group"):
        if kind == "group":
            covered = _assigned("group", scope, Assignment.grid_code == Grid.code)
        else:
            covered = exists().where(
                AreaGrid.grid_code == Grid.code, AreaGrid.county_code == scope.county_code,
                _assigned("area", scope, Assignment.area_id == AreaGrid.area_id))
        return select(Grid.id, Grid.code, Grid.name).where(scope.grids(), Grid.current(), ~covered)
    if kind == "branch":
        branch_scope = PartyBranch.village_code.in_(
            select(Region.code).where(scope.regions(), Region.county_code == scope.county_code,
                                      Region.level == "village", Region.current()))
        return select(PartyBranch.id, PartyBranch.code, PartyBranch.name).where(
            PartyBranch.county_code == scope.county_code, branch_scope,
            ~_assigned("branch", scope, Assignment.party_branch_id == PartyBranch.id))
    household = select(Household.id, Household.code, Household.head_name.label("name")).where(
        scope.households())
    if kind == "household":
        return household.where(
            ~_assigned("household", scope, Assignment.household_id == Household.id))
    if kind == "uncovered":
        return household.where(Household.grid_code.is_(None))
    # visit: no visit since the household's interval began
    since = case(
        (_household_is_priority(), now - timedelta(days=intervals.priority_days)),
        else_=now - timedelta(days=intervals.default_days))
    visited = exists().where(Visit.county_code == scope.county_code,
                             Visit.household_id == Household.id, Visit.visited_at >= since)
    return household.where(~visited)


def gap_counts(connection: Connection, scope: Scope, now: datetime,
               intervals: VisitIntervals = VisitIntervals()) -> dict[str, int]:
    """How many gaps of each kind the scope has: one aggregate query per rule."""
    counts = {}
    for kind in RULES:
        sub = gap_query(kind, scope, now, intervals).subquery()
        counts[kind] = connection.execute(select(func.count()).select_from(sub)).scalar_one()
    return counts


def gaps(connection: Connection, kind: str, scope: Scope, now: datetime,
         intervals: VisitIntervals = VisitIntervals(), limit: int = 500) -> list[dict]:
    """The first `limit` gaps of one kind, ordered by code (a page is always bounded)."""
    code = {"region": Region.code, "grid": Grid.code, "party_branch": PartyBranch.code,
            "household": Household.code}[_rule(kind).target]
    query = gap_query(kind, scope, now, intervals).order_by(code).limit(limit)
    return [dict(row._mapping) for row in connection.execute(query)]
