"""Set-based writes, one function a table (`WRITERS`), all through `copy_insert`: COPY the
parsed rows into a staging table, then one INSERT … SELECT (ON CONFLICT for upserts).

Upsert counts come back from RETURNING: `xmax = 0` marks a fresh insert; rows the
`IS DISTINCT FROM` guard skipped are unchanged.
"""

from __future__ import annotations

import io
import json
import operator
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gridmap import generations, geo
from gridmap.datakey import id_number_encrypter
from gridmap.errors import _, system_text
from gridmap.importers.specs import SPEC_BY_TABLE, TableSpec
from gridmap.users import hash_password

CONFLICT = {"region": "(code) WHERE valid_to IS NULL", "grid": "(code) WHERE valid_to IS NULL",
            "area_grid": "(area_id, grid_code)", "app_user": "(login)", "visit": "(client_uuid)",
            "issue_ownership": "(county_code, category_code, region_code)",
            "region_code_change": "(county_code, old_code)"}
NEVER_UPDATED = {"client_uuid", "password_hash"}
KEY_QUERIES = {
    "region": "SELECT code, level FROM region WHERE county_code = :c AND valid_to IS NULL",
    "grid": "SELECT code, id FROM grid WHERE county_code = :c AND valid_to IS NULL",
    "app_user": "SELECT login, id FROM app_user WHERE county_code = :c",
}
VISIT_NAMESPACE = uuid.UUID("6f1d3c1e-8c52-4c2a-9b0e-3a9d1f6b2c10")


class Counts(NamedTuple):
    """Rows inserted, updated and left unchanged by one write."""
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class Upserted(NamedTuple):
    counts: Counts
    fresh: list  # the `returning` value of each row inserted (not updated)
    changed: list = []  # (code, [columns that differ]) of rows updated, for the diff summary


def existing_keys(connection: Connection, table: str, county_code: str) -> dict[str, object]:
    """Natural key → id (or level, for regions) of the county's current rows of `table`."""
    sql = KEY_QUERIES.get(table, f"SELECT code, id FROM {table} WHERE county_code = :c")
    return dict(connection.execute(text(sql), {"c": county_code}).all())


class DbColumns(NamedTuple):
    """A batch's table rows held a column at a time (column → its values, each as long as
    `rows`): what COPY's text is built from. `text`: that text, when made ahead
    (`Writer.ready`), in the order of `values`, encoded as the connection sends it."""
    values: dict[str, list]
    rows: int
    text: bytes | None = None


def as_columns(db_rows: list[dict] | DbColumns) -> DbColumns:
    """`db_rows` a column at a time (the first row's columns)."""
    if isinstance(db_rows, DbColumns):
        return db_rows
    if not db_rows:
        return DbColumns({}, 0)
    return DbColumns({c: [row[c] for row in db_rows] for c in db_rows[0]}, len(db_rows))


