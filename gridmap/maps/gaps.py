"""The coverage-gap layers of the map: one GeoJSON FeatureCollection per rule of
gridmap.coverage, built by PostGIS from the rule's own scoped query, so a layer shows
exactly what the legend counts.

How each kind of gap is drawn:

* villages and grids (`village`, `area`, `group`, `grid_worker`): their display shapes;
* Party branches (`branch`, `weak_branch`): their village's label point;
* households (`household`, `visit`, `uncovered`): never one marker per household, but one
  point per village and grid with how many there are (at the middle of their points);
* `uncovered_area`: the part of a village none of its grids covers, as an area, with the
  households whose point lies in it.

A stored village or grid is labelled at its stored label point (`geom_label`, written with
its display shape by geo.refresh_display_shapes; its [lon, lat] kept as text beside it,
`label_lonlat`, as the map layers send it); only a shape made here (an uncovered area) has
its point found per request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, cast, func, literal, select
from sqlalchemy.orm import Session

from gridmap.coverage import RULES, VisitIntervals, gap_query, uncovered_area_query
from gridmap.geo import DISPLAY_TOLERANCE
from gridmap.maps.layers import (
    MAX_FEATURES,
    collection_json,
    display_geometry,
    geojson_of,
    json_object,
    label_point,
    lonlat_of,
)
from gridmap.models import Grid, Household, PartyBranch, Region
from gridmap.policy import Scope

# How each rule is drawn (the `draw` property map.js styles by).
DRAWN_AS = {"village": "region", "area": "grid", "group": "grid", "grid_worker": "grid",
            "branch": "point", "weak_branch": "point", "household": "count", "visit": "count", "uncovered": "count",
            "uncovered_area": "area"}
assert set(DRAWN_AS) == set(RULES), "every gap rule needs a way to be drawn"


def _text(value: str):
    return literal(value, literal_execute=True)


def _regions(kind: str, gaps) -> object:
    return (select(
        Region.code.label("fid"), display_geometry(Region).label("geometry"),
        json_object(kind=_text(kind), draw=_text("region"), code=Region.code, name=Region.name,
                    label_lonlat=cast(Region.label_lonlat, JSON)).label("properties"))
        .where(Region.id.in_(select(gaps.c.id)), Region.geom.is_not(None)))


def _grids(kind: str, gaps) -> object:
    return (select(
        Grid.code.label("fid"), display_geometry(Grid).label("geometry"),
        json_object(kind=_text(kind), draw=_text("grid"), code=Grid.code, name=Grid.name,
                    village_code=Grid.village_code,
                    label_lonlat=cast(Grid.label_lonlat, JSON)).label("properties"))
        .where(Grid.id.in_(select(gaps.c.id)), Grid.geom.is_not(None)))


def _branches(kind: str, gaps, scope: Scope) -> object:
    point = label_point(Region)
    return (select(
        PartyBranch.code.label("fid"), geojson_of(point).label("geometry"),
        json_object(kind=_text(kind), draw=_text("point"), code=PartyBranch.code,
                    name=PartyBranch.name, village=Region.name).label("properties"))
        .join(Region, (Region.county_code == scope.county_code)
              & (Region.code == PartyBranch.village_code) & Region.current())
        .where(PartyBranch.id.in_(select(gaps.c.id)), Region.geom.is_not(None)))


def _household_counts(kind: str, gaps, scope: Scope) -> object:
    """Gap households counted per village and grid, at the middle of their points (without
    points: at their grid's, else their village's, label point)."""
    grouped = (select(Household.village_code, Household.grid_code,
                      func.count().label("households"),
                      func.ST_Centroid(func.ST_Collect(Household.geom)).label("geom"))
               .where(Household.id.in_(select(gaps.c.id)))
               .group_by(Household.village_code, Household.grid_code).subquery())
    village = (select(Region.code, Region.name, Region.geom, Region.geom_label)
               .where(Region.county_code == scope.county_code, Region.level == "village",
                      Region.current()).subquery())
    grid = (select(Grid.code, Grid.name, Grid.geom, Grid.geom_label)
            .where(Grid.county_code == scope.county_code, Grid.current()).subquery())
    point = func.coalesce(grouped.c.geom, label_point(grid.c), label_point(village.c))
    fid = func.concat(func.coalesce(grouped.c.village_code, "-"), "/",
                      func.coalesce(grouped.c.grid_code, "-"))
    return (select(
        fid.label("fid"), geojson_of(point).label("geometry"),
        json_object(kind=_text(kind), draw=_text("count"), code=grouped.c.grid_code,
                    village_code=grouped.c.village_code, village=village.c.name,
                    grid=grid.c.name, households=grouped.c.households).label("properties"))
        .outerjoin(village, village.c.code == grouped.c.village_code)
        .outerjoin(grid, grid.c.code == grouped.c.grid_code)
        .where(point.is_not(None)))


def _uncovered_areas(scope: Scope) -> object:
    areas = uncovered_area_query(scope).subquery()
    inside = (select(func.count()).where(
        Household.county_code == scope.county_code, Household.village_code == areas.c.code,
        func.ST_Covers(areas.c.geom, Household.geom)).scalar_subquery())
    shape = func.ST_SimplifyPreserveTopology(areas.c.geom, DISPLAY_TOLERANCE["grid"])
    return select(
        areas.c.code.label("fid"), geojson_of(shape).label("geometry"),
        json_object(kind=_text("uncovered_area"), draw=_text("area"), code=areas.c.code,
                    name=areas.c.name, households=inside,
                    label_lonlat=lonlat_of(areas.c.geom)).label("properties"))


def gap_layer_json(session: Session, kind: str, scope: Scope, now: datetime,
                   intervals: VisitIntervals = VisitIntervals()) -> bytes:
    """The gaps of rule `kind` in `scope` as GeoJSON (UTF-8, built in SQL)."""
    draw = DRAWN_AS[kind]  # KeyError for an unknown rule, as the route admits only known ones
    if draw == "area":
        rows = _uncovered_areas(scope)
    else:
        gaps = gap_query(kind, scope, now, intervals).subquery()
        if draw == "region":
            rows = _regions(kind, gaps)
        elif draw == "grid":
            rows = _grids(kind, gaps)
        elif draw == "point":  # branch, weak_branch
            rows = _branches(kind, gaps, scope)
        else:
            rows = _household_counts(kind, gaps, scope)
    return collection_json(session, rows.limit(MAX_FEATURES + 1).subquery())

