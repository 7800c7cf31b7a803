"""Roll-ups: one figure per township, village or grid (the choropleth a leader drills into).

Every figure is aggregated in PostGIS from the same queries the rest of the system counts
with (coverage gap rules, the open-issue filter, gridmap.metrics' 三率), grouped by code
prefix: 9 characters of a village code is its township, 12 the village, and grids by code.
Colour classes are made over the whole county (`county_classes`), so a region has one
colour for every role that sees it; rates have fixed classes. Core: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, null, select
from sqlalchemy.orm import Session

from gridmap import lifecycle, metrics
from gridmap.coverage import RULES, VisitIntervals, gap_query, last_visited_at
from gridmap.issue_queries import stage_due_sql
from gridmap.maps.styles import WORSE, CountClass, count_classes
from gridmap.models import Grid, Household, Issue, PartyBranch
from gridmap.policy import Scope

LEVELS = ("township", "village", "grid")
KEY_LENGTH = {"township": 9, "village": 12}
# Rates in percent, worst first: the darkest class is the lowest rate.
RATE_LIMITS = ((0, 59.9), (60, 79.9), (80, 89.9), (90, 94.9), (95, 100))


@dataclass(frozen=True)
class Measure:
    """A figure a region can be coloured by: its key, labels, unit and who may see it."""

    key: str
    label_zh: str
    label_en: str
    kind: str  # count | rate | days
    action: str  # the policy action a role needs to see it
    levels: tuple[str, ...] = LEVELS


def _gap_measures() -> list[Measure]:
    measures = []
    for rule in RULES.values():
        # Villages and their uncovered parts are per village: no grid holds them.
        levels = LEVELS if rule.target in ("grid", "household") else ("township", "village")
        measures.append(Measure("gap_" + rule.kind, rule.label_zh, rule.label_en, "count",
                                "view_coverage", levels))
    return measures


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("households", "户数", "households", "count", "view_map"),
    *_gap_measures(),
    Measure("days_since_visit", "距上次走访天数(中位数)", "days since last visit (median)",
            "days", "view_coverage"),
    Measure("open", "未办结事项", "open issues", "count", "view_issues"),
    Measure("overdue", "超期事项", "overdue issues", "count", "view_issues"),
    Measure("response_rate", "响应率", "response rate", "rate", "view_metrics",
            ("township", "village")),
    Measure("resolution_rate", "解决率", "resolution rate", "rate", "view_metrics",
            ("township", "village")),
    Measure("satisfaction_rate", "满意率", "satisfaction rate", "rate", "view_metrics",
            ("township", "village")),
)}


def _key(level: str, village_code, grid_code):
    if level == "grid":
        return grid_code
    return func.left(village_code, KEY_LENGTH[level])


def _gap_places(kind: str, scope: Scope, now: datetime, intervals: VisitIntervals):
    """(village_code, grid_code) of every gap of rule `kind` in scope."""
    gaps = gap_query(kind, scope, now, intervals).subquery()
    target = RULES[kind].target
    if target == "region":
        return select(gaps.c.code.label("village_code"), null().label("grid_code"))
    if target == "grid":
        return (select(Grid.village_code, Grid.code.label("grid_code"))
                .select_from(gaps).join(Grid, Grid.id == gaps.c.id))
    if target == "party_branch":
        return (select(PartyBranch.village_code, null().label("grid_code"))
                .select_from(gaps).join(PartyBranch, PartyBranch.id == gaps.c.id))
    return (select(Household.village_code, Household.grid_code)
            .select_from(gaps).join(Household, Household.id == gaps.c.id))


def _places(key: str, scope: Scope, now: datetime, intervals: VisitIntervals):
    """(village_code, grid_code[, value]) rows the measure `key` aggregates."""
    if key.startswith("gap_"):
        return _gap_places(key[4:], scope, now, intervals)
    if key == "households":
        return select(Household.village_code, Household.grid_code).where(scope.households())
    if key == "days_since_visit":
        days = func.extract("epoch", literal(now) - last_visited_at(scope.county_code)) / 86400
        return (select(Household.village_code, Household.grid_code, days.label("value"))
                .where(scope.households()))
    open_issues = select(Issue.village_code, Issue.grid_code).where(
        scope.issues(), Issue.county_code == scope.county_code,
        Issue.status.in_(lifecycle.OPEN), Issue.merged_into.is_(None))
    if key == "overdue":
        return open_issues.where(stage_due_sql() < now)
    return open_issues


def _rates(session: Session, scope: Scope, level: str, key: str) -> dict[str, float]:
    rows = metrics.compute(session, scope, by=level)
    return {row.key: round(row.rates[key] * 100, 1) for row in rows
            if row.key and row.rates.get(key) is not None}


def values(session: Session, scope: Scope, level: str, key: str, now: datetime,
           intervals: VisitIntervals = VisitIntervals()) -> dict[str, float | int]:
    """The measure `key` per region (or grid) code of `level` in `scope`."""
    measure = MEASURES[key]
    if level not in measure.levels:
        return {}
    if measure.kind == "rate":
        return _rates(session, scope, level, key)
    places = _places(key, scope, now, intervals).subquery()
    code = _key(level, places.c.village_code, places.c.grid_code)
    if measure.kind == "days":
        figure = func.round(func.percentile_cont(0.5).within_group(places.c.value))
    else:
        figure = func.count()
    rows = session.execute(
        select(code.label("code"), figure.label("value"))
        .where(code.is_not(None)).group_by(code)).all()
    return {code: int(value) for code, value in rows if value is not None}


def rate_classes() -> list[CountClass]:
    """Fixed classes of a rate in percent, the lowest rate darkest."""
    shades = list(reversed(WORSE))
    return [CountClass(lower, upper, shades[i]) for i, (lower, upper) in enumerate(RATE_LIMITS)]


def county_classes(session: Session, scope: Scope, level: str, key: str, now: datetime,
                   intervals: VisitIntervals = VisitIntervals()) -> list[CountClass]:
    """The measure's classes over the whole county at `level`: the same for every role."""
    measure = MEASURES[key]
    if measure.kind == "rate":
        return rate_classes()
    county = Scope(scope.county_code, region_code=scope.county_code)
    figures = values(session, county, level, key, now, intervals)
    ramp = None if key == "households" else WORSE
    # 0 always has its class: a region with none of what is counted is not "no data".
    return count_classes([0, *figures.values()], ramp=ramp)