class Writer:
    """Writes parsed rows table by table inside the caller's transaction."""

    def __init__(self, connection: Connection, county_code: str):
        self.connection = connection
        self.county_code = county_code
        self.ids: dict[str, dict[str, object]] = {}
        # Natural keys this import inserted, by table: issue events follow only new issues.
        self.created: dict[str, set[str]] = {}
        # Boundaries redrawn by this import, by table (gridmap.generations).
        self.changes: dict[str, generations.GenerationChange] = {}
        # Rows updated and the columns that changed, by table (the first few: a diff summary).
        self.changed: dict[str, list[tuple[str, list[str]]]] = {}
        # Rows staged so far, by table, of a table written once its file is read (FINISHERS).
        self.staged: dict[str, int] = {}
        self.had_rows: dict[str, bool] = {}
        # The last household batch's households placed in no grid, (code, GeoJSON point),
        # when its insert could say (write_households); None: to be looked up.
        self.placed_nowhere: list[tuple[str, str]] | None = None

    def stored_before(self, table: str) -> bool:
        """Whether the county had rows of `table` before this import wrote any: if not, no
        later batch can change a stored row (keys are unique within a file), so no diff is
        looked for. Asked before the table's first write."""
        if table not in self.had_rows:
            self.had_rows[table] = self.connection.exec_driver_sql(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE county_code = %(c)s)",
                {"c": self.county_code}).scalar()
        return self.had_rows[table]

    def noted(self, table: str, result: Upserted) -> Counts:
        """`result`'s counts, keeping its diff for the report."""
        if result.changed:
            self.changed.setdefault(table, []).extend(result.changed)
        return result.counts

    def keys(self, table: str) -> dict[str, object]:
        """The county's rows of `table` as they stand: natural key → id (`existing_keys`), read
        once until this writer writes the table (shared with core.check_references: not a copy)."""
        if table not in self.ids:
            self.ids[table] = existing_keys(self.connection, table, self.county_code)
        return self.ids[table]

    def id_of(self, table: str, key: str | None):
        """The id of the county's row of `table` with natural key `key`."""
        return None if key is None else self.keys(table)[key]

    def db_rows(self, spec: TableSpec, rows: list[dict]) -> list[dict]:
        """Parsed rows as the table's columns (references resolved to ids), the fields'
        columns worked out once a batch."""
        columns = [(field.name, field.column or field.name,
                    field.ref.table if field.ref is not None and field.ref.to_id else None)
                   for field in spec.fields if field.column != ""]
        out = []
        for row in rows:
            db = {"county_code": self.county_code}
            for name, column, to_id in columns:
                db[column] = row[name] if to_id is None else self.id_of(to_id, row[name])
            if spec.geometry:
                db["geom"] = row["_geom"]
            out.append(db)
        return out

    def db_columns(self, spec: TableSpec, rows: list[dict]) -> DbColumns:
        """`db_rows`, a column at a time: each column cut out of the parsed rows by one C-level
        pass (a dict a row, then a list a column, was a tenth of a household import; a tuple
        a row transposed by zip, 1.6 times this)."""
        fields = [(field.name, field.column or field.name,
                   field.ref.table if field.ref is not None and field.ref.to_id else None)
                  for field in spec.fields if field.column != ""]
        if not rows or len(fields) < 2:
            return as_columns(self.db_rows(spec, rows))
        values = {"county_code": [self.county_code] * len(rows)}
        for name, column, to_id in fields:
            cells = list(map(operator.itemgetter(name), rows))
            values[column] = cells if to_id is None else [self.id_of(to_id, key) for key in cells]
        if spec.geometry:
            values["geom"] = list(map(operator.itemgetter("_geom"), rows))
        return DbColumns(values, len(rows))

    def ready(self, spec: TableSpec, rows: list[dict]) -> DbColumns | None:
        """A batch of a COLUMNWISE table ready for COPY: its columns, their values as stored
        (`AS_STORED`) and COPY's text, made without the connection, so on the import's own
        thread while the batch before is written (on the write's thread, this Python work
        held up the server's and fought the parse for the interpreter lock). None for other
        tables."""
        if spec.table not in COLUMNWISE:
            return None
        db = self.db_columns(spec, rows)
        for column, stored in AS_STORED.get(spec.table, {}).items():
            if column in db.values:
                db.values[column] = list(map(stored(), db.values[column]))
        return db._replace(text=copy_text(db, list(db.values)).encode())

    def write(self, spec: TableSpec, rows: list[dict], staged: DbColumns | None = None) -> Counts:
        """(inserted, updated, unchanged) for `rows` of `spec`'s table (`staged`: the batch
        as `ready` made it, else made here)."""
        self.ids.pop(spec.table, None)
        db = staged if staged is not None else self.ready(spec, rows)
        if db is None:
            db = self.db_rows(spec, rows)
        counts = WRITERS[spec.table](self, spec.table, rows, db)
        self.ids.pop(spec.table, None)
        return counts

    def finish(self, spec: TableSpec) -> Counts:
        """What writing `spec`'s staged rows did, once its file is read (Counts() for a table
        written batch by batch)."""
        finish = FINISHERS.get(spec.table)
        return finish(self, spec.table) if finish is not None else Counts()


# --- the one way rows reach a table ---------------------------------------------------


# Bytes handed to the server per read of a COPY's buffer: the default 8 KiB made the writing
# thread take the interpreter lock back from the parsing thread a thousand times a batch.
COPY_CHUNK = 1 << 20


