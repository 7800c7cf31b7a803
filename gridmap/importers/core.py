"""The import core: read → validate → upsert, in one transaction, a dry run unless commit.

    report = import_files(connection, [Source.from_path("households.geojson")], "532329")

Pure functions of a SQLAlchemy connection and files (paths or bytes); no Flask, no click.
Every problem names the file, the row or feature, the field, what is wrong and what to
do; all problems are collected (up to `Limits.max_errors`) and nothing is written when
there is any. The dry run does the writes inside a savepoint and rolls them back, so its
counts (would insert / update / unchanged) are the ones a commit would give.
"""

from __future__ import annotations

import operator
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import psycopg2
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from gridmap import audit, clock, codes, geo, recode, settings
from gridmap.errors import BadInput, GridmapError, _
from gridmap.importers import fields as f
from gridmap.importers import readers, topology
from gridmap.importers.bulk import BulkLoad, fewer_collections
from gridmap.importers.hashes import Hashes
from gridmap.importers.histories import Histories
from gridmap.importers.report import ImportReport, Limits, Problem, TableCounts
from gridmap.importers.sources import Record, RecordColumns, Source, read_content
from gridmap.importers.specs import ORDER, SPEC_BY_STEM, SPEC_BY_TABLE, TableSpec
from gridmap.importers.within import check as check_within
from gridmap.importers.writers import DbColumns, Writer, existing_keys, staged_events

__all__ = ["import_files", "import_directory", "Source", "Limits", "ImportReport", "Problem"]
TABLE_LABELS = {"region": _("区划"), "grid": _("网格"), "unit": _("单位"), "cadre": _("干部"),
                "area": _("片区"), "party_branch": _("支部"), "household": _("住户"), "issue": _("事项"),
                "app_user": _("用户"), "scope": _("区划或网格"), "region_code_change": _("区划代码变更")}
DEFAULT_SCHEME = ("village_serial", 3)


@fewer_collections
def import_files(connection: Connection, sources: Iterable[Source | Path | str], county_code: str,
                 *, commit: bool = False, limits: Limits = Limits(),
                 now: datetime | None = None, actor=None, repair: bool = False,
                 progress: Progress | None = None, within: str | None = None) -> ImportReport:
    """Validate and upsert `sources` (files named after their table, or `Source.table`) for one county.

    `repair`: invalid polygons are mended with make_valid and each repair is noted (without
    it they are refused). `progress(stage, source name, rows so far)` is told how far a long
    import has come. A committed import is in the audit log under `actor` (an account, a
    text, None: system)."""
    started = time.perf_counter()
    report = ImportReport(county_code, commit, max_errors=limits.max_errors)
    outer = None if connection.in_transaction() else connection.begin()
    try:
        # An import takes as long as its files need: the web's statement timeout (gridmap.db)
        # is lifted for its transaction, whichever connection it came on.
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        _import(connection, sources, county_code, report, commit=commit, limits=limits,
                now=now or clock.now(), actor=actor, repair=repair, progress=progress or _quiet,
                within=within)
        if outer is not None:
            outer.commit()
    except BaseException:
        if outer is not None:
            outer.rollback()
        raise
    report.seconds = time.perf_counter() - started
    return report


def _import(connection: Connection, sources, county_code: str, report: ImportReport, *, commit: bool,
            limits: Limits, now: datetime, actor, repair: bool, progress: Progress, within: str | None) -> None:
    """import_files' work, inside its transaction."""
    opened: dict[str, tuple[Source, TableSpec]] = {}
    for source in sources:
        source = source if isinstance(source, Source) else Source.from_path(source)
        spec = SPEC_BY_TABLE.get(source.table) if source.table else SPEC_BY_STEM.get(source.stem)
        if source.table and spec is None:
            report.add(Problem(source.name, problem=_("没有名为 %(table)s 的表", table=f.readable(source.table)),
                               hint=_("可导入的表：%(tables)s", tables=", ".join(ORDER))))
        elif spec is None:
            report.add(Problem(source.name, problem=_("不认识的文件名"),
                               hint=_("文件名应为表名，如 %(names)s …（%(suffixes)s）",
                                      names=", ".join(sorted(SPEC_BY_STEM)[:6]), suffixes=_suffixes())))
        elif spec.table in opened:
            report.add(Problem(source.name, problem=_("与 %(other)s 是同一张表", other=opened[spec.table][0].name),
                               hint=_("每张表只导入一个文件")))
        else:
            opened[spec.table] = (source, spec)
    step = _Step(connection, county_code, now, limits, report, repair, progress,
                 grid_scheme(connection, county_code) if "grid" in opened else DEFAULT_SCHEME, within)
    # Small tables are read whole first (their rows are checked against each other's); the big
    # ones (STREAMED) are read, checked and written a batch at a time, so memory stays bounded.
    whole = {table: step.parse(*opened[table]) for table in ORDER if table in opened and table not in STREAMED}
    report.tables = [TableCounts(t, opened[t][0].name, rows=len(whole.get(t, ()))) for t in ORDER if t in opened]
    step.run([(opened[t][1], opened[t][0]) for t in ORDER if t in opened], whole)
    if report.ok and commit and any(t.inserted or t.updated for t in report.tables):
        # An import that changed nothing leaves no trace: the same file again changes nothing.
        audit.record(connection, actor, "import", ", ".join(opened[t][0].name for t in opened)[:200],
                     {t.table: [t.inserted, t.updated, t.unchanged] for t in report.tables},
                     county_code=county_code)


