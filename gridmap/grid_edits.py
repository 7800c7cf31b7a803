"""Redrawing grids by hand (画网格、拆分、合并、调整公共边), as the upkeep map page asks.

Each edit is turned into new shapes in PostGIS (split = ST_Split by the drawn line, merge =
ST_Union, a shared edge = the two neighbours' union split by the new edge, a new grid = the
drawn polygon), written through the one generation-replace service (gridmap.generations:
old rows end, new ones start at the same instant, households and open issues re-attached),
and checked exactly as an import is (gridmap.importers.topology: inside the village, no
overlap, no new gap, no slivers), all inside a savepoint. A preview rolls the savepoint back
and shows what would be wrong and who would move; a save keeps it only when nothing is.

Core only: a Session and a user in, an `Outcome` out; no Flask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import bindparam, text

from gridmap import assignments, audit, codes, generations, geo, settings
from gridmap.errors import BadInput, Forbidden, Message, NotFound, _
from gridmap.importers import topology
from gridmap.policy import Scope, allowed

OPERATIONS = ("draw", "split", "merge", "edge")
LABELS = {"draw": _("画网格"), "split": _("拆分"), "merge": _("合并"), "edge": _("调整公共边")}
MAX_VERTICES = 5000  # a hand-drawn line or polygon; more is not drawn by hand
MIN_SHARED_EDGE_M = 1.0  # neighbours share at least this much boundary (touching corners do not)

_GRID = text("""
    SELECT code, village_code, name, ST_AsBinary(geom), ST_NumGeometries(geom) FROM grid
    WHERE county_code = :c AND valid_to IS NULL AND code = :code""")
_LOCK_VILLAGE = text("""
    SELECT id FROM grid WHERE county_code = :c AND village_code = :v AND valid_to IS NULL
    ORDER BY id FOR UPDATE""")
_SPLIT = text("""
    SELECT ST_AsBinary(piece.geom) FROM ST_Dump(ST_CollectionExtract(ST_Split(
        ST_GeomFromWKB(:shape, 4326), ST_GeomFromWKB(:line, 4326)), 3)) AS piece
    ORDER BY ST_Area(piece.geom::geography) DESC""")
_SHARED_EDGE_M = text("""
    SELECT ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom)), 2)::geography)
    FROM grid a, grid b WHERE a.county_code = :c AND b.county_code = :c AND a.valid_to IS NULL
      AND b.valid_to IS NULL AND a.code = :a AND b.code = :b""")
_UNION = text("""
    SELECT ST_AsBinary(ST_UnaryUnion(ST_Collect(geom))) FROM grid
    WHERE county_code = :c AND valid_to IS NULL AND code IN :codes""").bindparams(
    bindparam("codes", expanding=True))
_UNCOVERED = text("""
    SELECT ST_AsBinary(ST_Difference(v.geom, COALESCE(
        (SELECT ST_Union(g.geom) FROM grid g WHERE g.county_code = v.county_code
           AND g.village_code = v.code AND g.valid_to IS NULL), ST_GeomFromText('POLYGON EMPTY', 4326))))
    FROM region v WHERE v.county_code = :c AND v.code = :v AND v.valid_to IS NULL""")
_VILLAGE = text("""
    SELECT name FROM region WHERE county_code = :c AND code = :v AND level = 'village'
      AND valid_to IS NULL""")
_WRITE_REPLACED = text("""
    INSERT INTO grid (county_code, code, village_code, name, kind, household_target, geom, valid_from)
    SELECT county_code, code, village_code, name, kind, household_target,
           ST_Multi(ST_GeomFromWKB(:shape, 4326)), :at
    FROM grid WHERE county_code = :c AND code = :code AND valid_to = :at""")
_WRITE_NEW = text("""
    INSERT INTO grid (county_code, code, village_code, name, geom, valid_from)
    VALUES (:c, :code, :v, :name, ST_Multi(ST_GeomFromWKB(:shape, 4326)), COALESCE(:at, clock_timestamp()))""")
# Households and open issues known only by their grid (no point) follow a grid merged away.
_FOLLOW_MERGED = """
    UPDATE {table} SET grid_code = :keeper WHERE county_code = :c AND grid_code = :gone
      AND geom IS NULL {only} RETURNING code"""
_TAKEN_CODES = text("SELECT DISTINCT code FROM grid WHERE county_code = :c AND village_code = :v")


@dataclass(frozen=True)
class Problem:
    """Why an edit cannot be saved (`kind`: overlap, outside, gap, sliver), and where (a shape,
    drawn in red)."""
    kind: str
    message: Message
    where: BaseGeometry | None = None


@dataclass
class Proposal:
    """The shapes an edit would write: `shapes` by code (redrawn or new), `end` (merged away)."""
    operation: str
    village_code: str
    shapes: dict[str, BaseGeometry]
    end: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)  # of new codes


@dataclass
class Outcome:
    """What an edit did (saved) or would do (preview): its problems, shapes and moves."""
    proposal: Proposal
    problems: list[Problem]
    moved: list[generations.Moved]
    saved: bool = False
    duties: list[assignments.Followed] = field(default_factory=list)  # 包组 of a grid merged away

    @property
    def ok(self) -> bool:
        """Nothing wrong: it may be (or was) saved."""
        return not self.problems


def edit(session, actor, data: dict, *, crs: str = "wgs84", save: bool = False) -> Outcome:
    """Preview (`save` False) or save one edit. `data`: `operation` (draw, split, merge, edge),
    `grids` (codes), `line` or `polygon` (GeoJSON geometry in the basemap's `crs`),
    `village_code` and `name` for a drawn grid. BadInput for an edit that cannot even be
    drawn (a line that does not cut a grid in two, grids not adjacent …), naming the field."""
    if not allowed(actor.role, "edit_grids"):
        raise Forbidden(_("您的角色不能修改网格"))
    scope = Scope.of_user(actor)
    connection = session.connection()
    operation = data.get("operation")
    if operation not in OPERATIONS:
        raise BadInput(_("operation 应是 %(choices)s 之一", choices=", ".join(OPERATIONS)),
                       field="operation")
    savepoint = connection.begin_nested()
    try:
        proposal = _PROPOSE[operation](connection, scope, data, crs)
        if save:  # one edit of a village at a time; drawn again on the shapes as they now are
            connection.execute(_LOCK_VILLAGE, {"c": scope.county_code, "v": proposal.village_code})
            proposal = _PROPOSE[operation](connection, scope, data, crs)
        outcome = _apply(connection, actor, proposal)
        if save and outcome.ok:
            geo.refresh_display_shapes(connection, scope.county_code)
            audit.record(session, actor, "grid_change", f"grid:{','.join(sorted(proposal.shapes))}", {
                "operation": operation, "village": proposal.village_code,
                "redrawn": sorted(proposal.shapes), "ended": list(proposal.end),
                "moved": [[m.table, m.code, m.before, m.after] for m in outcome.moved],
                "duties": [[d.unit_code, d.before, d.after] for d in outcome.duties]})
            savepoint.commit()
            outcome.saved = True
        else:
            savepoint.rollback()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    return outcome


def _apply(connection, actor, proposal: Proposal) -> Outcome:
    """Write the proposal through the generation service, then check it as an import is."""
    county_code = actor.county_code
    before = _uncovered(connection, county_code, proposal.village_code)
    names = proposal.names

    def write_new(replaced: list[str], at) -> None:
        for code, shape in proposal.shapes.items():
            params = {"c": county_code, "code": code, "shape": shapely.to_wkb(shape), "at": at}
            if code in replaced:
                connection.execute(_WRITE_REPLACED, params)
            elif code in names:
                connection.execute(_WRITE_NEW, {**params, "v": proposal.village_code, "name": names[code]})

    change = generations.replace_shapes(connection, "grid", county_code, proposal.shapes, write_new,
                                        end=proposal.end)
    moved = list(change.moved)
    if proposal.operation == "merge":
        keeper = next(iter(proposal.shapes))
        for table, only in (("household", ""), ("issue", f"AND {generations.OPEN_ISSUE}")):
            for (code,) in connection.execute(text(_FOLLOW_MERGED.format(table=table, only=only)), {
                    "c": county_code, "keeper": keeper, "gone": proposal.end[0]}):
                moved.append(generations.Moved(table, code, proposal.end[0], keeper))
        duties = assignments.follow_merged_grid(connection, actor, county_code, proposal.end[0], keeper)
    else:
        duties = []
    moved.sort(key=lambda m: (m.table, m.code))
    return Outcome(proposal, _problems(connection, county_code, proposal, before), moved,
                   duties=duties)


def _problems(connection, county_code: str, proposal: Proposal, before: BaseGeometry) -> list[Problem]:
    edited = set(proposal.shapes)
    problems = [Problem("sliver", _("网格 %(code)s 有一块 %(m2)s m² 太小或太窄（细碎图形）", code=code,
                          m2=f"{geo.area_m2(part):.0f}"), part)
                for code, shape in proposal.shapes.items() for part in getattr(shape, "geoms", [shape])
                if topology.sliver(geo.area_m2(part), _perimeter_m(part))]
    for finding in topology.findings(connection, county_code, [proposal.village_code]):
        where = shapely.from_geojson(finding.geojson)
        if finding.sliver:
            continue
        if finding.kind == "gap":
            new = where.difference(before)
            if not new.is_empty and not topology.sliver(geo.area_m2(new), _perimeter_m(new)):
                at = new.representative_point()
                problems.append(Problem("gap", _("会新出现 %(m2)s m² 不在任何网格内的空白（约在 %(at)s）",
                                          m2=f"{geo.area_m2(new):.0f}", at=f"{at.x:.5f}, {at.y:.5f}"), new))
        elif finding.a in edited or finding.b in edited:
            problems.append(Problem(finding.kind, finding.message, where))
    return problems


def _perimeter_m(shape: BaseGeometry) -> float:
    """Perimeter in metres of a small lon/lat shape (as geo.area_m2: scaled at its latitude)."""
    scale = 111_320.0
    lat = shape.centroid.y if not shape.is_empty else 0.0
    x_scale = scale * math.cos(math.radians(lat))
    scaled = shapely.transform(shape, lambda xy: xy * [x_scale, scale])
    return scaled.length


def _uncovered(connection, county_code: str, village_code: str) -> BaseGeometry:
    wkb = connection.execute(_UNCOVERED, {"c": county_code, "v": village_code}).scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else shapely.Polygon()


# --- turning a drawn line or polygon into shapes -------------------------------------------


def _grid(connection, scope: Scope, code, field_name: str = "grids"):
    """(code, village_code, name, shape, parts) of a current grid in the user's scope."""
    row = connection.execute(_GRID, {"c": scope.county_code, "code": code}).first() \
        if isinstance(code, str) else None
    if row is None or not _in_scope(scope, row[1]):
        raise NotFound(_("网格 %(code)s 不存在或不在您的范围内", code=str(code)[:40]), field=field_name)
    return row[0], row[1], row[2], shapely.from_wkb(bytes(row[3])), row[4]


def _in_scope(scope: Scope, village_code: str) -> bool:
    """Grids are redrawn by whole villages of the user's region (never a grid worker's or a
    cadre's scope, which the policy never lets edit)."""
    return (scope.region_code is not None and scope.cadre_id is None and scope.grid_code is None
            and codes.is_within(village_code, scope.region_code))


def _codes(data: dict, count: int) -> list[str]:
    grids = data.get("grids")
    if not isinstance(grids, list) or len(grids) != count or len(set(map(str, grids))) != count:
        raise BadInput(_("grids 应列出 %(n)s 个不同的网格代码", n=count), field="grids")
    return grids


def _drawn(data: dict, name: str, kind: str, crs: str) -> BaseGeometry:
    """The drawn line or polygon (GeoJSON in the basemap's datum), as WGS84 lon/lat."""
    allowed = {"line": ("LineString",), "polygon": ("Polygon",)}[kind]
    try:
        shape = geo.geometry_from_geojson(data.get(name))
        geo.check_geometry(shape, allowed)
    except geo.GeometryProblem as problem:
        raise BadInput(problem.message, field=name) from problem
    if shapely.get_num_coordinates(shape) > MAX_VERTICES:
        raise BadInput(_("%(field)s 的顶点超过 %(n)s 个", field=name, n=MAX_VERTICES), field=name)
    return geo.unshift_geometry(shape, crs) if crs != "wgs84" else shape


def _split(connection, shape: BaseGeometry, line: BaseGeometry) -> list[BaseGeometry]:
    """The pieces of `shape` cut by `line`, largest first (ST_Split)."""
    return [shapely.from_wkb(bytes(wkb)) for (wkb,) in connection.execute(
        _SPLIT, {"shape": shapely.to_wkb(shape), "line": shapely.to_wkb(line)})]


def _new_code(connection, county_code: str, village_code: str) -> str:
    taken = connection.execute(_TAKEN_CODES, {"c": county_code, "v": village_code}).scalars().all()
    values = settings.all(connection, county_code)
    return codes.next_grid_code(village_code, taken, values["grid_code.scheme"],
                                serial_digits=values["grid_code.serial_digits"])


def _default_name(connection, county_code: str, village_code: str, code: str) -> str:
    village = connection.execute(_VILLAGE, {"c": county_code, "v": village_code}).scalar() or village_code
    return f"{village}第{int(code[len(village_code):])}网格" if code.startswith(village_code) else code


def _name(data: dict, connection, county_code: str, village_code: str, code: str) -> str:
    name = data.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        return _default_name(connection, county_code, village_code, code)
    if not isinstance(name, str) or len(name.strip()) > 100:
        raise BadInput(_("name 应是不超过 100 字的文字"), field="name")
    return name.strip()


def _propose_split(connection, scope: Scope, data: dict, crs: str) -> Proposal:
    (code,) = _codes(data, 1)
    code, village, _name_, shape, parts = _grid(connection, scope, code)
    line = _drawn(data, "line", "line", crs)
    if parts != 1:
        raise BadInput(_("网格 %(code)s 由 %(n)s 块组成，只能拆分由一块组成的网格", code=code, n=parts),
                       field="grids")
    pieces = _split(connection, shape, line)
    if len(pieces) != 2:
        raise BadInput(_("这条线把网格切成了 %(n)s 块，应正好切成两块：线要从网格一侧之外画到另一侧之外",
                         n=len(pieces)), field="line")
    larger, smaller = pieces
    new = _new_code(connection, scope.county_code, village)
    return Proposal("split", village, {code: larger, new: smaller},
                    names={new: _name(data, connection, scope.county_code, village, new)})


def _pair(connection, scope: Scope, data: dict):
    a, b = (_grid(connection, scope, code) for code in _codes(data, 2))
    if a[1] != b[1]:
        raise BadInput(_("网格 %(a)s 与 %(b)s 不在同一个村（社区）", a=a[0], b=b[0]), field="grids")
    shared = connection.execute(_SHARED_EDGE_M, {"c": scope.county_code, "a": a[0], "b": b[0]}).scalar()
    if not shared or shared < MIN_SHARED_EDGE_M:
        raise BadInput(_("网格 %(a)s 与 %(b)s 不相邻（没有公共边）", a=a[0], b=b[0]), field="grids")
    union = shapely.from_wkb(bytes(connection.execute(
        _UNION, {"c": scope.county_code, "codes": [a[0], b[0]]}).scalar()))
    return a, b, union


def _propose_merge(connection, scope: Scope, data: dict, crs: str) -> Proposal:
    a, b, union = _pair(connection, scope, data)
    return Proposal("merge", a[1], {a[0]: union}, end=(b[0],))


def _propose_edge(connection, scope: Scope, data: dict, crs: str) -> Proposal:
    a, b, union = _pair(connection, scope, data)
    line = _drawn(data, "line", "line", crs)
    pieces = _split(connection, union, line)
    if len(pieces) != 2:
        raise BadInput(_("这条线把两个网格合起来的范围切成了 %(n)s 块，应正好切成两块：新的公共边两端要画到两个网格之外",
                         n=len(pieces)), field="line")
    first, second = pieces
    if first.intersection(a[3]).area < second.intersection(a[3]).area:
        first, second = second, first
    return Proposal("edge", a[1], {a[0]: first, b[0]: second})


def _propose_draw(connection, scope: Scope, data: dict, crs: str) -> Proposal:
    village = data.get("village_code")
    if not (isinstance(village, str) and codes.level_of(village, field="village_code") == "village"
            and _in_scope(scope, village)
            and connection.execute(_VILLAGE, {"c": scope.county_code, "v": village}).first()):
        raise NotFound(_("村（社区）%(code)s 不存在或不在您的范围内", code=str(village)[:40]),
                       field="village_code")
    shape = _drawn(data, "polygon", "polygon", crs)
    new = _new_code(connection, scope.county_code, village)
    return Proposal("draw", village, {new: shape},
                    names={new: _name(data, connection, scope.county_code, village, new)})


_PROPOSE = {"draw": _propose_draw, "split": _propose_split, "merge": _propose_merge, "edge": _propose_edge}