def copy_insert(connection: Connection, table: str, db_rows: list[dict] | DbColumns, tail: str = "", *,
                select: dict[str, str] | None = None, join: str = "",
                before: Callable[[str], None] | None = None, counted: bool = False,
                then: str | None = None) -> list:
    """COPY `db_rows` into a temporary copy of `table`'s columns and INSERT … SELECT them into
    `table` (`AS t`); `tail` adds ON CONFLICT / RETURNING, `select` replaces a column's value
    by an expression (over the staging table `_import_<table>` and what `join` adds to its
    FROM), `before(staging table)` looks at the staged rows first. The rows RETURNING gives
    ([] without RETURNING); `counted`: RETURNING gives one boolean a row, counted in SQL, and
    the result is [(trues, rows)] (not a row a household sent back); `then`: a query over the
    rows RETURNING gives (as `written`), whose rows are the result instead."""
    staged = as_columns(db_rows)
    columns = list(staged.values)
    stage = f"_import_{table}"
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE {stage} AS SELECT {', '.join(columns)} FROM {table} WITH NO DATA")
    buffer = io.BytesIO(staged.text if staged.text is not None else copy_text(staged, columns).encode())
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.copy_expert(f"COPY {stage} ({', '.join(columns)}) FROM STDIN", buffer, size=COPY_CHUNK)
    cursor.close()
    if before is not None:
        before(stage)
    insert = (f"INSERT INTO {table} AS t ({', '.join(columns)})"
              f" SELECT {', '.join((select or {}).get(c, c) for c in columns)} FROM {stage} {join} {tail}")
    if counted:
        insert = (f"WITH written (flag) AS ({insert})"
                  f" SELECT count(*) FILTER (WHERE flag), count(*) FROM written")
    elif then is not None:
        insert = f"WITH written AS ({insert}) {then}"
    result = connection.exec_driver_sql(insert)
    returned = result.all() if result.returns_rows else []
    connection.exec_driver_sql(f"DROP TABLE {stage}")
    return returned


def upsert(connection: Connection, table: str, db_rows: list[dict] | DbColumns, *,
           select: dict[str, str] | None = None, join: str = "", extra_set: str = "",
           returning: str = "NULL", kept: frozenset[str] = frozenset(),
           prepare: Callable[[str], None] | None = None, compare: bool = True) -> Upserted:
    """Insert new rows, update changed ones (by the table's natural key), leave the rest
    (`kept`: columns set on insert only, e.g. a state the app moves on from there;
    `prepare(staging table)`: complete (or index) the staged rows in SQL before they are compared;
    `compare`: False when no stored row can be among them, so no diff is looked for, and
    nothing wanted back, the rows are plainly inserted: ON CONFLICT's speculative insertion
    cost a third of a county's first household load. A row another transaction stored
    meanwhile then fails the unique key, and the import is refused whole)."""
    staged = as_columns(db_rows)
    if not staged.rows:
        return Upserted(Counts(), [])
    columns, count = list(staged.values), staged.rows
    conflict = CONFLICT.get(table, "(county_code, code)")
    keys = {c.strip() for c in conflict.split(")")[0].strip("(").split(",")}
    update = [c for c in columns if c not in keys | NEVER_UPDATED | kept | {"county_code"}]
    if update:
        action = (f"DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in update)}{extra_set}"
                  f" WHERE ({', '.join(f't.{c}' for c in update)}) IS DISTINCT FROM"
                  f" ({', '.join(f'EXCLUDED.{c}' for c in update)})")
    else:
        action = "DO NOTHING"
    changed: list = []
    diff = _differ(connection, table, columns, update, conflict, select, join, changed) \
        if "code" in keys and update and compare else None
    def before(stage: str) -> None:
        if prepare is not None:
            prepare(stage)
        if diff is not None:
            diff(stage)
    if returning == "NULL" and not compare:
        copy_insert(connection, table, staged, select=select, join=join, before=prepare)
        return Upserted(Counts(count), [None] * count)
    if returning == "NULL":  # nothing wanted back but the counts: counted in SQL
        [(inserted, written)] = copy_insert(
            connection, table, staged, f"ON CONFLICT {conflict} {action} RETURNING (t.xmax = 0)",
            select=select, join=join, before=before, counted=True)
        return Upserted(Counts(inserted, written - inserted, count - written), [None] * inserted,
                        changed)
    result = copy_insert(connection, table, staged,
                         f"ON CONFLICT {conflict} {action} RETURNING (t.xmax = 0), {returning}",
                         select=select, join=join, before=before)
    fresh = [value for inserted, value in result if inserted]
    return Upserted(Counts(len(fresh), len(result) - len(fresh), count - len(result)), fresh, changed)