Progress = Callable[[str, str, int], None]
PROGRESS_EVERY = 10_000


def _quiet(stage: str, name: str, rows: int) -> None:
    """No progress shown."""


def import_directory(connection: Connection, directory: Path, county_code: str, **kw) -> ImportReport:
    """Every table file found in `directory` (unknown files are left alone)."""
    files = [p for p in sorted(Path(directory).iterdir())
             if p.suffix[1:] in readers.READERS and p.name.split(".")[0] in SPEC_BY_STEM]
    return import_files(connection, files, county_code, **kw)


def grid_scheme(connection: Connection, county_code: str) -> tuple[str, int]:
    """The county's grid code scheme and serial digits (settings `grid_code.*`), read in the
    import's transaction."""
    values = settings.all(connection, county_code)
    return values["grid_code.scheme"], values["grid_code.serial_digits"]


def _suffixes() -> str:
    return " / ".join(f".{reader.suffixes[0]}" for reader in readers.readers())


# Tables checked row by row against the database and this import, so read a batch at a time:
# a county has hundreds of thousands of each (and tens of thousands of cadres and of deeds,
# whose rows read whole were 60 MiB held through the whole load). Issue histories are replayed
# from the events staged in the database (importers.histories), not from rows held here.
STREAMED = frozenset({"cadre", "household", "visit", "assignment", "issue", "issue_event", "callback",
                      "deed"})
BATCH_ROWS = 20_000


class _Step:
    """One import's reading, checking and writing, all writes in one savepoint (committed
    only when asked and nothing is wrong). Once a problem is found nothing more is written,
    but files are still read so that every problem is reported."""

    def __init__(self, connection, county_code, now, limits, report, repair, progress, scheme=DEFAULT_SCHEME,
                 within=None):
        self.connection, self.county_code, self.now, self.within = connection, county_code, now, within
        self.limits, self.report, self.repair, self.progress = limits, report, repair, progress
        self.scheme = scheme

    def parse(self, source: Source, spec: TableSpec) -> list[dict]:
        self.progress("read", source.name, 0)
        return parse_source(source, spec, self.county_code, self.now, self.limits, self.report,
                            repair=self.repair, progress=self.progress, grid_scheme=self.scheme)

    def run(self, tables: list[tuple[TableSpec, Source]], whole: dict[str, list[dict]]) -> None:
        report, connection = self.report, self.connection
        batch = [(spec, source, whole[spec.table]) for spec, source in tables if spec.table in whole]
        # No JIT here either (each batch's INSERT … SELECT is planned anew and would be compiled
        # for per-row work): every connection of gridmap.db.make_engine is opened without it.
        savepoint = connection.begin_nested()
        writer = Writer(connection, self.county_code)
        bulk = BulkLoad(connection, report.commit)  # may drop household's indexes till the file is written
        flight = _InFlight(self.progress)
        outside: list[str] = []
        histories = Histories() if "issue_event" in {spec.table for spec, _source in tables} else None
        current = None
        try:
            for (spec, source), counts in zip(tables, report.tables, strict=True):
                current = source
                if spec.table in whole:
                    chunks = iter([whole[spec.table]])
                else:
                    self.progress("read", source.name, 0)
                    chunks = parse_batches(source, spec, self.county_code, self.now, self.limits, report,
                                           repair=self.repair, progress=flight.progress, size=BATCH_ROWS,
                                           grid_scheme=self.scheme)
                known: dict[str, dict] = {}
                for rows in chunks:
                    if spec.table not in whole:
                        counts.rows += len(rows)
                    if histories is not None and spec.table == "issue":
                        histories.expect(rows)
                    if not report.ok or not rows:
                        continue
                    # Made ready for COPY before waiting: beside the last batch's write.
                    staged = writer.ready(spec, rows)
                    flight.wait()  # the connection is the last batch's write's until it is done
                    check_references(connection, batch if spec.table in whole else [*batch, (spec, source, rows)],
                                     self.county_code, report, only=spec.table, known=known,
                                     stored=writer.keys)
                    if self.within:
                        check_within(connection, spec, source, rows, self.county_code, self.within, report, known)
                    if not report.ok:
                        continue
                    self.progress("write", source.name, counts.rows)
                    if spec.table == "household":
                        bulk.before(len(rows))
                    flight.start(partial(self._write, writer, spec, rows, counts, outside, staged))
                flight.wait()
                if report.ok:
                    bulk.finish()
                if report.ok and spec.table == "issue_event" and spec.table in writer.staged:
                    histories.check(staged_events(writer), source.name, report,
                                    partial(places, source, spec, self.limits, self.county_code))
                if report.ok:
                    done = writer.finish(spec)
                    counts.inserted += done.inserted
                    counts.updated += done.updated
                    counts.unchanged += done.unchanged
            if report.ok:
                _note_remap(report, tables, recode.apply_changes(connection, self.county_code))
                self._notes(tables, writer, outside, batch)
            if report.ok and any(spec.table in ("region", "grid") for spec, _ in tables):
                geo.refresh_display_shapes(connection, self.county_code)
        except (DBAPIError, psycopg2.Error) as exc:  # COPY runs on the raw driver cursor: unwrapped errors
            flight.wait(quietly=True)
            savepoint.rollback()
            message = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
            report.add(Problem(current.name, problem=_("数据库拒绝写入：%(reason)s", reason=message),
                               hint=_("本次导入已全部回滚，未写入任何数据；请按提示修正后重试")))
            return
        except BaseException:
            flight.wait(quietly=True)
            savepoint.rollback()
            raise
        if report.commit and report.ok:
            savepoint.commit()
        else:
            savepoint.rollback()

    def _write(self, writer: Writer, spec: TableSpec, rows: list[dict], counts: TableCounts,
               outside: list[str], staged: DbColumns | None = None) -> None:
        """Write one batch (on the flight's thread) and count what it did."""
        done = writer.write(spec, rows, staged)
        counts.inserted += done.inserted
        counts.updated += done.updated
        counts.unchanged += done.unchanged
        if spec.table == "household":
            outside += topology.households_outside_grids(self.connection, self.county_code, rows, self.report,
                                                         found=writer.placed_nowhere)

    def _notes(self, tables, writer: Writer, outside: list[str], batch) -> None:
        report = self.report
        for (spec, source), counts in zip(tables, report.tables, strict=True):
            if spec.table in writer.changed:
                _note_changed(report, source.name, counts.updated, writer.changed[spec.table])
            if spec.table in writer.changes:
                _note_generation(report, source.name, spec.table, writer.changes[spec.table])
            if spec.table == "household" and outside:
                topology.note_households_outside(report, source.name, outside)
        topology.check_shapes(self.connection, batch, self.county_code, report)
        if "region" in writer.changes:
            topology.check_children(self.connection, batch, self.county_code, writer.changes["region"].replaced,
                                    report)


