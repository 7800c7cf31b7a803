"""Heatmaps: where issues pile up, where households need care or wait for a visit, as counts
per cell.

Points never leave the database: they are snapped to cells of CELL_DEGREES, counted, and
a cell with fewer than MIN_COUNT is left out (a small count could name a household). What
the page receives is [lat, lon, count] per cell, the cell's middle; leaflet.heat draws it.
Core: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Numeric, cast, func, select
from sqlalchemy.orm import Session

from gridmap import privacy
from gridmap.coverage import VisitIntervals, gap_query, needs_care
from gridmap.maps.appeals import open_issues
from gridmap.maps.layers import MAX_FEATURES
from gridmap.models import Household, Issue
from gridmap.policy import Scope

CELL_DEGREES = 0.02  # ≈ 2 km north–south at 25°N: a hamlet or two, never a house
MIN_COUNT = privacy.SMALL_COUNT  # cells with fewer are suppressed


@dataclass(frozen=True)
class HeatKind:
    """One heatmap: its labels and the policy action a role needs to see it."""

    key: str
    label_zh: str
    label_en: str
    action: str


HEAT_KINDS: dict[str, HeatKind] = {k.key: k for k in (
    HeatKind("appeals", "事项密度", "issue density", "view_issues"),
    HeatKind("care", "需关爱户密度", "households needing care", "view_coverage"),
    HeatKind("unvisited", "待走访户密度", "households due a visit", "view_coverage"),
)}


def _points(kind: str, scope: Scope, now: datetime, intervals: VisitIntervals):
    if kind == "appeals":
        return select(Issue.geom.label("geom")).where(open_issues(scope), Issue.geom.is_not(None))
    if kind == "care":
        return select(Household.geom.label("geom")).where(
            scope.households(), Household.geom.is_not(None), needs_care())
    due = gap_query("visit", scope, now, intervals).subquery()
    return (select(Household.geom.label("geom")).select_from(due)
            .join(Household, Household.id == due.c.id)
            .where(Household.geom.is_not(None)))


def heat_cells(session: Session, scope: Scope, kind: str, now: datetime,
               intervals: VisitIntervals = VisitIntervals()) -> list[list[float]]:
    """[lat, lon, count] per cell of `kind`'s points in scope, cells under MIN_COUNT left out."""
    if kind not in HEAT_KINDS:
        raise ValueError(f"no heatmap {kind!r}; known: {', '.join(HEAT_KINDS)}")
    points = _points(kind, scope, now, intervals).subquery()
    cell = func.ST_SnapToGrid(points.c.geom, CELL_DEGREES)
    half = CELL_DEGREES / 2
    rows = session.execute(
        select(func.round(cast(func.ST_Y(cell) + half, Numeric), 5),
               func.round(cast(func.ST_X(cell) + half, Numeric), 5), func.count())
        .group_by(cell).having(func.count() >= MIN_COUNT)
        .order_by(func.count().desc()).limit(MAX_FEATURES)).all()
    return [[float(lat), float(lon), int(n)] for lat, lon, n in rows]

