"""Checks of shapes against each other, run in the database after the rows are written
(inside the import's savepoint, so a refusal leaves nothing behind):

* grids of one village that overlap (area in m² and where) — a problem;
* a grid outside its village, a village outside its township, a township outside the
  county (the part outside, in m², and where) — a problem;
* uncovered land inside a village that has grids (a gap: area and where) — noted;
* overlaps, gaps and overhangs under `SLIVER_M2` or thinner than `SLIVER_WIDTH_M` — slivers,
  noted with their count;
* households whose point lies in no grid — kept without a grid (coverage gaps), listed.

Areas are geodesic (geography), so m² are m² at any latitude.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from gridmap import codes, generations
from gridmap.errors import Message, _
from gridmap.importers.report import ImportReport, Problem

SLIVER_M2 = 50.0  # smaller pieces are digitising noise, not a second grid or a missed field
SLIVER_WIDTH_M = 1.0  # so are long strips narrower than this along a shared edge (mean width)
LISTED = 20  # households outside every grid named in the report (the rest counted)

OVERLAPS = text("""
    SELECT a.code, b.code, ST_Area(x::geography) AS m2, ST_Perimeter(x::geography), ST_X(ST_PointOnSurface(x)), ST_Y(ST_PointOnSurface(x)),
           ST_AsGeoJSON(x, 7)
    FROM grid a JOIN grid b ON a.village_code = b.village_code AND a.code < b.code
         AND b.county_code = a.county_code AND b.valid_to IS NULL AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS x
    WHERE a.county_code = :c AND a.valid_to IS NULL AND a.village_code IN :villages AND NOT ST_IsEmpty(x)
    ORDER BY a.code, b.code""").bindparams(bindparam("villages", expanding=True))
GAPS = text("""
    SELECT v.code, ST_Area(piece.geom::geography), ST_Perimeter(piece.geom::geography), ST_X(ST_PointOnSurface(piece.geom)),
           ST_Y(ST_PointOnSurface(piece.geom)), ST_AsGeoJSON(piece.geom, 7)
    FROM region v
    CROSS JOIN LATERAL (SELECT ST_Union(g.geom) AS geom FROM grid g
                        WHERE g.county_code = v.county_code AND g.village_code = v.code
                          AND g.valid_to IS NULL) AS covered
    CROSS JOIN LATERAL ST_Dump(ST_CollectionExtract(ST_Difference(v.geom, covered.geom), 3)) AS piece
    WHERE v.county_code = :c AND v.valid_to IS NULL AND v.code IN :villages AND covered.geom IS NOT NULL
      AND v.geom IS NOT NULL
    ORDER BY v.code""").bindparams(bindparam("villages", expanding=True))
OUTSIDE = text("""
    WITH child AS (
        SELECT 'grid' AS kind, g.code, g.village_code AS parent_code, g.geom FROM grid g
        WHERE g.county_code = :c AND g.valid_to IS NULL AND g.village_code IN :villages
        UNION ALL
        SELECT 'region', r.code, r.parent_code, r.geom FROM region r
        WHERE r.county_code = :c AND r.valid_to IS NULL AND r.parent_code IS NOT NULL AND r.code IN :regions)
    SELECT child.kind, child.code, child.parent_code, ST_Area(x::geography), ST_Perimeter(x::geography),
           ST_X(ST_PointOnSurface(x)), ST_Y(ST_PointOnSurface(x)), ST_AsGeoJSON(x, 7)
    FROM child JOIN region p ON p.code = child.parent_code AND p.county_code = :c AND p.valid_to IS NULL
    CROSS JOIN LATERAL ST_CollectionExtract(ST_Difference(child.geom, p.geom), 3) AS x
    WHERE child.geom IS NOT NULL AND p.geom IS NOT NULL AND NOT ST_IsEmpty(x)
    ORDER BY child.kind, child.code""").bindparams(
    bindparam("villages", expanding=True), bindparam("regions", expanding=True))
# Looked up among the households kept outside their grid (migration 0030's triggers keep every
# household without a grid there): a few hundred rows by primary key, where a look-up by code
# scanned the whole table once a batch while a first load has dropped household's code index.
OUTSIDE_GRIDS = text("""
    SELECT code, ST_AsGeoJSON(geom, 6) FROM household
    WHERE id = ANY(ARRAY(SELECT household_id FROM household_outside_grid WHERE county_code = :c))
      AND county_code = :c AND grid_code IS NULL AND geom IS NOT NULL AND code = ANY(:codes)
    ORDER BY code""")


@dataclass(frozen=True)
class Finding:
    """One piece where shapes disagree: `kind` 'overlap' (grids `a` and `b`), 'outside' (`a`
    outside its parent `b`) or 'gap' (uncovered land of village `a`); where it is (GeoJSON)."""
    kind: str
    a: str
    b: str | None
    m2: float
    perimeter_m: float
    lon: float
    lat: float
    geojson: str

    @property
    def sliver(self) -> bool:
        """Too small or thin to be anything but tracing noise (ignored, as in an import)."""
        return sliver(self.m2, self.perimeter_m)

    @property
    def message(self) -> Message:
        """What is wrong, where (the words of the import report and of the grid editor)."""
        m2, at = f"{self.m2:.0f}", _at(self.lon, self.lat)
        if self.kind == "overlap":
            return _("网格 %(a)s 与 %(b)s 重叠 %(m2)s m²（约在 %(at)s）", a=self.a, b=self.b, m2=m2, at=at)
        if self.kind == "outside":
            return _("%(code)s 有 %(m2)s m² 在上级 %(parent)s 的边界之外（约在 %(at)s）",
                     code=self.a, m2=m2, parent=self.b, at=at)
        return _("村 %(village)s 有 %(m2)s m² 不在任何网格内（约在 %(at)s）：网格空白",
                 village=self.a, m2=m2, at=at)

    @property
    def hint(self) -> Message:
        """What to do about it."""
        if self.kind == "overlap":
            return _("同一村的网格不能重叠：在 GIS 软件中沿公共边重新描画（如 QGIS「拓扑检查」）")
        if self.kind == "outside":
            return _("检查代码是否填错了上级，或沿上级边界裁剪图形")
        return _("补画网格，或调整相邻网格的边界覆盖这块空白")


def findings(connection: Connection, county_code: str, villages: list[str], regions: list[str] = (),
             grid_villages: list[str] | None = None):
    """Overlaps of grids, grids (of `grid_villages`, by default the same villages) and
    `regions` outside their parent, and gaps, in these villages."""
    params = {"c": county_code, "villages": list(villages) or [""]}
    outside = {"c": county_code, "regions": list(regions) or [""],
               "villages": list(villages if grid_villages is None else grid_villages) or [""]}
    for a, b, *rest in connection.execute(OVERLAPS, params):
        yield Finding("overlap", a, b, *rest)
    for _kind, code, parent, *rest in connection.execute(OUTSIDE, outside):
        yield Finding("outside", code, parent, *rest)
    for village, *rest in connection.execute(GAPS, params):
        yield Finding("gap", village, None, *rest)


def check_shapes(connection: Connection, batch, county_code: str, report: ImportReport) -> None:
    """File the problems and notes above for what this import wrote (`batch`: spec, source, rows)."""
    files = {spec.table: (source, rows) for spec, source, rows in batch}
    where = {(spec.table, row.get("code")): (source.name, row["_where"])
             for spec, source, rows in batch if spec.table in ("grid", "region") for row in rows}
    villages = {row["village_code"] for row in files.get("grid", (None, []))[1]}
    villages |= {row["code"] for row in files.get("region", (None, []))[1] if row["level"] == "village"}
    regions = [row["code"] for row in files.get("region", (None, []))[1]]
    if "grid" not in files and "region" not in files:
        return
    shapes_file = (files.get("grid") or files["region"])[0].name
    # Grids are checked against their village here when they are in the file; the grids of a
    # redrawn village are checked with its other children (check_children).
    grid_villages = sorted({row["village_code"] for row in files.get("grid", (None, []))[1]})
    slivers = 0
    for finding in findings(connection, county_code, sorted(villages), regions, grid_villages):
        if finding.sliver:
            slivers += 1
            continue
        if finding.kind == "gap":
            report.note(shapes_file, finding.message)
        else:
            kind = "grid" if finding.kind == "overlap" or codes.is_grid_code(finding.a) else "region"
            source, place = (where.get((kind, finding.a)) or where.get((kind, finding.b))
                             or (kind, ""))
            report.add(Problem(source, place, "geometry", finding.message, finding.hint))
        report.mark(finding.kind, finding.geojson, finding.message)  # the upload page's map
    if slivers:
        report.note(next(iter(files.values()))[0].name, _("%(count)s 处细碎重叠/缝隙（小于 %(limit)s m² 或窄于 %(width)s m）已忽略，多为描图误差",
                                   count=slivers, limit=f"{SLIVER_M2:g}", width=f"{SLIVER_WIDTH_M:g}"))


def sliver(m2: float, perimeter_m: float) -> bool:
    """A piece too small or too thin to be anything but the noise of tracing the same edge twice."""
    return m2 < SLIVER_M2 or (perimeter_m > 0 and 2 * m2 / perimeter_m < SLIVER_WIDTH_M)


def _at(lon: float, lat: float) -> str:
    return f"{lon:.5f}, {lat:.5f}"


CHILD_LABELS = {"region": _("区划"), "grid": _("网格"), "household": _("住户")}


def check_children(connection: Connection, batch, county_code: str, redrawn: list[str], report: ImportReport) -> None:
    """The children of redrawn regions (regions under them not in this file, their grids, their
    households) that the new shape leaves out: problems of the redrawn region's row."""
    files = {spec.table: (source, rows) for spec, source, rows in batch}
    source, rows = files.get("region", (None, []))
    in_file = {row["code"] for row in rows}
    where = {row["code"]: row["_where"] for row in rows}
    slivers = 0
    for child in generations.children_outside(connection, county_code, redrawn):
        if child.kind == "region" and child.code in in_file:
            continue  # checked against its parent with the file's rows (_outside)
        if child.kind != "household" and sliver(child.m2, child.perimeter_m):
            slivers += 1
            continue
        what = CHILD_LABELS[child.kind]
        problem = _("%(what)s %(code)s 在上级 %(parent)s 的新边界之外（约在 %(at)s）", what=what, code=child.code,
                    parent=child.parent_code, at=_at(*child.lonlat)) if child.kind == "household" else \
            _("%(what)s %(code)s 有 %(m2)s m² 在上级 %(parent)s 的新边界之外（约在 %(at)s）", what=what,
              code=child.code, m2=f"{child.m2:.0f}", parent=child.parent_code, at=_at(*child.lonlat))
        report.add(Problem(source.name if source else "region", where.get(child.parent_code, ""), "geometry", problem,
                           _("新边界应包含原有的下级：检查新边界是否画错，或先把这些%(what)s改划到其他上级再导入",
                             what=what)))
        if report.full:
            return
    if slivers:
        report.note(source.name if source else "region",
                    _("%(count)s 处细碎重叠/缝隙（小于 %(limit)s m² 或窄于 %(width)s m）已忽略，多为描图误差",
                      count=slivers, limit=f"{SLIVER_M2:g}", width=f"{SLIVER_WIDTH_M:g}"))


def households_outside_grids(connection, county_code, rows, report: ImportReport,
                             found: list[tuple[str, str]] | None = None) -> list[str]:
    """Codes of these (just written) households whose point lies in no grid (each marked
    on the report's map); `found`: those households (code, GeoJSON point) as their write
    gave them, else they are looked up."""
    codes = [row["code"] for row in rows if row.get("_geom") is not None]
    if not codes:
        return []
    outside = []
    if found is None:
        found = connection.execute(OUTSIDE_GRIDS, {"c": county_code, "codes": codes}).all()
    for code, point in found:
        outside.append(code)
        report.mark("household_outside", point, _("住户 %(code)s 不在任何网格内", code=code))
    return outside


def note_households_outside(report: ImportReport, name: str, outside: list[str]) -> None:
    """List households outside every grid: kept without a grid (coverage gaps)."""
    outside = sorted(outside)
    shown = ", ".join(outside[:LISTED])
    report.note(name, _("%(count)s 户的位置不在任何网格内，已导入但未划入网格（覆盖空白）：%(codes)s",
                        count=len(outside), codes=shown + (" …" if len(outside) > LISTED else "")))