class _InFlight:
    """At most one batch's write running on a thread of its own while the next batch is read
    and parsed: the write mostly waits for the server (psycopg2 lets go of the GIL), the parse
    is Python, so the two overlap. The connection is the write's until `wait` returns, and
    whatever else uses it waits first; progress told meanwhile is held till then (a progress
    note may go through the same connection)."""

    def __init__(self, progress: Progress):
        self.told = progress
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.held: tuple | None = None

    def start(self, write: Callable[[], None]) -> None:
        self.wait()

        def run() -> None:
            try:
                write()
            except BaseException as exc:  # re-raised by wait(), in the import's own thread
                self.error = exc
        self.thread = threading.Thread(target=run, name="import-write", daemon=True)
        self.thread.start()

    def wait(self, quietly: bool = False) -> None:
        """Until the write in flight is done; its error raised here (`quietly`: dropped, as
        when another error is already on its way)."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        error, self.error = self.error, None
        if self.held is not None:
            held, self.held = self.held, None
            self.told(*held)
        if error is not None and not quietly:
            raise error

    def progress(self, stage: str, name: str, rows: int) -> None:
        if self.thread is None:
            self.told(stage, name, rows)
        else:
            self.held = (stage, name, rows)


MOVES_LISTED = 20


def _note_changed(report: ImportReport, name: str, updated: int, changed: list) -> None:
    """Which rows an update changes, and in which columns (the first few): a diff summary."""
    shown = "; ".join(f"{code} ({', '.join(columns)})" for code, columns in changed[:MOVES_LISTED])
    report.note(name, _("更新 %(count)s 行：%(rows)s", count=updated,
                        rows=shown + (" …" if updated > len(changed[:MOVES_LISTED]) else "")))


def _note_generation(report: ImportReport, name: str, table: str, change) -> None:
    """What a boundary replacement did, as notes: codes redrawn, and each household or issue moved."""
    codes = ", ".join(change.replaced[:MOVES_LISTED]) + (" …" if len(change.replaced) > MOVES_LISTED else "")
    if change.replaced:
        report.note(name, _("%(count)s 个%(what)s的边界已更换：%(codes)s（旧边界保留为历史版本，截至 %(at)s）",
                            count=len(change.replaced), what=TABLE_LABELS.get(table, table), codes=codes,
                            at=change.at.isoformat(timespec="seconds")))
    for moved in change.moved[:MOVES_LISTED]:
        report.note(name, _("%(what)s %(code)s：网格 %(before)s → %(after)s", what=TABLE_LABELS[moved.table],
                            code=moved.code, before=moved.before or "—", after=moved.after or _("无（覆盖空白）")))
    if len(change.moved) > MOVES_LISTED:
        report.note(name, _("另有 %(count)s 条变动未列出", count=len(change.moved) - MOVES_LISTED))
    if change.visits_following:
        report.note(name, _("%(count)s 条走访记录随住户归入新网格", count=change.visits_following))


REMAP_LISTED = 200


def _note_remap(report: ImportReport, tables, remap: recode.Remap) -> None:
    """What the recorded code changes moved (gridmap.recode), as notes of the first file."""
    if not remap.changed and not remap.waiting:
        return
    name = tables[0][1].name
    for old, new in remap.changed:
        report.note(name, _("区划代码 %(old)s → %(new)s：旧代码的区划已截止（保留为历史版本），指向它的数据改为新代码",
                            old=old, new=new))
    for old, new in remap.grids[:REMAP_LISTED]:
        report.note(name, _("网格代码 %(old)s → %(new)s（随村代码变更）", old=old, new=new))
    for move in remap.moves[:REMAP_LISTED]:
        report.note(name, _("%(table)s.%(column)s：%(rows)s 行 %(old)s → %(new)s", table=move.table,
                            column=move.column, rows=move.rows, old=move.old, new=move.new))
    left = max(0, len(remap.moves) - REMAP_LISTED) + max(0, len(remap.grids) - REMAP_LISTED)
    if left:
        report.note(name, _("另有 %(count)s 条变动未列出", count=left))
    for old, new in remap.waiting:
        report.note(name, _("已记录 %(old)s → %(new)s：导入新代码 %(new)s 的区划后生效", old=old, new=new))


# --- reading and checking rows ----------------------------------------------------------


def parse_source(source: Source, spec: TableSpec, county_code: str, now: datetime,
                 limits: Limits, report: ImportReport, *, repair: bool = False,
                 progress: Progress = _quiet, grid_scheme: tuple[str, int] = DEFAULT_SCHEME) -> list[dict]:
    """Rows of one file, parsed and checked field by field; problems go to the report."""
    return [row for rows in parse_batches(source, spec, county_code, now, limits, report, repair=repair,
                                          progress=progress, size=None, grid_scheme=grid_scheme) for row in rows]


def parse_batches(source: Source, spec: TableSpec, county_code: str, now: datetime,
                  limits: Limits, report: ImportReport, *, repair: bool = False,
                  progress: Progress = _quiet, size: int | None = BATCH_ROWS,
                  grid_scheme: tuple[str, int] = DEFAULT_SCHEME) -> Iterator[list[dict]]:
    """`parse_source` a batch of at most `size` rows at a time (None: one batch)."""
    reader = readers.reader_for(source)
    content = read_content(source, reader, limits, report)
    if content is None:
        return
    if reader is None:
        report.add(Problem(source.name, problem=_("不支持的文件类型 .%(suffix)s", suffix=source.suffix),
                           hint=_("请用 %(formats)s", formats=" / ".join(r.name for r in readers.readers()))))
        return
    if not reader.carries(spec.geometry):
        able = " / ".join(r.name for r in readers.readers() if r.carries(spec.geometry))
        report.add(Problem(source.name, problem=_("面图层不能用 %(format)s 导入", format=reader.name)
                           if "Polygon" in spec.geometry else _("点图层不能用 %(format)s 导入", format=reader.name),
                           hint=_("请导出为 %(formats)s", formats=able)))
        return
    columns = {field.name: field.required for field in spec.fields}
    if spec.point_columns and reader.lonlat_columns:
        columns |= {"lon": False, "lat": False}
    log = _InOrder(report)
    if reader.read_columns is not None:
        chunks = log.counted(reader.read_columns(source, content, columns, limits, log, PARSE_CHUNK))
    else:  # counted as each record is read, so what the reader says meanwhile keeps its place
        chunks = _chunks(log.each_counted(reader.read(source, content, columns, limits, log)), PARSE_CHUNK)
    plan = _plan(spec, {"time": f.time_parser(now), "date": f.date_parser(now)})
    rows: list[dict] = []
    total = 0
    seen = _Seen(spec, compact=size is not None)
    number = 0
    for chunk in chunks:
        parsed = None if report.full else _parse_records(source, spec, chunk, county_code, plan, report,
                                                         repair, grid_scheme)
        if parsed is not None:
            seen.look_ahead(row for row, _problems in parsed if row is not None)
        if parsed is not None and not log.held and not report.full and seen.all_new(parsed):
            # The common chunk: every row parsed and new, nothing said about it. Taken whole
            # (the loop below, a row at a time, was a fifth of parsing a county's households).
            for at in range(number + PROGRESS_EVERY - number % PROGRESS_EVERY, number + len(chunk) + 1,
                            PROGRESS_EVERY):
                progress("read", source.name, at)
            number += len(chunk)
            good = [row for row, _problems in parsed]
            while good:
                room = len(good) if size is None else _batch_size(size, total) - len(rows)
                rows.extend(good[:room])
                good = good[room:]
                if size is not None and len(rows) >= _batch_size(size, total):
                    total += len(rows)
                    yield rows
                    rows = []
            continue
        for index in range(len(chunk)):
            if log.held:
                log.release(number)
            number += 1
            if number % PROGRESS_EVERY == 0:
                progress("read", source.name, number)
            if report.full:
                report.problems_left_off += 1
                continue
            row, problems = parsed[index]
            for problem in problems:
                report.add(problem)
            if row is not None and not seen.repeated(source, row["_where"], row, report):
                rows.append(row)
                if size is not None and len(rows) >= _batch_size(size, total):
                    total += len(rows)
                    yield rows
                    rows = []
    log.release(None)
    total += len(rows)
    if seen.later:
        _name_first(source, spec, limits, county_code, plan, seen.later, report)
    if not total and not any(p.source == source.name for p in report.problems):
        report.add(Problem(source.name, problem=_("文件没有数据行"), hint=_("表头下面至少要有一行")))
    if rows or size is None:
        yield rows


# Records parsed together, a column at a time (fields.columnwise).
PARSE_CHUNK = 4_000


def _batch_size(size: int, written: int) -> int:
    """Rows in the next batch: the first is one parse chunk, so the database starts writing
    while the rest is read (a whole first batch kept it idle a third of a second)."""
    return min(size, PARSE_CHUNK) if written == 0 else size


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _InOrder:
    """What a reader says about a file, held until the rows it read before saying it are
    checked: rows are parsed a chunk at a time, yet the report keeps the file's order."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.held: list[tuple[int, Callable[[], None]]] = []
        self.read = 0  # records yielded so far

    def add(self, problem: Problem) -> None:
        self.held.append((self.read, lambda: self.report.add(problem)))

    def note(self, source: str, note) -> None:
        self.held.append((self.read, lambda: self.report.note(source, note)))

    def counted(self, chunks: Iterable[RecordColumns]) -> Iterator[RecordColumns]:
        for chunk in chunks:
            self.read += len(chunk)
            yield chunk

    def each_counted(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self.read += 1
            yield record

    def release(self, before: int | None) -> None:
        """File what was said before record `before` (from 0) was read (None: everything)."""
        while self.held and (before is None or self.held[0][0] <= before):
            self.held.pop(0)[1]()


REPEATED_HINT = _("同一对象只能出现一次：删除或合并重复行")


def _repeated_problem(source: Source, where, fields, first, key) -> Problem:
    return Problem(source.name, where, ",".join(fields),
                   _("与%(where)s重复（%(key)s）", where=first, key="/".join(str(v or "") for v in key)),
                   REPEATED_HINT)


class _Seen:
    """The keys (and other unique field sets) met so far in one file. A file read whole keeps
    each key's place; a streamed one keeps only each key's hash, 8 bytes of it (importers.hashes:
    a county's 545k visits' keys and places were hundreds of MiB, a set of their hashes 80), and a
    repeated key's first place is found by reading the file again, only when a key repeats."""

    def __init__(self, spec: TableSpec, compact: bool):
        self.compact = compact
        self.known: dict[tuple[str, ...], dict | Hashes] = {
            fields: Hashes() if compact else {} for fields in (spec.key, *spec.unique)}
        self.later: list[tuple[tuple[str, ...], tuple, object]] = []  # (fields, key, where) to name

    def look_ahead(self, rows: Iterable[dict]) -> None:
        """Before a chunk's rows are asked about (a streamed file's hashes are looked up a chunk
        at a time)."""
        if not self.compact:
            return
        rows = list(rows)
        for fields, known in self.known.items():
            empty = (None,) * len(fields)
            known.look_ahead(hash(key) for key in _keys(rows, fields) if key != empty)

    def all_new(self, parsed: list[tuple[dict | None, list]]) -> bool:
        """Whether every row of a chunk parsed and has keys met neither before nor in the chunk
        (keys all empty are not keys, as in `repeated`); if so, they are met now (else nothing
        is, and each row is asked about with `repeated`)."""
        if any(row is None for row, _problems in parsed):
            return False
        found = []
        for fields, known in self.known.items():
            empty = (None,) * len(fields)
            keys = _keys([row for row, _problems in parsed], fields)
            wheres = [] if self.compact else \
                [row["_where"] for (row, _problems), key in zip(parsed, keys, strict=True) if key != empty]
            if empty in keys:
                keys = [key for key in keys if key != empty]
            tokens = list(map(hash, keys)) if self.compact else keys
            met = known if self.compact else known.keys()
            if len(set(tokens)) != len(tokens) or not met.isdisjoint(tokens):
                return False
            found.append((known, tokens, wheres))
        for known, tokens, wheres in found:
            known.update(tokens if self.compact else zip(tokens, wheres, strict=True))
        return True

    def repeated(self, source: Source, where, row: dict, report: ImportReport) -> bool:
        """Whether `row` repeats an earlier row's key; says so (now, or once the file is read)."""
        tokens = []
        for fields, known in self.known.items():
            key = tuple(row[k] for k in fields)
            if all(v is None for v in key):
                tokens.append(None)
                continue
            token = hash(key) if self.compact else key
            if token in known:
                if self.compact:
                    self.later.append((fields, key, where))
                else:
                    report.add(_repeated_problem(source, where, fields, known[key], key))
                return True
            tokens.append(token)
        for (_fields, known), token in zip(self.known.items(), tokens, strict=True):
            if token is None:
                continue
            if self.compact:
                known.add(token)
            else:
                known.setdefault(token, where)
        return False


def _keys(rows: list[dict], fields: tuple[str, ...]) -> list[tuple]:
    """Each row's values of `fields`, as a tuple (cut in one C-level pass)."""
    return list(zip(*(map(operator.itemgetter(k), rows) for k in fields), strict=True))


def _name_first(source, spec, limits, county_code, plan, later, report) -> None:
    """File the repeats of a streamed file, each naming where its key first appeared (the file
    read again, its rows parsed as before; nothing else is reported twice)."""
    wanted = {(fields, key) for fields, key, _where in later}
    first: dict = {}
    quiet = ImportReport(report.county_code, commit=False, max_errors=limits.max_errors)
    for record in records_again(source, spec, limits, quiet):
        row, _problems = _parse_records(source, spec, [record], county_code, plan, quiet)[0]
        if row is None:
            continue
        for fields in {fields for fields, _key in wanted}:
            key = tuple(row[k] for k in fields)
            if (fields, key) in wanted and (fields, key) not in first:
                first[(fields, key)] = record.where
        if len(first) == len(wanted):
            break
    for fields, key, where in later:
        report.add(_repeated_problem(source, where, fields, first.get((fields, key), "?"), key))


def records_again(source: Source, spec: TableSpec, limits: Limits, quiet: ImportReport) -> Iterator[Record]:
    """The file's records read once more (what was wrong with it is known already: `quiet`
    takes it), to find where some rows are."""
    reader = readers.reader_for(source)
    content = read_content(source, reader, limits, quiet) if reader is not None else None
    if content is None:
        return iter(())
    columns = {field.name: field.required for field in spec.fields}
    if spec.point_columns and reader.lonlat_columns:
        columns |= {"lon": False, "lat": False}
    return reader.read(source, content, columns, limits, quiet)


def places(source: Source, spec: TableSpec, limits: Limits, county_code: str, numbers: set[int]) -> dict:
    """Where the rows numbered `numbers` (1 = the first record) are in the file."""
    found = {}
    quiet = ImportReport(county_code, commit=False, max_errors=limits.max_errors)
    for number, record in enumerate(records_again(source, spec, limits, quiet), 1):
        if number in numbers:
            found[number] = record.where
            if len(found) == len(numbers):
                break
    return found


def _plan(spec: TableSpec, parsers: dict) -> tuple:
    """(name, parse, required, code, default) of each field, parsers resolved: worked out
    once a file, not once a row."""
    return tuple((field.name, parsers[field.parse] if isinstance(field.parse, str) else field.parse,
                  field.required, field.code, field.default) for field in spec.fields)


def _parse_records(source, spec, records: list[Record] | RecordColumns, county_code, plan, report, repair=False,
                   grid_scheme=DEFAULT_SCHEME) -> list[tuple[dict | None, list[Problem]]]:
    """Each record's row (None when it has problems) and problems, in the record's field order.
    A column is parsed at once when its parser's whole-column form takes every cell
    (fields.columnwise), else cell by cell: the values are the same either way."""
    problems: dict[int, list[Problem]] = {}
    wheres, by_name, native = _columns(records, [name for name, *_rest in plan])

    def problem(index, field, what, hint):
        problems.setdefault(index, []).append(Problem(source.name, wheres[index], field, what, hint))

    names, columns = [], []
    for name, parse, required, code, default in plan:
        cells = by_name[name]
        form = getattr(parse, "columnwise", None)
        values = None
        if form is not None and not (native and code) and not (required and "" in cells):
            values = form(cells, default)
        if values is None:
            values = [_parse_cell(name in native[i], name, raw, parse, required, code, default, problem, i)
                      for i, raw in enumerate(cells)] if native else \
                     [_parse_cell(False, name, raw, parse, required, code, default, problem, i)
                      for i, raw in enumerate(cells)]
        names.append(name)
        columns.append(values)
    positions = _parse_positions(spec, records, problem, source, report if repair else None)
    checked = spec.check is not None or spec.grid_codes
    parsed = []
    for index, (values, position) in enumerate(zip(zip(*columns, strict=True), positions, strict=True)):
        if index not in problems:
            row = dict(zip(names, values, strict=True))
            row["_where"] = wheres[index]
            if position is not _NOWHERE:
                row["_geom"] = position
            if checked:
                _check_row(spec, row, county_code, grid_scheme, problem, index)
            if index not in problems:
                parsed.append((row, ()))
                continue
        parsed.append((None, problems[index]))
    return parsed


def _columns(records: list[Record] | RecordColumns, names: list[str]) -> tuple[list, dict[str, list[str]], list]:
    """Where each record is, each named column's cells, and each record's JSON-native cells
    ([] when no record has any)."""
    if isinstance(records, RecordColumns):
        blank = [""] * len(records)
        return records.wheres, {name: records.cells.get(name, blank) for name in names}, []
    native = [record.native for record in records] if any(record.native for record in records) else []
    return [record.where for record in records], _cell_columns(records, names), native


def _cell_columns(records: list[Record], names: list[str]) -> dict[str, list[str]]:
    """Each named column's cells ("" where a record has none). When every record has the same
    columns (a CSV's header) they are cut out in one C-level pass, not a lookup per cell."""
    if not records:
        return {name: [] for name in names}
    first = records[0].cells.keys()
    present = [name for name in names if name in first]
    if len(present) > 1 and all(record.cells.keys() == first for record in records):
        cut = operator.itemgetter(*present)
        cells = zip(*(cut(record.cells) for record in records), strict=True)
        columns = dict(zip(present, map(list, cells), strict=True))
        return {name: columns[name] if name in columns else [""] * len(records) for name in names}
    return {name: [record.cells.get(name, "") for record in records] for name in names}


def _parse_cell(native: bool, name, raw: str, parse, required, code, default, problem, index):
    """One cell's value, or a problem filed (and None); `native`: the cell was a JSON number."""
    if code and native:
        problem(index, name, _("代码 %(code)s 是数字，不是文本", code=raw),
                _("GeoJSON 里代码要加引号：\"%(code)s\"；否则前导 0 会丢失", code=raw))
        return None
    if not raw or raw.isspace():
        if required:
            problem(index, name, _("必填项为空"), _("请填写"))
        return default
    try:
        return parse(raw)
    except f.CellProblem as exc:
        problem(index, name, exc.problem, exc.hint)
        return None


def _check_row(spec: TableSpec, row: dict, county_code, grid_scheme, problem, index) -> None:
    """The rules across a row's fields: the spec's check, then the county's grid code scheme
    (problems filed as `problem(index, …)`)."""
    found = spec.check(row, county_code) if spec.check is not None else ()
    for field, what, hint in found:
        problem(index, field, what, hint)
    if spec.grid_codes and not found:
        scheme, digits = grid_scheme
        try:
            codes.check_grid_code(row["code"], row["village_code"], scheme, serial_digits=digits)
        except BadInput as refused:
            problem(index, "code", refused.message, _("本县的网格编码方案是 %(scheme)s（gridmap settings get %(county)s "
                                               "grid_code.scheme）", scheme=scheme, county=county_code))


_NOWHERE = object()  # a row of a table without geometry: no `_geom` at all


def _parse_positions(spec: TableSpec, records: list[Record] | RecordColumns, problem, source, report) -> list:
    """Each record's geometry (`_NOWHERE` for tables without one): lon/lat columns read at
    once when every pair is plain and in China, else record by record."""
    lonlat = None
    if isinstance(records, RecordColumns):
        if "lon" in records.cells and "lat" in records.cells:
            lonlat = records.cells["lon"], records.cells["lat"]
    elif records and all("lon" in r.cells and "lat" in r.cells for r in records):
        lonlat = [record.cells["lon"] for record in records], [record.cells["lat"] for record in records]
    if spec.point_columns and records and lonlat is not None:
        lons = f.decimal_column(lonlat[0])
        lats = f.decimal_column(lonlat[1]) if lons is not None else None
        if lats is not None and _all_in_china(lons, lats):
            return [None if lon is None else geo.LonLat(lon, lat) for lon, lat in zip(lons, lats, strict=True)]
    positions = []
    for index, record in enumerate(records):
        holder: dict = {}
        _parse_geometry(spec, record, holder, lambda *p, at=index: problem(at, *p),
                        _repairer(source, record, report) if report is not None else None)
        positions.append(holder.get("_geom", _NOWHERE))
    return positions


def _all_in_china(lons: list, lats: list) -> bool:
    """Every pair given or both empty, and inside geo.check_lonlat's bounds."""
    if any((lon is None) != (lat is None) for lon, lat in zip(lons, lats, strict=True)):
        return False
    given_lons = [lon for lon in lons if lon is not None]
    if not given_lons:
        return True
    given_lats = [lat for lat in lats if lat is not None]
    lon_min, lat_min, lon_max, lat_max = geo.CHINA_LONLAT_BOUNDS
    return (lon_min <= min(given_lons) and max(given_lons) <= lon_max
            and lat_min <= min(given_lats) and max(given_lats) <= lat_max)


def _repairer(source: Source, record: Record, report: ImportReport):
    def repaired(reason: str, area_m2: float) -> None:
        report.note(source.name, _("%(where)s 几何无效（%(reason)s），已用 make_valid 修复（修复后面积 %(area)s m²）；"
                                   "要拒收而不修复，请加 --strict",
                                   where=record.where, reason=reason, area=f"{area_m2:.0f}"))
    return repaired


def _parse_geometry(spec: TableSpec, record: Record, row: dict, problem, repaired=None) -> None:
    geometry = record.geometry
    if spec.point_columns and ("lon" in record.cells or "lat" in record.cells):
        lon, lat = record.cells.get("lon", "").strip(), record.cells.get("lat", "").strip()
        if bool(lon) != bool(lat):
            problem("lon" if not lon else "lat", _("经度和纬度要么都填，要么都空"), _("位置未知时两列都留空"))
            return
        if not lon:
            row["_geom"] = None
            return
        try:
            position = geo.LonLat(f.parse_float(lon), f.parse_float(lat))
            geo.check_lonlat(*position)  # all a point's check_geometry asks, without a shapely Point
        except f.CellProblem as exc:
            problem("lon/lat", exc.problem, exc.hint)
            return
        except geo.GeometryProblem as exc:
            problem("lon/lat", exc.problem, exc.hint)
            return
        row["_geom"] = position
        return
    if isinstance(geometry, geo.GeometryProblem):
        problem("geometry", geometry.problem, geometry.hint)
        return
    if geometry is None:
        row["_geom"] = None
        if spec.geometry_required:
            problem("geometry", _("缺少图形"), _("每个网格都要有边界面"))
        return
    if not spec.geometry:
        return
    try:
        if repaired is not None and geometry.geom_type in ("Polygon", "MultiPolygon"):
            geometry = geo.repair_polygonal(geometry, repaired)
        geo.check_geometry(geometry, spec.geometry)
    except geo.GeometryProblem as exc:
        problem("geometry" if not spec.point_columns else "lon/lat", exc.problem, exc.hint)
        return
    row["_geom"] = geo.as_multipolygon(geometry) if "MultiPolygon" in spec.geometry else geometry


# --- references --------------------------------------------------------------------------


def _check_checklist(items: dict, county_code: str, source, row: dict,
                     report: ImportReport) -> None:
    """A visit's checklist holds only the county's 三必看/三必问/三必留 items (`items`: the
    settings' `visit.checklist`), as the tablet's form records them."""
    from gridmap import visits

    try:
        row["checklist"] = visits.validate_checklist(row.get("checklist"), items)
    except GridmapError as refused:
        report.add(Problem(source.name, row["_where"], "checklist", refused.message,
                           _("只能填写本县走访清单的项目：gridmap settings get %(county)s visit.checklist",
                             county=county_code)))


def _check_code_change(connection: Connection, county_code: str, source, rows: list[dict], row: dict,
                       report: ImportReport) -> None:
    """A recorded code change must be one gridmap.recode allows, with the file's other changes."""
    pending = {other["old_code"]: other["new_code"] for other in rows if other is not row}
    try:
        recode.check_change(connection, county_code, row["old_code"], row["new_code"], pending)
    except BadInput as refused:
        report.add(Problem(source.name, row["_where"], refused.field or "new_code", refused.message,
                           _("改正这一行，或删去它（已记录的变更：gridmap codes list）")))


def check_references(connection: Connection, batch, county_code: str, report: ImportReport, *,
                     only: str | None = None, known: dict[str, dict] | None = None,
                     stored: Callable[[str], dict] | None = None) -> None:
    """Every code a row points at exists, in this import or already in the database
    (`only`: check that table's rows; `known`: the codes looked up so far, kept between batches;
    `stored`: a table's keys in the database, when someone holds them already: the import's
    writer does, so a county's 300k household codes are held once, not twice)."""
    known = {} if known is None else known
    stored = stored or (lambda table: existing_keys(connection, table, county_code))

    def checklist() -> dict:  # read once per import, not once per visit
        if "checklist" not in known:
            from gridmap import visits

            known["checklist"] = visits.checklist_items(connection, county_code)
        return known["checklist"]

    def keys(table: str) -> dict:
        if table not in known:
            if table == "scope":
                known[table] = keys("region") | dict.fromkeys(keys("grid"), "grid")
            else:
                known[table] = stored(table)
                for spec, _source, rows in batch:
                    if spec.table == table:  # a copy then: what `stored` gave may be shared
                        name = spec.key[0]
                        known[table] = known[table] | {r[name]: r.get("level") for r in rows}
        return known[table]

    for spec, source, rows in batch:
        if only is not None and spec.table != only:
            continue
        referring = [field for field in spec.fields if field.ref is not None]
        for row in rows:
            for field in referring:
                value = row.get(field.name)
                if value is None:
                    continue
                table = field.ref.table
                if value not in keys(table):
                    if "changes" not in known:
                        known["changes"] = recode.recorded(connection, county_code)
                    changed_to = recode.new_code_of(known["changes"], value) if table in ("region", "scope") else None
                    report.add(Problem(source.name, row["_where"], field.name,
                                       _("%(what)s %(code)s 不存在", what=TABLE_LABELS.get(table, table), code=value),
                                       _("代码 %(old)s 已改为 %(new)s（gridmap codes list）：请改用新代码",
                                         old=value, new=changed_to) if changed_to else
                                       _("请先导入它（或在同一批文件中提供），或检查代码是否抄错")))
                elif field.ref.level and keys(table)[value] != field.ref.level:
                    report.add(Problem(source.name, row["_where"], field.name,
                                       _("%(code)s 不是%(level)s级区划", code=value, level=field.ref.level),
                                       _("请填写对应级别的代码")))
            if spec.table == "visit":
                _check_checklist(checklist(), county_code, source, row, report)
            if spec.table == "region_code_change":
                _check_code_change(connection, county_code, source, rows, row, report)
            if spec.table == "app_user" and row["login"] not in existing_keys(
                    connection, "app_user", county_code) and len(row.get("password") or "") < 8:
                report.add(Problem(source.name, row["_where"], "password", _("新用户需要至少 8 位的密码"),
                                   _("请填写初始密码（导入后保存为哈希）")))
            if report.full:
                return
