"""The import core: read → validate → upsert, in one transaction, a dry run unless commit.

    report = import_files(connection, [Source.from_path("households.geojson")], "532329")

Pure functions of a SQLAlchemy connection and files (paths or bytes); no Flask, no click.
Every problem names the file, the row or feature, the field, what is wrong and what to
do; all problems are collected (up to `Limits.max_errors`) and nothing is written when
there is any. The dry run does the writes inside a savepoint and rolls them back, so its
counts (would insert / update / unchanged) are the ones a commit would give.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import psycopg2
from shapely.geometry import Point
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from gridmap import clock, geo
from gridmap.importers import fields as f
from gridmap.importers.report import ImportReport, Limits, Problem, TableCounts
from gridmap.importers.sources import Record, Source, csv_records, geojson_records, read_text
from gridmap.importers.specs import ORDER, SPEC_BY_STEM, TableSpec
from gridmap.importers.upsert import Writer, existing_keys

__all__ = ["import_files", "import_directory", "Source", "Limits", "ImportReport", "Problem"]
TABLE_LABELS = {"region": "区划", "grid": "网格", "unit": "单位", "cadre": "干部", "area": "片区",
                "party_branch": "支部", "household": "住户", "issue": "事项", "app_user": "用户",
                "scope": "区划或网格"}


def import_files(connection: Connection, sources: Iterable[Source | Path | str], county_code: str,
                 *, commit: bool = False, limits: Limits = Limits(),
                 now: datetime | None = None) -> ImportReport:
    """Validate and upsert `sources` (files named after their table) for one county."""
    started = time.perf_counter()
    report = ImportReport(county_code, commit, max_errors=limits.max_errors)
    now = now or clock.now()
    parsed: dict[str, tuple[Source, list[dict]]] = {}
    for source in sources:
        source = source if isinstance(source, Source) else Source.from_path(source)
        spec = SPEC_BY_STEM.get(source.stem)
        if spec is None:
            report.add(Problem(source.name, problem="不认识的文件名",
                               hint=f"文件名应为表名，如 {', '.join(sorted(SPEC_BY_STEM)[:6])} …（.csv / .geojson）"))
        elif spec.table in parsed:
            report.add(Problem(source.name, problem=f"与 {parsed[spec.table][0].name} 是同一张表",
                               hint="每张表只导入一个文件"))
        else:
            parsed[spec.table] = (source, parse_source(source, spec, county_code, now, limits, report))
    batch = [(SPEC_BY_STEM[t], *parsed[t]) for t in ORDER if t in parsed]
    report.tables = [TableCounts(spec.table, source.name, rows=len(rows)) for spec, source, rows in batch]
    outer = None if connection.in_transaction() else connection.begin()
    try:
        if report.ok:
            check_references(connection, batch, county_code, report)
        if report.ok:
            _write(connection, batch, county_code, report)
        if outer is not None:
            outer.commit()
    except BaseException:
        if outer is not None:
            outer.rollback()
        raise
    report.seconds = time.perf_counter() - started
    return report


def import_directory(connection: Connection, directory: Path, county_code: str, **kw) -> ImportReport:
    """Every table file found in `directory` (unknown files are left alone)."""
    files = [p for p in sorted(Path(directory).iterdir())
             if p.suffix in (".csv", ".geojson", ".json") and p.name.split(".")[0] in SPEC_BY_STEM]
    return import_files(connection, files, county_code, **kw)


def _write(connection: Connection, batch, county_code: str, report: ImportReport) -> None:
    savepoint = connection.begin_nested()
    writer = Writer(connection, county_code)
    try:
        for (spec, source, rows), counts in zip(batch, report.tables, strict=True):
            current = source
            counts.inserted, counts.updated, counts.unchanged = writer.write(spec, rows)
        if any(spec.table in ("region", "grid") for spec, _, _ in batch):
            geo.refresh_display_shapes(connection, county_code)
    except (DBAPIError, psycopg2.Error) as exc:  # COPY runs on the raw driver cursor: unwrapped errors
        savepoint.rollback()
        message = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
        report.add(Problem(current.name, problem=f"数据库拒绝写入：{message}",
                           hint="本次导入已全部回滚，未写入任何数据；请按提示修正后重试"))
        return
    except BaseException:
        savepoint.rollback()
        raise
    if report.commit:
        savepoint.commit()
    else:
        savepoint.rollback()


# --- reading and checking rows ----------------------------------------------------------


def parse_source(source: Source, spec: TableSpec, county_code: str, now: datetime,
                 limits: Limits, report: ImportReport) -> list[dict]:
    """Rows of one file, parsed and checked field by field; problems go to the report."""
    text = read_text(source, limits, report)
    if text is None:
        return []
    columns = {field.name: field.required for field in spec.fields}
    if source.suffix == "csv":
        if spec.geometry and not spec.point_columns:
            report.add(Problem(source.name, problem="面图层不能用 CSV 导入", hint="请导出为 GeoJSON"))
            return []
        if spec.point_columns:
            columns |= {"lon": False, "lat": False}
        records = csv_records(source, text, columns, limits, report)
    elif source.suffix in ("geojson", "json"):
        records = geojson_records(source, text, columns, limits, report)
    else:
        report.add(Problem(source.name, problem=f"不支持的文件类型 .{source.suffix}",
                           hint="请用 CSV (UTF-8) 或 GeoJSON"))
        return []
    parsers = {"time": f.time_parser(now), "date": f.date_parser(now)}
    rows = []
    seen: dict[tuple[str, ...], dict] = {fields: {} for fields in (spec.key, *spec.unique)}
    for record in records:
        if report.full:
            report.problems_left_off += 1
            continue
        row = _parse_record(source, spec, record, county_code, parsers, report)
        if row is not None and not _repeated(source, record, row, seen, report):
            rows.append(row)
    if not rows and not any(p.source == source.name for p in report.problems):
        report.add(Problem(source.name, problem="文件没有数据行", hint="表头下面至少要有一行"))
    return rows


def _repeated(source: Source, record: Record, row: dict, seen: dict, report: ImportReport) -> bool:
    """Whether `row` repeats an earlier row's key (or another unique field set); says so if it does."""
    for fields, where_by_key in seen.items():
        key = tuple(row[k] for k in fields)
        if all(v is None for v in key):
            continue
        if key in where_by_key:
            report.add(Problem(source.name, record.where, ",".join(fields),
                               f"与{where_by_key[key]}重复（{'/'.join(str(v or '') for v in key)}）",
                               "同一对象只能出现一次：删除或合并重复行"))
            return True
    for fields, where_by_key in seen.items():
        where_by_key.setdefault(tuple(row[k] for k in fields), record.where)
    return False


