"""The `gaps` collection of OGC API – Features: coverage gaps (gridmap.coverage) of one
account's scope, for other systems holding an API token (never public, never listed to the
public). The same rows as the map's gap layers, in the shape gridmap.features serves: a
village, grid or uncovered area as its outline, a Party branch as a point in its village,
and households (never one by one) counted per grid at a point of that grid: the stored
label points (`geom_label`) of the village and the grid, as the map puts them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, and_, func, literal, null, select, union_all

from gridmap import clock, coverage
from gridmap.errors import BadInput, _
from gridmap.features import Collection
from gridmap.maps.layers import label_point
from gridmap.models import Grid, Household, PartyBranch, Region
from gridmap.policy import Scope

COLLECTION_ID = "gaps"
QUERYABLES = ("kind", "village_code", "code")
_SHAPES = {"village": Region, "area": Grid, "group": Grid, "grid_worker": Grid}
_HOUSEHOLD_KINDS = ("household", "visit", "uncovered")
# Every `kind` a gap feature may have (the rules of coverage.RULES the map draws).
KINDS = (*_SHAPES, "branch", "uncovered_area", *_HOUSEHOLD_KINDS)


def _row(kind: str, code, geom, name, village_code, households=None):
    return (func.concat(kind, ":", code).label("fid"), geom.label("geom"),
            geom.label("bbox_geom"), literal(None, DateTime(timezone=True)).label("time"),
            literal(kind).label("kind"), code.label("code"), name.label("name"),
            village_code.label("village_code"),
            (null() if households is None else households).cast(Integer).label("households"))


def _shapes(kind: str, scope: Scope, now: datetime, intervals) -> object:
    gaps = coverage.gap_query(kind, scope, now, intervals).subquery()
    model = _SHAPES[kind]
    village = model.code if model is Region else model.village_code
    return select(*_row(kind, model.code, model.geom, model.name, village)).where(
        model.id.in_(select(gaps.c.id)), model.geom.is_not(None))


def _branches(scope: Scope, now: datetime, intervals) -> object:
    gaps = coverage.gap_query("branch", scope, now, intervals).subquery()
    return select(*_row("branch", PartyBranch.code, label_point(Region),
                        PartyBranch.name, PartyBranch.village_code)).join(
        Region, and_(Region.county_code == scope.county_code,
                     Region.code == PartyBranch.village_code, Region.current())
    ).where(PartyBranch.id.in_(select(gaps.c.id)), Region.geom.is_not(None))


def _uncovered_areas(scope: Scope) -> object:
    areas = coverage.uncovered_area_query(scope).subquery()
    return select(*_row("uncovered_area", areas.c.code, areas.c.geom, areas.c.name,
                        areas.c.code))


def _household_counts(kind: str, scope: Scope, now: datetime, intervals) -> object:
    """Gap households per grid, at the grid's label point (no household's own place)."""
    gaps = coverage.gap_query(kind, scope, now, intervals).subquery()
    counted = (select(Household.grid_code, func.count().label("households"))
               .where(Household.id.in_(select(gaps.c.id)), Household.grid_code.is_not(None))
               .group_by(Household.grid_code).subquery())
    return select(*_row(kind, Grid.code, label_point(Grid), Grid.name,
                        Grid.village_code, counted.c.households)).join(
        counted, counted.c.grid_code == Grid.code
    ).where(Grid.county_code == scope.county_code, Grid.current(), Grid.geom.is_not(None))


def collection(scope: Scope, now: datetime,
               intervals: coverage.VisitIntervals = coverage.VisitIntervals()) -> Collection:
    """The gaps of every rule in `scope` at `now`, as a collection gridmap.features pages."""
    def rows(_county_code: str):
        parts = [_shapes(kind, scope, now, intervals) for kind in _SHAPES]
        parts += [_branches(scope, now, intervals), _uncovered_areas(scope)]
        parts += [_household_counts(kind, scope, now, intervals) for kind in _HOUSEHOLD_KINDS]
        every = union_all(*parts).subquery()
        return select(*every.c)

    return Collection(
        COLLECTION_ID, _("覆盖空白点（需令牌）"),
        _("令牌账号范围内各类空白点：无人包的村、网格、支部和未划入网格的区域为其形状；"
          "无包户干部、逾期未走访、不在网格内的户按网格计数，不含任何一户的位置。"),
        rows, QUERYABLES, geometry_type="Unknown")


def of_scope(session, scope: Scope) -> Collection:
    """The gaps of `scope` now, with its county's visit intervals: what /ogc, /exports and
    `gridmap export gaps` serve (one way to build it)."""
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    return collection(scope, clock.now(), intervals)


def parse_kind(value: str | None) -> dict[str, str]:
    """`rule`/`kind`: one of KINDS, as the property filter it becomes (empty: every kind)."""
    if value is None or value == "":
        return {}
    if value not in KINDS:
        raise BadInput(_("没有空白点类型 %(kind)s；可用：%(known)s", kind=value[:40],
                         known=", ".join(KINDS)), field="kind")
    return {"kind": value}