DIFF_LISTED = 20


def _differ(connection, table, columns, update, conflict, select, join, changed):
    """A look at the staged rows: which existing rows of the same code would change, and in
    which columns (the first DIFF_LISTED, into `changed`). Skipped when the county has no rows
    yet (a first load has nothing to compare)."""
    def diff(stage: str) -> None:
        if not connection.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {table})").scalar():
            return
        staged = ", ".join(f"{(select or {}).get(c, c)} AS {c}" for c in columns)
        current = " AND t.valid_to IS NULL" if "valid_to IS NULL" in conflict else ""
        cases = ", ".join(f"CASE WHEN s.{c} IS DISTINCT FROM t.{c} THEN '{c}' END" for c in update)
        found = connection.exec_driver_sql(
            f"SELECT s.code, array_remove(ARRAY[{cases}]::text[], NULL)"
            f" FROM (SELECT {staged} FROM {stage} {join}) AS s JOIN {table} AS t"
            f" ON t.code = s.code AND t.county_code = s.county_code{current}"
            f" WHERE ({', '.join(f's.{c}' for c in update)}) IS DISTINCT FROM ({', '.join(f't.{c}' for c in update)})"
            f" ORDER BY s.code LIMIT {DIFF_LISTED}").all()
        changed.extend((code, list(names)) for code, names in found)
    return diff


# --- the writers: one a table ---------------------------------------------------------
# write(writer, table, rows, db_rows) → Counts; `rows` as parsed, `db_rows` as columns.

Write = Callable[[Writer, str, list[dict], list[dict]], Counts]


