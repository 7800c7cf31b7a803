"""One search over what a user may see: a registry of searchable kinds.

    search(session, scope, "插甸", may=lambda action: True)   # → [Hit(kind="village", …), …]

Each kind registers a finder (`@searchable("grid", "view_map")`) that returns at most
`limit` hits inside the caller's policy.Scope, with where the map should go (its extent in
lon/lat). The map's search box asks /api/search; a new kind is one more finder here and
nothing else. Text is matched as a substring (Chinese names have no word boundaries), with %
and _ escaped; every finder has a LIMIT. Core: no Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from gridmap import geo, lifecycle, people, privacy
from gridmap.errors import BadInput, Message, _
from gridmap.models import Cadre, Grid, Household, Issue, Region, Unit
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
    """Issues in scope by code, or by a part of their title (shown as the hit's name: whoever
    may search issues reads their titles in the queue)."""
    rows = session.execute(
        select(Issue.code, Issue.title, Issue.status, *_bbox(Issue.geom))
        .where(scope.issues(), Issue.county_code == scope.county_code,
               Issue.merged_into.is_(None),
               or_(Issue.code.startswith(text.upper(), autoescape=True),
                   Issue.title.icontains(text, autoescape=True)))
        .order_by(Issue.code.desc()).limit(limit)).all()
    return [Hit(hit.kind, hit.code, hit.name,
                lifecycle.STATUS_LABELS.get(hit.context),
                hit.bbox) for hit in _hits("issue", rows)]


def _households(session: Session, scope: Scope, condition, limit: int) -> list[Hit]:
    """Households on the register in scope matching `condition`: the head's name masked (the
    one who typed it knows it; whoever looks over their shoulder need not), the village as
    context, the point (else the grid) as where to go."""
    village = (select(Region.name).where(
        Region.county_code == Household.county_code, Region.code == Household.village_code,
        Region.current()).limit(1).scalar_subquery())
    place = func.coalesce(Household.geom, Grid.geom)
    rows = session.execute(
        select(Household.code, Household.head_name, village, *_bbox(place))
        .outerjoin(Grid, (Grid.county_code == Household.county_code)
                   & (Grid.code == Household.grid_code) & Grid.current())
        .where(scope.households(), condition)
        .order_by(Household.code).limit(limit)).all()
    return [Hit("household", code, privacy.mask_name(name), context,
                None if west is None else (west, south, east, north))
            for code, name, context, west, south, east, north in rows]


@searchable("household", "view_households")
def find_households(session: Session, scope: Scope, text: str, limit: int) -> list[Hit]:
    """Households in scope by code, by a part of the head's name, or by the phone's last
    four (or more) digits."""
    tail = [Household.phone.endswith(text, autoescape=True)] if (
        text.isdigit() and len(text) >= 4) else []
    return _households(session, scope, or_(
        Household.code.startswith(text, autoescape=True),
        Household.head_name.contains(text, autoescape=True), *tail), limit)


@searchable("address", "log_visit")
def find_households_by_address(session: Session, scope: Scope, text: str,
                               limit: int) -> list[Hit]:
    """Households in scope by a part of their address: only for the roles that visit (an
    address is shown to no one else, gridmap.privacy)."""
    return _households(session, scope, Household.address.contains(text, autoescape=True), limit)


@searchable("cadre", "view_coverage")
def find_cadres(session: Session, scope: Scope, text: str, limit: int) -> list[Hit]:
    """Cadres in post the scope manages (gridmap.people) by name, code or unit name; the
    unit as context."""
    rows = session.execute(
        select(Cadre.code, Cadre.name, Unit.name)
        .outerjoin(Unit, Unit.id == Cadre.unit_id)
        .where(people.cadre_scope(scope), Cadre.active,
               or_(Cadre.code.startswith(text, autoescape=True),
                   Cadre.name.contains(text, autoescape=True),
                   Unit.name.contains(text, autoescape=True)))
        .order_by(Cadre.code).limit(limit)).all()
    return [Hit("cadre", code, name, unit, None) for code, name, unit in rows]


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
    unique: dict[tuple[str, str], Hit] = {}  # a household found by name and by address: once
    for hit in hits:
        unique.setdefault((hit.kind, hit.code), hit)
    return list(unique.values())
