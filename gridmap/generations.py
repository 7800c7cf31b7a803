"""Boundary generations: a redrawn grid or region ends its old row and starts a new one.

The one way shapes are replaced (the importer and the upkeep pages' grid drawing both call
`replace_shapes`), as MapIt's generations: the old row keeps its shape with `valid_to` set,
the new row starts at the same instant (`valid_from`), and what points at the code keeps
pointing at it. Households and open issues whose point now lies in another grid (or in
none) are re-attached, and every move is listed; visits follow their household. When a
region is redrawn, `children_outside` names its regions, grids and households that the new
shape leaves out (the importer reports them as problems).

Core only: a SQLAlchemy connection in, a `GenerationChange` out; no Flask, no click.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import shapely
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

GENERATIONAL = ("grid", "region")
OPEN_ISSUE = "status NOT IN ('closed', 'voided', 'rejected')"

_CURRENT = "SELECT code, ST_AsBinary(geom) FROM {table} WHERE county_code = :c AND valid_to IS NULL AND code IN :codes"
_END = "UPDATE {table} SET valid_to = :at WHERE county_code = :c AND valid_to IS NULL AND code IN :codes"
_REATTACH = """
    WITH target AS (
        SELECT x.id, x.code, x.grid_code AS before, after.code AS after, after.village_code
        FROM {table} x
        LEFT JOIN LATERAL (SELECT g.code, g.village_code FROM grid g
                           WHERE g.county_code = x.county_code AND g.valid_to IS NULL
                             AND ST_Covers(g.geom, x.geom) ORDER BY g.code LIMIT 1) AS after ON true
        WHERE x.county_code = :c AND x.geom IS NOT NULL {only}
          AND (x.grid_code IN :grids OR x.village_code IN :villages))
    UPDATE {table} x SET grid_code = t.after, village_code = COALESCE(t.village_code, x.village_code)
    FROM target t WHERE x.id = t.id AND t.before IS DISTINCT FROM t.after
    RETURNING x.id, t.code, t.before, t.after"""


_CHILDREN_OUTSIDE = """
    WITH parent AS (SELECT code, geom FROM region
                    WHERE county_code = :c AND valid_to IS NULL AND code IN :codes AND geom IS NOT NULL),
    child AS (
        SELECT 'region' AS kind, r.code, r.parent_code AS parent_code, r.geom FROM region r
        WHERE r.county_code = :c AND r.valid_to IS NULL AND r.parent_code IN :codes
        UNION ALL
        SELECT 'grid', g.code, g.village_code, g.geom FROM grid g
        WHERE g.county_code = :c AND g.valid_to IS NULL AND g.village_code IN :codes
        UNION ALL
        SELECT 'household', h.code, h.village_code, h.geom FROM household h
        WHERE h.county_code = :c AND h.status = 'active' AND h.village_code IN :codes)
    SELECT child.kind, child.code, child.parent_code, ST_Area(x::geography), ST_Perimeter(x::geography),
           ST_X(ST_PointOnSurface(x)), ST_Y(ST_PointOnSurface(x))
    FROM child JOIN parent p ON p.code = child.parent_code
    CROSS JOIN LATERAL (SELECT CASE WHEN GeometryType(child.geom) = 'POINT' THEN child.geom
                        ELSE ST_CollectionExtract(ST_Difference(child.geom, p.geom), 3) END AS x) AS cut
    WHERE child.geom IS NOT NULL AND NOT ST_Covers(p.geom, child.geom) AND NOT ST_IsEmpty(x)
    ORDER BY child.kind, child.code"""


@dataclass(frozen=True)
class Outside:
    """A child (a region, grid or household) not inside its redrawn parent: the part outside
    (m², 0 for a household's point), its perimeter and a point of it (lon/lat)."""
    kind: str
    code: str
    parent_code: str
    m2: float
    perimeter_m: float
    lonlat: tuple[float, float]


def children_outside(connection: Connection, county_code: str, parents: list[str]) -> list[Outside]:
    """The current regions, grids and active households of `parents` (region codes, e.g. those a
    redraw replaced) that do not lie inside their parent's current shape."""
    if not parents:
        return []
    sql = text(_CHILDREN_OUTSIDE).bindparams(bindparam("codes", expanding=True))
    return [Outside(kind, code, parent, m2, perimeter, (lon, lat)) for kind, code, parent, m2, perimeter, lon, lat
            in connection.execute(sql, {"c": county_code, "codes": list(parents)})]


@dataclass(frozen=True)
class Moved:
    """A household or issue now in another grid (None: in no grid, a coverage gap)."""
    table: str
    code: str
    before: str | None
    after: str | None


@dataclass
class GenerationChange:
    """What one replacement did: codes redrawn, codes ended, what moved, visits that follow."""
    at: datetime | None = None
    replaced: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    visits_following: int = 0


def changed_shapes(connection: Connection, table: str, county_code: str, shapes: dict[str, object]) -> list[str]:
    """Codes whose current shape differs from `shapes[code]` (codes not current are new, not changed)."""
    if not shapes:
        return []
    sql = text(_CURRENT.format(table=table)).bindparams(bindparam("codes", expanding=True))
    current = {code: shapely.from_wkb(bytes(wkb)) for code, wkb in connection.execute(
        sql, {"c": county_code, "codes": list(shapes)}) if wkb is not None}
    return sorted(code for code, shape in shapes.items()
                  if code in current and shape is not None and not shapely.equals(current[code], shape))


def end_generation(connection: Connection, table: str, county_code: str, codes: list[str]) -> datetime | None:
    """End the current rows of `codes` now; the instant (new rows start at it), None if none."""
    if not codes:
        return None
    assert table in GENERATIONAL, table
    at = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
    connection.execute(text(_END.format(table=table)).bindparams(bindparam("codes", expanding=True)),
                       {"at": at, "c": county_code, "codes": codes})
    return at


def reattach(connection: Connection, county_code: str, grids: list[str], villages: list[str]) -> GenerationChange:
    """Households and open issues of these grids or villages, put in the grid their point now lies in."""
    change = GenerationChange()
    params = {"c": county_code, "grids": grids or [""], "villages": villages or [""]}
    household_ids = []
    for table, only in (("household", ""), ("issue", f"AND x.{OPEN_ISSUE}")):
        sql = text(_REATTACH.format(table=table, only=only)).bindparams(
            bindparam("grids", expanding=True), bindparam("villages", expanding=True))
        for row_id, code, before, after in connection.execute(sql, params):
            change.moved.append(Moved(table, code, before, after))
            if table == "household":
                household_ids.append(row_id)
    if household_ids:
        change.visits_following = connection.execute(
            text("SELECT count(*) FROM visit WHERE household_id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": household_ids}).scalar_one()
    change.moved.sort(key=lambda m: (m.table, m.code))
    return change


def replace_shapes(connection: Connection, table: str, county_code: str, shapes: dict[str, object],
                   write_new, *, end: tuple[str, ...] = ()) -> GenerationChange:
    """Replace the shapes of `table` ('grid' or 'region'): codes whose shape changed, and the codes
    in `end` (drawn away), end their current row; `write_new(replaced_codes, at)` then writes the
    new rows (the replaced ones starting at `at`); households and open issues are re-attached
    (also to grids drawn anew: they may cover a gap where households had no grid)."""
    fresh = new_codes(connection, table, county_code, shapes)
    replaced = changed_shapes(connection, table, county_code, shapes)
    at = end_generation(connection, table, county_code, sorted(set(replaced) | set(end)))
    write_new(replaced, at)
    change = GenerationChange(at, replaced, sorted(end))
    redrawn = replaced + list(end) + fresh
    if table == "grid" and redrawn:
        villages = [r[0] for r in connection.execute(text(
            "SELECT DISTINCT village_code FROM grid WHERE county_code = :c AND code IN :codes").bindparams(
            bindparam("codes", expanding=True)), {"c": county_code, "codes": redrawn})]
        moved = reattach(connection, county_code, replaced + list(end), villages)
        change.moved, change.visits_following = moved.moved, moved.visits_following
    return change


def new_codes(connection: Connection, table: str, county_code: str, shapes: dict[str, object]) -> list[str]:
    """Codes of `shapes` with a shape and no current row: drawn for the first time."""
    if not shapes:
        return []
    sql = text(f"SELECT code FROM {table} WHERE county_code = :c AND valid_to IS NULL AND code IN :codes"
               ).bindparams(bindparam("codes", expanding=True))
    current = set(connection.execute(sql, {"c": county_code, "codes": list(shapes)}).scalars())
    return sorted(code for code, shape in shapes.items() if code not in current and shape is not None)
