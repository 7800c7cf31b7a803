"""Roll-ups: one figure per township, village or grid (the choropleth a leader drills into).

Every figure is aggregated in PostGIS from the same queries the rest of the system counts
with (coverage gap rules, the open-issue filter, gridmap.metrics' 三率), grouped by code
prefix: 9 characters of a village code is its township, 12 the village, and grids by code.
Colour classes are made over the whole county (`county_classes`), so a region has one
colour for every role that sees it; rates have fixed classes. Core: no Flask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, func, null, select
from sqlalchemy.orm import Session

from gridmap import lifecycle, metrics, privacy
from gridmap.coverage import (
    RULES,
    VisitIntervals,
    due_households,
    gap_query,
    last_visits,
    needs_care,
)
from gridmap.issue_queries import stage_due_sql
from gridmap.maps.layers import household_places
from gridmap.maps.styles import WORSE, CountClass, count_classes
from gridmap.models import Grid, GridLastVisit, Household, Issue, PartyBranch, Region
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
    care: bool = False  # counts households by care flag: small counts withheld (privacy)


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
    Measure("care", "需关爱户", "households needing care", "count", "view_coverage", care=True),
    *_gap_measures(),
    Measure("days_since_visit", "距上次走访天数（中位数）", "days since last visit (median)",
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
    if kind == "visit":  # the kept rows carry their households' places
        due = due_households(scope, now, intervals).subquery()
        return select(due.c.village_code, due.c.grid_code)
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
    if key == "households":  # counted per place already: values() sums `value`
        places = household_places(scope)
        return select(func.nullif(places.c.village_code, "").label("village_code"),
                      func.nullif(places.c.grid_code, "").label("grid_code"),
                      places.c.households.label("value"))
    if key == "care":
        return select(Household.village_code, Household.grid_code).where(
            scope.households(), needs_care())
    if key == "days_since_visit":
        # The last visit as epoch seconds (float): values() takes the median of these and
        # subtracts it from now, the same figure as the median of the days since, without
        # a numeric interval per household to sort.
        last = last_visits(scope.county_code)
        epoch = func.extract("epoch", last.c.last).cast(Float)
        return (select(Household.village_code, Household.grid_code, epoch.label("value"))
                .outerjoin(last, last.c.household_id == Household.id)
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
    if measure.kind == "days":  # the median last visit's distance from now, in days
        median = func.percentile_cont(0.5).within_group(places.c.value)
        figure = func.round((now.timestamp() - median) / 86400)
    elif key == "households":
        figure = func.sum(places.c.value)
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


def suppressed(figures: dict[str, int]) -> tuple[dict[str, int], list[str]]:
    """A care measure's figures as an aggregate reader may see them: counts of 1 to
    privacy.SMALL_COUNT - 1 withheld (privacy.suppress_small, as the heatmaps drop small
    cells). Returns the figures shown and the codes withheld (shown as "<5")."""
    shown, withheld = {}, []
    for code, count in figures.items():
        if privacy.suppress_small(count) is None:
            withheld.append(code)
        else:
            shown[code] = count
    return shown, sorted(withheld)


def county_classes(session: Session, scope: Scope, level: str, key: str, now: datetime,
                   intervals: VisitIntervals = VisitIntervals()) -> list[CountClass]:
    """The measure's classes over the whole county at `level`: the same for every role.
    A care measure's are made without its small counts, so no class boundary gives a
    withheld one back to a role that sees them as "<5"."""
    measure = MEASURES[key]
    if measure.kind == "rate":
        return rate_classes()
    county = Scope(scope.county_code, region_code=scope.county_code)
    figures = values(session, county, level, key, now, intervals)
    if measure.care:
        figures = suppressed(figures)[0]
    ramp = None if key == "households" else WORSE
    # 0 always has its class: a region with none of what is counted is not "no data".
    return count_classes([0, *figures.values()], ramp=ramp)


LONGEST_UNVISITED = 5  # grids named on the leader's map and in its list


def ranked(session: Session, scope: Scope, level: str, key: str, now: datetime,
           intervals: VisitIntervals = VisitIntervals(), limit: int = LONGEST_UNVISITED
           ) -> list[tuple[str, float | int]]:
    """The `limit` regions (or grids) of `level` with the highest figure `key`, highest first
    (ties by code): e.g. the grids whose households have waited longest for a visit."""
    if key == "days_since_visit" and level == "grid" and scope.county_wide:
        return _longest_unvisited_kept(session, scope, now, limit)
    figures = values(session, scope, level, key, now, intervals)
    return sorted(figures.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _longest_unvisited_kept(session: Session, scope: Scope, now: datetime,
                            limit: int) -> list[tuple[str, int]]:
    """ranked() of days since visit per grid over the whole county, from each grid's median
    last visit kept by triggers (models.GridLastVisit): the same figures, no sort of every
    household per request."""
    days = func.round((now.timestamp() - GridLastVisit.median_epoch) / 86400)
    rows = session.execute(
        select(GridLastVisit.grid_code, days.label("days"))
        .where(GridLastVisit.county_code == scope.county_code)
        .order_by(days.desc(), GridLastVisit.grid_code).limit(limit)).all()
    return [(code, int(value)) for code, value in rows]


def longest_unvisited(session: Session, scope: Scope, now: datetime,
                      intervals: VisitIntervals = VisitIntervals(),
                      limit: int = LONGEST_UNVISITED) -> dict:
    """The grids of `scope` longest unvisited (the highest median days since their households'
    last visit, the `days_since_visit` roll-up) as GeoJSON: shape, name, village, days, rank."""
    top = ranked(session, scope, "grid", "days_since_visit", now, intervals, limit)
    if not top:
        return {"type": "FeatureCollection", "features": []}
    village = (select(Region.code, Region.name)
               .where(Region.county_code == scope.county_code, Region.level == "village",
                      Region.current()).subquery())
    rows = {code: (name, village_name, geometry, label) for code, name, village_name, geometry, label
            in session.execute(
                select(Grid.code, Grid.name, village.c.name, Grid.display_geojson, Grid.label_lonlat)
                .outerjoin(village, village.c.code == Grid.village_code)
                .where(Grid.county_code == scope.county_code, Grid.current(),
                       Grid.code.in_([code for code, _days in top]), Grid.geom.is_not(None)))}
    features = []
    for rank, (code, days) in enumerate(top, start=1):
        if code not in rows:
            continue
        name, village_name, geometry, label = rows[code]
        features.append({"type": "Feature", "id": code, "geometry": json.loads(geometry),
                         "properties": {"code": code, "name": name, "village": village_name,
                                        "days": days, "rank": rank,
                                        "label_lonlat": json.loads(label)}})
    return {"type": "FeatureCollection", "features": features}
