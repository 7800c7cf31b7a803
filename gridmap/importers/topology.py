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

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from gridmap.errors import _
from gridmap.importers.report import ImportReport, Problem

SLIVER_M2 = 50.0  # smaller pieces are digitising noise, not a second grid or a missed field
SLIVER_WIDTH_M = 1.0  # so are long strips narrower than this along a shared edge (mean width)
LISTED = 20  # households outside every grid named in the report (the rest counted)

OVERLAPS = text("""
    SELECT a.code, b.code, ST_Area(x::geography) AS m2, ST_Perimeter(x::geography), ST_X(ST_PointOnSurface(x)), ST_Y(ST_PointOnSurface(x)),
           ST_AsGeoJSON(x, 6)
    FROM grid a JOIN grid b ON a.village_code = b.village_code AND a.code < b.code
         AND b.county_code = a.county_code AND b.valid_to IS NULL AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS x
    WHERE a.county_code = :c AND a.valid_to IS NULL AND a.village_code IN :villages AND NOT ST_IsEmpty(x)
    ORDER BY a.code, b.code""").bindparams(bindparam("villages", expanding=True))
GAPS = text("""
    SELECT v.code, ST_Area(piece.geom::geography), ST_Perimeter(piece.geom::geography), ST_X(ST_PointOnSurface(piece.geom)),
           ST_Y(ST_PointOnSurface(piece.geom)), ST_AsGeoJSON(piece.geom, 6)
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
           ST_X(ST_PointOnSurface(x)), ST_Y(ST_PointOnSurface(x)), ST_AsGeoJSON(x, 6)
    FROM child JOIN region p ON p.code = child.parent_code AND p.county_code = :c AND p.valid_to IS NULL
    CROSS JOIN LATERAL ST_CollectionExtract(ST_Difference(child.geom, p.geom), 3) AS x
    WHERE child.geom IS NOT NULL AND p.geom IS NOT NULL AND NOT ST_IsEmpty(x)
    ORDER BY child.kind, child.code""").bindparams(
    bindparam("villages", expanding=True), bindparam("regions", expanding=True))
OUTSIDE_GRIDS = text("""
    SELECT code, ST_AsGeoJSON(geom, 6) FROM household
    WHERE county_code = :c AND grid_code IS NULL AND geom IS NOT NULL AND code = ANY(:codes)
    ORDER BY code""")


def check_shapes(connection: Connection, batch, county_code: str, report: ImportReport) -> None:
    """File the problems and notes above for what this import wrote (`batch`: spec, source, rows)."""
    files = {spec.table: (source, rows) for spec, source, rows in batch}
    where = {(spec.table, row.get("code")): (source.name, row["_where"])
             for spec, source, rows in batch if spec.table in ("grid", "region") for row in rows}
    villages = {row["village_code"] for row in files.get("grid", (None, []))[1]}
    villages |= {row["code"] for row in files.get("region", (None, []))[1] if row["level"] == "village"}
    regions = [row["code"] for row in files.get("region", (None, []))[1]]
    slivers = 0
    if "grid" in files or "region" in files:
        slivers += _overlaps(connection, county_code, sorted(villages) or [""], where, report)
        slivers += _outside(connection, county_code, sorted(villages) or [""], regions or [""], where, report)
        shapes_file = (files.get("grid") or files["region"])[0].name
        slivers += _gaps(connection, county_code, sorted(villages) or [""], shapes_file, report)
    if slivers:
        name = next(iter(files.values()))[0].name
        report.note(name, _("%(count)s 处细碎重叠/缝隙（小于 %(limit)s m² 或窄于 %(width)s m）已忽略，多为描图误差",
                            count=slivers, limit=f"{SLIVER_M2:g}", width=f"{SLIVER_WIDTH_M:g}"))


def sliver(m2: float, perimeter_m: float) -> bool:
    """A piece too small or too thin to be anything but the noise of tracing the same edge twice."""
    return m2 < SLIVER_M2 or (perimeter_m > 0 and 2 * m2 / perimeter_m < SLIVER_WIDTH_M)


def _at(lon: float, lat: float) -> str:
    return f"{lon:.5f}, {lat:.5f}"


def _overlaps(connection, county_code, villages, where, report) -> int:
    slivers = 0
    for a, b, m2, perimeter, lon, lat, shape in connection.execute(
            OVERLAPS, {"c": county_code, "villages": villages}):
        if sliver(m2, perimeter):
            slivers += 1
            continue
        source, place = where.get(("grid", a)) or where.get(("grid", b)) or ("grid", "")
        problem = _("网格 %(a)s 与 %(b)s 重叠 %(m2)s m²（约在 %(at)s）", a=a, b=b, m2=f"{m2:.0f}",
                    at=_at(lon, lat))
        report.add(Problem(source, place, "geometry", problem,
                           _("同一村的网格不能重叠：在 GIS 软件中沿公共边重新描画（如 QGIS「拓扑检查」）")))
        report.mark("overlap", shape, problem)
    return slivers


def _outside(connection, county_code, villages, regions, where, report) -> int:
    slivers = 0
    for kind, code, parent, m2, perimeter, lon, lat, shape in connection.execute(
            OUTSIDE, {"c": county_code, "villages": villages, "regions": regions}):
        if sliver(m2, perimeter):
            slivers += 1
            continue
        source, place = where.get((kind, code)) or (kind, "")
        problem = _("%(code)s 有 %(m2)s m² 在上级 %(parent)s 的边界之外（约在 %(at)s）",
                    code=code, m2=f"{m2:.0f}", parent=parent, at=_at(lon, lat))
        report.add(Problem(source, place, "geometry", problem,
                           _("检查代码是否填错了上级，或沿上级边界裁剪图形")))
        report.mark("outside", shape, problem)
    return slivers


def _gaps(connection, county_code, villages, name, report) -> int:
    slivers = 0
    for village, m2, perimeter, lon, lat, shape in connection.execute(
            GAPS, {"c": county_code, "villages": villages}):
        if sliver(m2, perimeter):
            slivers += 1
            continue
        gap = _("村 %(village)s 有 %(m2)s m² 不在任何网格内（约在 %(at)s）：网格空白",
                village=village, m2=f"{m2:.0f}", at=_at(lon, lat))
        report.note(name, gap)
        report.mark("gap", shape, gap)
    return slivers


def households_outside_grids(connection, county_code, rows, report: ImportReport) -> list[str]:
    """Codes of these (just written) households whose point lies in no grid (each marked
    on the report's map)."""
    codes = [row["code"] for row in rows if row.get("_geom") is not None]
    if not codes:
        return []
    outside = []
    for code, point in connection.execute(OUTSIDE_GRIDS, {"c": county_code, "codes": codes}):
        outside.append(code)
        report.mark("household_outside", point, _("住户 %(code)s 不在任何网格内", code=code))
    return outside


def note_households_outside(report: ImportReport, name: str, outside: list[str]) -> None:
    """List households outside every grid: kept without a grid (coverage gaps)."""
    outside = sorted(outside)
    shown = ", ".join(outside[:LISTED])
    report.note(name, _("%(count)s 户的位置不在任何网格内，已导入但未划入网格（覆盖空白）：%(codes)s",
                        count=len(outside), codes=shown + (" …" if len(outside) > LISTED else "")))
