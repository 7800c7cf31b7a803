"""One search over what a user may see: a registry of searchable kinds.

    search(session, scope, "插甸", may=lambda action: True)   # → [Hit(kind="village", …), …]

Each kind registers a finder (`@searchable("grid", "view_map")`) that returns at most
`limit` hits inside the caller's policy.Scope, with where the map should go (its extent in
lon/lat). The map's search box asks /api/search; a new kind (households, people…) is one
more finder here and nothing else. Core: no Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from gridmap import geo, lifecycle
from gridmap.errors import BadInput, Message, _
from gridmap.models import Grid, Issue, Region
from gridmap.policy import Scope

MAX_QUERY = 50
LIMIT = 10  # hits per kind


@dataclass(frozen=True)
class Hit:
    """One thing found: what it is, its code and name, what it lies in, where it is."""

    kind: str
    code: str
    name: str
    context: str | Message | None  # what it lies in, or (an issue) its stage
    bbox: tuple[float, float, float, float] | None  # west, south, east, north (lon/lat)

    def shifted(self, crs: str) -> Hit:
        """The hit with its extent as drawn on a `crs` basemap (gridmap.geo)."""
        if self.bbox is None:
            return self
        west, south = geo.shift_lonlat(self.bbox[0], self.bbox[1], crs)
        east, north = geo.shift_lonlat(self.bbox[2], self.bbox[3], crs)
        return replace(self, bbox=(west, south, east, north))

    def as_dict(self, gettext: Callable[[str], str]) -> dict:
        """The hit as JSON; `bounds` in Leaflet's [[south, west], [north, east]] order."""
        bounds = None
        if self.bbox is not None:
            west, south, east, north = self.bbox
            bounds = [[south, west], [north, east]]
        return {"kind": self.kind, "code": self.code, "name": self.name,
                "context": (self.context.translate(gettext) if isinstance(self.context, Message)
                            else self.context), "bounds": bounds}


Finder = Callable[[Session, Scope, str, int], list[Hit]]


@dataclass(frozen=True)
class SearchKind:
    """A registered kind of hit: its key, who may see it, its finder."""

    key: str
    action: str  # the policy action a role needs for hits of this kind
    find: Finder


SEARCHABLE: dict[str, SearchKind] = {}


def searchable(key: str, action: str) -> Callable[[Finder], Finder]:
    """Register a finder for hits of kind `key`, shown to roles allowed `action`."""
    def register(find: Finder) -> Finder:
        SEARCHABLE[key] = SearchKind(key, action, find)
        return find
    return register


def _bbox(geom):
    return (func.ST_XMin(geom), func.ST_YMin(geom), func.ST_XMax(geom), func.ST_YMax(geom))


def _hits(kind: str, rows) -> list[Hit]:
    return [Hit(kind, code, name, context,
                None if west is None else (west, south, east, north))
            for code, name, context, west, south, east, north in rows]


def _matches(code_column, name_column, text: str):
    return or_(code_column.startswith(text, autoescape=True),
               name_column.icontains(text, autoescape=True))


@searchable("region", "view_map")
def find_regions(session: Session, scope: Scope, text: str, limit: int) -> list[Hit]:
    """Townships and villages (and the county) in scope by name or code."""
    parent = aliased(Region)
    parent_name = (select(parent.name)
                   .where(parent.county_code == Region.county_code,
                          parent.code == Region.parent_code, parent.current())
                   .limit(1).scalar_subquery())
    rows = session.execute(
        select(Region.code, Region.name, parent_name, *_bbox(Region.geom))
        .where(scope.regions(), Region.county_code == scope.county_code, Region.current(),
               _matches(Region.code, Region.name, text))
        .order_by(func.length(Region.code), Region.code).limit(limit * 3)).all()
    # Ancestors are drawn for orientation, not searched: only what the scope holds.
    return _hits("region", [row for row in rows if not scope.is_context(row[0])][:limit])


@searchable("grid", "view_map")
def find_grids(session: Session, scope: Scope, text: str, limit: int) -> list[Hit]:
    """Grids in scope by name or code, with their village's name."""
    rows = session.execute(
        select(Grid.code, Grid.name, Region.name, *_bbox(Grid.geom))
        .outerjoin(Region, (Region.county_code == Grid.county_code)
                   & (Region.code == Grid.village_code) & Region.current())
        .where(scope.grids(), Grid.county_code == scope.county_code, Grid.current(),
               _matches(Grid.code, Grid.name, text))
        .order_by(Grid.code).limit(limit)).all()
    return _hits("grid", rows)


@searchable("issue", "view_issues")
def find_issues(session: Session, scope: Scope, text: str, limit: int) -> list[Hit]:
    """Issues in scope by code (the title is personal enough to stay out of search)."""
    rows = session.execute(
        select(Issue.code, Issue.code, Issue.status, *_bbox(Issue.geom))
        .where(scope.issues(), Issue.county_code == scope.county_code,
               Issue.merged_into.is_(None), Issue.code.startswith(text.upper(), autoescape=True))
        .order_by(Issue.code.desc()).limit(limit)).all()
    return [Hit(hit.kind, hit.code, hit.name,
                lifecycle.STATUS_LABELS.get(hit.context),
                hit.bbox) for hit in _hits("issue", rows)]


def search(session: Session, scope: Scope, text: str, may: Callable[[str], bool],
           kinds: tuple[str, ...] | None = None, limit: int = LIMIT) -> list[Hit]:
    """Hits for `text` of every registered kind (or of `kinds`) the caller `may` see."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY:
        raise BadInput(_("搜索词最长 %(n)s 个字", n=MAX_QUERY), field="q")
    unknown = [kind for kind in kinds or () if kind not in SEARCHABLE]
    if unknown:
        raise BadInput(_("kind 应是 %(choices)s 之一", choices=", ".join(SEARCHABLE)),
                       field="kind")
    hits: list[Hit] = []
    if not text:  # nothing asked, nothing found (the box sends nothing empty)
        return hits
    for key in kinds or tuple(SEARCHABLE):
        kind = SEARCHABLE[key]
        if may(kind.action):
            hits += kind.find(session, scope, text, limit)
    return hits