def write_upsert(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    return writer.noted(table, upsert(writer.connection, table, db_rows))


def write_issues(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    for db in db_rows:
        db["status_changed_at"] = db["status_changed_at"] or db["reported_at"]
    result = upsert(writer.connection, table, db_rows, returning="t.code",
                    extra_set=", version = t.version + 1",
                    select={"client_uuid": "COALESCE(client_uuid, gen_random_uuid())"})
    writer.created.setdefault(table, set()).update(result.fresh)  # the file comes in batches
    return writer.noted(table, result)


# Events are staged for the whole file, then appended at once in each issue's time order
# (gridmap.importers.histories replays them from the stage first, an issue at a time).
EVENT_STAGE = "import_issue_event"


def stage_issue_events(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    """Keep a batch of events (with their `seq` and row number) in the stage; nothing is
    appended yet (`append_issue_events`, once the file is read)."""
    connection = writer.connection
    if table not in writer.staged:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {EVENT_STAGE}")
        connection.exec_driver_sql(  # ON COMMIT DROP: a pooled connection keeps no stage
            f"CREATE TEMP TABLE {EVENT_STAGE} ON COMMIT DROP AS SELECT {', '.join(db_rows[0])}"
            f" FROM issue_event WITH NO DATA")
        connection.exec_driver_sql(f"ALTER TABLE {EVENT_STAGE} ADD COLUMN seq integer, ADD COLUMN n integer")
        writer.staged[table] = 0
    first = writer.staged[table]
    for number, (row, db) in enumerate(zip(rows, db_rows, strict=True), first + 1):
        db["seq"], db["n"] = row["seq"], number
    copy_insert(connection, EVENT_STAGE, db_rows)
    writer.staged[table] = first + len(rows)
    return Counts()


def staged_events(writer: Writer):
    """The staged events as (issue code, seq, row number, from_status, to_status, action,
    level), by issue code, seq and row number, read through a server-side cursor."""
    result = writer.connection.execute(text(
        f"SELECT i.code, s.seq, s.n, s.from_status, s.to_status, s.action, s.level"
        f" FROM {EVENT_STAGE} AS s JOIN issue AS i ON i.id = s.issue_id ORDER BY i.code, s.seq, s.n"
    ).execution_options(stream_results=True, yield_per=5_000))
    for row in result:
        yield tuple(row)


def append_issue_events(writer: Writer, table: str) -> Counts:
    """The ledger is append-only: events are added only for issues this import created, each
    issue's in time order (the stage's rows, read whole)."""
    connection = writer.connection
    if table not in writer.staged:
        return Counts()
    staged = connection.exec_driver_sql(f"SELECT * FROM {EVENT_STAGE} LIMIT 0").keys()
    columns = [c for c in staged if c not in ("seq", "n")]
    inserted = connection.execute(text(
        f"INSERT INTO issue_event ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {EVENT_STAGE}"
        f" WHERE issue_id IN (SELECT id FROM issue WHERE county_code = :c AND code = ANY(:codes))"
        f" ORDER BY issue_id, at, n"),
        {"c": writer.county_code, "codes": sorted(writer.created.get("issue", ()))}).rowcount
    connection.exec_driver_sql(f"DROP TABLE {EVENT_STAGE}")
    total = writer.staged.pop(table)
    return Counts(inserted, 0, total - inserted)


def write_callbacks(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    """回访 of the issues this import created (a ledger, like the events). When the reporter is a
    registered household each 回访 is also a visit of kind callback, as issues.record_callback
    makes one online: the import's own callback visit of that issue, else a new visit."""
    new_issues = writer.created.get("issue", set())
    fresh = [db for row, db in zip(rows, db_rows, strict=True) if row["issue_code"] in new_issues]
    fresh.sort(key=lambda db: (db["issue_id"], db["at"]))
    if fresh:
        _link_callback_visits(writer, fresh)
        copy_insert(writer.connection, table, fresh)
    return Counts(len(fresh), 0, len(rows) - len(fresh))


def _link_callback_visits(writer: Writer, callbacks: list[dict]) -> None:
    """Set each 回访's `visit_id`: for a household's issue, its callback visits not yet linked
    are paired in time order, reached 回访 with visits that have a satisfaction and unreached
    ones with visits that do not; a 回访 left without one gets a new visit (its answers)."""
    connection, county = writer.connection, writer.county_code
    issue_ids = sorted({db["issue_id"] for db in callbacks})
    households = dict(connection.execute(text(
        "SELECT id, household_id FROM issue WHERE county_code = :c AND id = ANY(:ids)"
        " AND household_id IS NOT NULL"), {"c": county, "ids": issue_ids}).all())
    pool: dict[tuple, list[int]] = {}
    for visit_id, issue_id, reached in connection.execute(text(
            "SELECT v.id, v.issue_id, v.satisfaction IS NOT NULL FROM visit v"
            " WHERE v.county_code = :c AND v.kind = 'callback' AND v.issue_id = ANY(:ids)"
            " AND NOT EXISTS (SELECT 1 FROM callback k WHERE k.visit_id = v.id)"
            " ORDER BY v.issue_id, v.visited_at, v.id"), {"c": county, "ids": issue_ids}):
        pool.setdefault((issue_id, reached), []).append(visit_id)
    missing = []
    for db in callbacks:
        db["visit_id"] = None
        if db["issue_id"] in households:
            waiting = pool.get((db["issue_id"], bool(db["reached"])))
            if waiting:
                db["visit_id"] = waiting.pop(0)
            else:
                missing.append(db)
    if not missing:
        return
    visits = [{"county_code": county, "household_id": households[db["issue_id"]],
               "cadre_id": db.get("by_cadre_id"), "user_id": db.get("by_user_id"),
               "kind": "callback", "visited_at": db["at"], "issue_id": db["issue_id"],
               "satisfaction": db.get("satisfaction"),
               "notes": db.get("note") or db.get("unreached_reason"),
               "client_uuid": uuid.uuid5(VISIT_NAMESPACE, f"callback|{county}|{db['issue_id']}|"
                                                          f"{db['at'].isoformat()}")}
              for db in missing]
    copy_insert(connection, "visit", visits, "ON CONFLICT (client_uuid) DO NOTHING")
    ids = dict(connection.execute(text(
        "SELECT client_uuid, id FROM visit WHERE client_uuid = ANY(:uuids)"),
        {"uuids": [v["client_uuid"] for v in visits]}).all())
    for db, visit in zip(missing, visits, strict=True):
        db["visit_id"] = ids[visit["client_uuid"]]
# A target is where its branch's or grid's village is, unless the file names a region.
TARGET_REGION = {"region_code": (
    "COALESCE(region_code,"
    " (SELECT p.village_code FROM party_branch p WHERE p.id = _import_target.party_branch_id),"
    " (SELECT g.village_code FROM grid g WHERE g.county_code = _import_target.county_code"
    " AND g.code = _import_target.grid_code AND g.valid_to IS NULL LIMIT 1))")}
# The state of a known target is the app's (its ledger goes on from the import's).
TARGET_STATE = frozenset({"status", "tagged_at", "closed_at", "close_requested_by", "due_on"})
IMPORTED_EVIDENCE = system_text(_("据导入的台账记录"))


def write_targets(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    """挂牌 targets by code; each new one gets its history in `target_event` (tagged, and asked
    and approved for 销号 as its status says), so its status is its last event's."""
    result = upsert(writer.connection, table, db_rows, select=TARGET_REGION, returning="t.code",
                    extra_set=", version = t.version + 1", kept=TARGET_STATE)
    if result.fresh:
        by_code = {row["code"]: row for row in rows}
        events = []
        for target_id, code, status, tagged_at, closed_at, asker, reason in writer.connection.execute(text(
                "SELECT id, code, status, tagged_at, closed_at, close_requested_by, reason FROM target"
                " WHERE county_code = :c AND code = ANY(:codes) ORDER BY tagged_at, id"),
                {"c": writer.county_code, "codes": list(result.fresh)}):
            row = by_code[code]
            event = {"county_code": writer.county_code, "target_id": target_id, "note": None,
                     "evidence": None, "by_user_id": None}
            events.append(dict(event, action="tag", from_status=None, to_status="listed",
                               at=tagged_at, note=reason))
            if status != "listed":
                asked = row.get("close_requested_at") or (closed_at if status == "closed" else tagged_at)
                events.append(dict(event, action="request_close", from_status="listed",
                                   to_status="close_requested", at=max(asked, tagged_at),
                                   evidence=row.get("evidence") or IMPORTED_EVIDENCE, by_user_id=asker))
            if status == "closed":
                events.append(dict(event, action="approve_close", from_status="close_requested",
                                   to_status="closed", at=max(closed_at, events[-1]["at"])))
        copy_insert(writer.connection, "target_event", events)
    return writer.noted(table, result)


# A deed for a household is in its village, unless the file names the region.
DEED_REGION = {"region_code": (
    "COALESCE(region_code, (SELECT h.village_code FROM household h"
    " WHERE h.id = _import_deed.household_id))")}


def write_deeds(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    return writer.noted(table, upsert(writer.connection, table, db_rows, select=DEED_REGION))


# A household without a grid code is given the current grid its point lies in (within its
# village when the file names one; the first by code on a shared edge). The join runs grid by
# grid over a GiST index of the staged points (`index_staged_points`): each grid's shape is
# then read and prepared for point-in-polygon tests once, and the points it may hold are found
# by the index. Point by point, a probe into the grids met two candidate shapes in turn and
# neither stayed prepared: nine times the work, and the baseline's join is written that way.
# A re-import compares the same values and stays unchanged. Households outside every grid keep
# no grid (a gap). (OFFSET 0 keeps the planner from turning the join back point by point:
# its costs know nothing of the prepared shapes.)
def locate_households(stage: str) -> str:
    """The LEFT JOIN that gives each household staged in `stage` (by code) without a grid
    code its `located_grid` and `located_village`."""
    return f"""
    LEFT JOIN (
        SELECT DISTINCT ON (staged.code) staged.code AS located_code,
               g.code AS located_grid, g.village_code AS located_village
        FROM grid AS g
        CROSS JOIN LATERAL (
            SELECT s.code FROM {stage} AS s
            WHERE s.grid_code IS NULL AND s.county_code = g.county_code
              AND ST_Covers(g.geom, s.geom)
              AND (s.village_code IS NULL OR s.village_code = g.village_code)
            OFFSET 0) AS staged
        WHERE g.valid_to IS NULL
          AND g.county_code = ANY (ARRAY(SELECT DISTINCT county_code FROM {stage}))
        ORDER BY staged.code, g.code) AS located ON located.located_code = {stage}.code"""


def index_staged_points(connection: Connection, stage: str) -> None:
    """The index `locate_households` finds a grid's points by (those with no grid code)."""
    connection.exec_driver_sql(f"CREATE INDEX ON {stage} USING gist (geom) WHERE grid_code IS NULL")


LOCATED = {"grid_code": "COALESCE(grid_code, located_grid)",
           "village_code": "COALESCE(village_code, located_village)"}


# The households an insert placed in no grid though they have a point, with where they are,
# from the rows it wrote (a look-up after each batch among the county's households outside
# their grids cost more as they grew).
PLACED_NOWHERE = ("SELECT code, ST_AsGeoJSON(geom, 6) FROM written"
                  " WHERE grid_code IS NULL AND geom IS NOT NULL ORDER BY code")


def write_households(writer: Writer, table: str, rows: list[dict], db_rows: DbColumns) -> Counts:
    """Households as `Writer.ready` made them (ID numbers encrypted: AS_STORED). When the
    county had no households (nothing to compare), the batch's households placed in no grid
    go to `writer.placed_nowhere`; otherwise it is None."""
    stage = f"_import_{table}"
    placing = {"select": LOCATED, "join": locate_households(stage),
               "prepare": partial(index_staged_points, writer.connection)}
    if writer.stored_before(table):
        writer.placed_nowhere = None
        return writer.noted(table, upsert(writer.connection, table, db_rows, **placing))
    writer.placed_nowhere = copy_insert(
        writer.connection, table, db_rows, "RETURNING t.code, t.grid_code, t.geom",
        select=placing["select"], join=placing["join"], before=placing["prepare"], then=PLACED_NOWHERE)
    return Counts(db_rows.rows)


def write_users(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    known = set(existing_keys(writer.connection, table, writer.county_code))
    for row, db in zip(rows, db_rows, strict=True):
        # Passwords are set when an account is created; `gridmap users reset-password` changes them.
        db["password_hash"] = "!kept" if row["login"] in known else hash_password(row["password"])
    return upsert(writer.connection, table, db_rows).counts


def write_visits(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    for db in db_rows:
        if db["client_uuid"] is None:  # re-importing the same visit must not double it
            db["client_uuid"] = uuid.uuid5(VISIT_NAMESPACE, "|".join(
                str(db[c]) for c in ("county_code", "household_id", "cadre_id", "kind", "visited_at")))
    return upsert(writer.connection, table, db_rows).counts


def write_assignments(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    """No natural key in the table: a current row with the same kind, who and target is this one."""
    columns = ("kind", "cadre_id", "unit_id", "region_code", "area_id", "grid_code",
               "party_branch_id", "household_id")
    # Every row has one assignee (specs._check_assignment): the current rows of this batch's
    # assignees are all it can match, however many the county holds (rows come in batches).
    current = {tuple(r[1:]): r[0] for r in writer.connection.exec_driver_sql(
        f"SELECT id, {', '.join(columns)} FROM assignment"
        f" WHERE county_code = %(c)s AND valid_to IS NULL"
        f" AND (cadre_id = ANY(%(cadres)s) OR unit_id = ANY(%(units)s))",
        {"c": writer.county_code, "cadres": sorted({db["cadre_id"] for db in db_rows if db["cadre_id"]}),
         "units": sorted({db["unit_id"] for db in db_rows if db["unit_id"]})})}
    fresh, ended = [], []
    for db in db_rows:
        existing = current.get(tuple(db[c] for c in columns))
        if existing is None:
            fresh.append({k: v for k, v in db.items() if k != "valid_from" or v is not None})
        elif db["valid_to"] is not None:
            ended.append({"id": existing, "valid_to": db["valid_to"]})
    for group in _same_columns(fresh):
        copy_insert(writer.connection, table, group)
    if ended:
        writer.connection.execute(
            text("UPDATE assignment SET valid_to = :valid_to WHERE id = :id"), ended)
    return Counts(len(fresh), len(ended), len(db_rows) - len(fresh) - len(ended))


def write_generational(writer: Writer, table: str, rows: list[dict], db_rows: list[dict]) -> Counts:
    """Grids and regions: a changed shape ends the old row and starts a new generation
    (gridmap.generations); everything else is an upsert. Replaced rows count as updated."""
    counts = Counts()

    def write_new(replaced: list[str], at) -> None:
        nonlocal counts
        fresh = [dict(db, valid_from=at) for db in db_rows if db["code"] in set(replaced)]
        if fresh:
            copy_insert(writer.connection, table, fresh)
        rest = writer.noted(table, upsert(writer.connection, table,
                                          [db for db in db_rows if db["code"] not in set(replaced)]))
        counts = Counts(rest.inserted, rest.updated + len(fresh), rest.unchanged)

    change = generations.replace_shapes(writer.connection, table, writer.county_code,
                                        {db["code"]: db.get("geom") for db in db_rows}, write_new)
    if change.replaced or change.moved:  # moved: also into grids drawn for the first time
        writer.changes[table] = change
    return counts


WRITERS: dict[str, Write] = {
    "region": write_generational, "grid": write_generational, "unit": write_upsert, "cadre": write_upsert,
    "area": write_upsert, "area_grid": write_upsert, "party_branch": write_upsert,
    "household": write_households, "app_user": write_users, "assignment": write_assignments,
    "issue": write_issues, "issue_event": stage_issue_events, "visit": write_visits,
    "callback": write_callbacks,
    "issue_category": write_upsert, "issue_ownership": write_upsert,
    "target": write_targets, "meeting": write_upsert, "deed": write_deeds,
    "region_code_change": write_upsert,
}

# Tables whose writer takes its batch's rows a column at a time (DbColumns), made ready by
# `Writer.ready` without the connection: none of their fields stores a looked-up id.
COLUMNWISE = frozenset({"household"})

# Columns stored otherwise than parsed, by table: column → a function making the converter.
# ID numbers are stored encrypted (gridmap.datakey); SIV keeps re-imports unchanged.
AS_STORED: dict[str, dict[str, Callable[[], Callable]]] = {"household": {"id_number": id_number_encrypter}}

# Tables staged batch by batch and written once their file is read.
FINISHERS: dict[str, Callable[[Writer, str], Counts]] = {"issue_event": append_issue_events}


def _same_columns(rows: list[dict]) -> list[list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def copy_text(staged: DbColumns, columns: list[str]) -> str:
    """`staged`'s rows in COPY's text format, built a column at a time (a call per cell was a
    fifth of a household import)."""
    if not staged.rows:
        return ""
    texts = [_copy_column(staged.values[c]) for c in columns]
    return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


NULL = r"\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_BOOL_TEXT = {True: "t", False: "f", None: NULL}
_POINT = f"SRID={geo.SRID};POINT(%r %r)"


def _copy_column(values: list) -> list[str]:
    """One column's cells in COPY's text format: whole columns of text, flags, numbers and
    points at once, anything else a cell at a time."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds == {str} and not _COPY_SPECIAL.search("".join(filter(None, values))):
        return [NULL if value is None else value for value in values]
    if kinds <= {bool}:
        return [_BOOL_TEXT[value] for value in values]
    if kinds <= {int, float}:
        return [NULL if value is None else str(value) for value in values]
    if kinds == {geo.LonLat}:
        return [NULL if value is None else _POINT % value for value in values]
    if kinds <= {datetime, date}:
        return [NULL if value is None else value.isoformat() for value in values]
    return list(map(_copy_cell, values))


def _copy_cell(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, geo.LonLat):
        value = value.ewkt()
    elif hasattr(value, "geom_type"):
        value = geo.ewkt(value)
    else:
        value = str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


__all__ = ["Writer", "WRITERS", "Counts", "copy_insert", "upsert", "existing_keys", "SPEC_BY_TABLE"]