def _parse_record(source, spec, record: Record, county_code, parsers, report) -> dict | None:
    row: dict = {"_where": record.where}
    problems: list[Problem] = []

    def problem(field, what, hint=""):
        problems.append(Problem(source.name, record.where, field, what, hint))

    for field in spec.fields:
        raw = record.cells.get(field.name, "")
        if field.code and field.name in record.native:
            problem(field.name, f"代码 {raw} 是数字，不是文本", f"GeoJSON 里代码要加引号：\"{raw}\"；否则前导 0 会丢失")
            continue
        if not raw.strip():
            if field.required:
                problem(field.name, "必填项为空", "请填写")
            row[field.name] = field.default
            continue
        parse = parsers[field.parse] if isinstance(field.parse, str) else field.parse
        try:
            row[field.name] = parse(raw)
        except f.CellProblem as exc:
            problem(field.name, *exc.args)
    _parse_geometry(spec, record, row, problem)
    if not problems and spec.check is not None:
        for field, what, hint in spec.check(row, county_code):
            problem(field, what, hint)
    for p in problems:
        report.add(p)
    return None if problems else row


def _parse_geometry(spec: TableSpec, record: Record, row: dict, problem) -> None:
    geometry = record.geometry
    if spec.point_columns and ("lon" in record.cells or "lat" in record.cells):
        lon, lat = record.cells.get("lon", "").strip(), record.cells.get("lat", "").strip()
        if bool(lon) != bool(lat):
            problem("lon" if not lon else "lat", "经度和纬度要么都填，要么都空", "位置未知时两列都留空")
            return
        try:
            geometry = Point(f.parse_float(lon), f.parse_float(lat)) if lon else None
        except f.CellProblem as exc:
            problem("lon/lat", *exc.args)
            return
    if isinstance(geometry, geo.GeometryProblem):
        problem("geometry", geometry.problem, geometry.hint)
        return
    if geometry is None:
        row["_geom"] = None
        if spec.geometry_required:
            problem("geometry", "缺少图形", "每个网格都要有边界面")
        return
    if not spec.geometry:
        return
    try:
        geo.check_geometry(geometry, spec.geometry)
    except geo.GeometryProblem as exc:
        problem("geometry" if not spec.point_columns else "lon/lat", exc.problem, exc.hint)
        return
    row["_geom"] = geo.as_multipolygon(geometry) if "MultiPolygon" in spec.geometry else geometry


# --- references --------------------------------------------------------------------------


def check_references(connection: Connection, batch, county_code: str, report: ImportReport) -> None:
    """Every code a row points at exists, in this import or already in the database."""
    known: dict[str, dict] = {}

    def keys(table: str) -> dict:
        if table not in known:
            if table == "scope":
                known[table] = keys("region") | dict.fromkeys(keys("grid"), "grid")
            else:
                known[table] = existing_keys(connection, table, county_code)
                for spec, _, rows in batch:
                    if spec.table == table:
                        name = spec.key[0]
                        known[table] |= {r[name]: r.get("level") for r in rows}
        return known[table]

    for spec, source, rows in batch:
        for row in rows:
            for field in spec.fields:
                value = row.get(field.name)
                if field.ref is None or value is None:
                    continue
                table = field.ref.table
                if value not in keys(table):
                    report.add(Problem(source.name, row["_where"], field.name,
                                       f"{TABLE_LABELS.get(table, table)} {value} 不存在",
                                       "请先导入它（或在同一批文件中提供），或检查代码是否抄错"))
                elif field.ref.level and keys(table)[value] != field.ref.level:
                    report.add(Problem(source.name, row["_where"], field.name,
                                       f"{value} 不是{field.ref.level}级区划", "请填写对应级别的代码"))
            if spec.table == "app_user" and row["login"] not in existing_keys(
                    connection, "app_user", county_code) and len(row.get("password") or "") < 8:
                report.add(Problem(source.name, row["_where"], "password", "新用户需要至少 8 位的密码",
                                   "请填写初始密码（导入后保存为哈希）"))
            if report.full:
                return
