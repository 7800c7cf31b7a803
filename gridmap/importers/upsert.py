"""Set-based writes: COPY parsed rows into a staging table, then one INSERT … ON CONFLICT.

Counts come back from RETURNING: `xmax = 0` marks a fresh insert; rows the
`IS DISTINCT FROM` guard skipped are unchanged.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gridmap import geo
from gridmap.importers.specs import SPEC_BY_TABLE, TableSpec
from gridmap.users import hash_password

CONFLICT = {"region": "(code) WHERE valid_to IS NULL", "grid": "(code) WHERE valid_to IS NULL",
            "area_grid": "(area_id, grid_code)", "app_user": "(login)", "visit": "(client_uuid)",
            "issue_ownership": "(county_code, category_code, region_code)"}
NEVER_UPDATED = {"client_uuid", "password_hash"}
KEY_QUERIES = {
    "region": "SELECT code, level FROM region WHERE county_code = :c AND valid_to IS NULL",
    "grid": "SELECT code, id FROM grid WHERE county_code = :c AND valid_to IS NULL",
    "app_user": "SELECT login, id FROM app_user WHERE county_code = :c",
}
VISIT_NAMESPACE = uuid.UUID("6f1d3c1e-8c52-4c2a-9b0e-3a9d1f6b2c10")


def existing_keys(connection: Connection, table: str, county_code: str) -> dict[str, object]:
    """Natural key → id (or level, for regions) of the county's current rows of `table`."""
    sql = KEY_QUERIES.get(table, f"SELECT code, id FROM {table} WHERE county_code = :c")
    return dict(connection.execute(text(sql), {"c": county_code}).all())


class Writer:
    """Writes parsed rows table by table inside the caller's transaction."""

    def __init__(self, connection: Connection, county_code: str):
        self.connection = connection
        self.county_code = county_code
        self.ids: dict[str, dict[str, object]] = {}
        self.new_issue_codes: set[str] = set()

    def id_of(self, table: str, key: str | None):
        if key is None:
            return None
        if table not in self.ids:
            self.ids[table] = existing_keys(self.connection, table, self.county_code)
        return self.ids[table][key]

    def db_row(self, spec: TableSpec, row: dict) -> dict:
        out = {"county_code": self.county_code}
        for field in spec.fields:
            if field.column == "":
                continue
            value = row[field.name]
            if field.ref is not None and field.ref.to_id:
                value = self.id_of(field.ref.table, value)
            out[field.column or field.name] = value
        if spec.geometry:
            out["geom"] = row["_geom"]
        return out

    def write(self, spec: TableSpec, rows: list[dict]) -> tuple[int, int, int]:
        """(inserted, updated, unchanged) for `rows` of `spec`'s table."""
        self.ids.pop(spec.table, None)
        method = getattr(self, f"_write_{spec.table}", None)
        db_rows = [self.db_row(spec, row) for row in rows]
        counts = method(rows, db_rows) if method else self.upsert(spec.table, db_rows)
        self.ids.pop(spec.table, None)
        return counts

    # --- the generic upsert ---------------------------------------------------------

    def upsert(self, table: str, db_rows: list[dict], *, insert_exprs: dict[str, str] | None = None,
               extra_set: str = "", returning: str = "NULL") -> tuple[int, int, int]:
        if not db_rows:
            return 0, 0, 0
        columns = list(db_rows[0])
        stage = self.stage(table, columns, db_rows)
        conflict = CONFLICT.get(table, "(county_code, code)")
        keys = {c.strip() for c in conflict.split(")")[0].strip("(").split(",")}
        update = [c for c in columns if c not in keys | NEVER_UPDATED | {"county_code"}]
        select = ", ".join((insert_exprs or {}).get(c, c) for c in columns)
        if update:
            action = (f"DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in update)}{extra_set}"
                      f" WHERE ({', '.join(f't.{c}' for c in update)}) IS DISTINCT FROM"
                      f" ({', '.join(f'EXCLUDED.{c}' for c in update)})")
        else:
            action = "DO NOTHING"
        result = self.connection.exec_driver_sql(
            f"INSERT INTO {table} AS t ({', '.join(columns)}) SELECT {select} FROM {stage}"
            f" ON CONFLICT {conflict} {action} RETURNING (t.xmax = 0), {returning}").all()
        self.connection.exec_driver_sql(f"DROP TABLE {stage}")
        self.returned = result
        inserted = sum(1 for fresh, _ in result if fresh)
        return inserted, len(result) - inserted, len(db_rows) - len(result)

    def stage(self, table: str, columns: list[str], db_rows: list[dict]) -> str:
        """A temporary copy of `table`'s column types, filled by COPY."""
        stage = f"_import_{table}"
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
        self.connection.exec_driver_sql(
            f"CREATE TEMP TABLE {stage} AS SELECT {', '.join(columns)} FROM {table} WITH NO DATA")
        buffer = io.StringIO()
        for row in db_rows:
            buffer.write("\t".join(_copy_cell(row[c]) for c in columns))
            buffer.write("\n")
        buffer.seek(0)
        cursor = self.connection.connection.dbapi_connection.cursor()
        cursor.copy_expert(f"COPY {stage} ({', '.join(columns)}) FROM STDIN", buffer)
        cursor.close()
        return stage

    # --- tables with their own rules ------------------------------------------------

    def _write_issue(self, rows, db_rows):
        for db in db_rows:
            db["status_changed_at"] = db["status_changed_at"] or db["reported_at"]
        counts = self.upsert("issue", db_rows, returning="t.code", extra_set=", version = t.version + 1",
                             insert_exprs={"client_uuid": "COALESCE(client_uuid, gen_random_uuid())"})
        self.new_issue_codes = {code for fresh, code in self.returned if fresh}
        return counts

    def _write_issue_event(self, rows, db_rows):
        """The ledger is append-only: events are added only for issues this import created."""
        fresh = [db for row, db in zip(rows, db_rows, strict=True)
                 if row["issue_code"] in self.new_issue_codes]
        fresh.sort(key=lambda db: (db["issue_id"], db["at"]))
        if fresh:
            columns = list(fresh[0])
            stage = self.stage("issue_event", columns, fresh)
            self.connection.exec_driver_sql(
                f"INSERT INTO issue_event ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {stage}")
            self.connection.exec_driver_sql(f"DROP TABLE {stage}")
        return len(fresh), 0, len(rows) - len(fresh)

    def _write_app_user(self, rows, db_rows):
        known = set(existing_keys(self.connection, "app_user", self.county_code))
        for row, db in zip(rows, db_rows, strict=True):
            # Passwords are set when an account is created; `gridmap users reset-password` changes them.
            db["password_hash"] = "!kept" if row["login"] in known else hash_password(row["password"])
        return self.upsert("app_user", db_rows)

    def _write_visit(self, rows, db_rows):
        for db in db_rows:
            if db["client_uuid"] is None:  # re-importing the same visit must not double it
                db["client_uuid"] = uuid.uuid5(VISIT_NAMESPACE, "|".join(
                    str(db[c]) for c in ("county_code", "household_id", "cadre_id", "kind", "visited_at")))
        return self.upsert("visit", db_rows)

    def _write_assignment(self, rows, db_rows):
        """No natural key in the table: a current row with the same kind, who and target is this one."""
        columns = ("kind", "cadre_id", "unit_id", "region_code", "area_id", "grid_code",
                   "party_branch_id", "household_id")
        current = {tuple(r[1:]): r[0] for r in self.connection.exec_driver_sql(
            f"SELECT id, {', '.join(columns)} FROM assignment"
            f" WHERE county_code = %(c)s AND valid_to IS NULL", {"c": self.county_code})}
        fresh, ended = [], []
        for db in db_rows:
            existing = current.get(tuple(db[c] for c in columns))
            if existing is None:
                fresh.append({k: v for k, v in db.items() if k != "valid_from" or v is not None})
            elif db["valid_to"] is not None:
                ended.append({"id": existing, "valid_to": db["valid_to"]})
        for group in _same_columns(fresh):
            stage = self.stage("assignment", list(group[0]), group)
            self.connection.exec_driver_sql(
                f"INSERT INTO assignment ({', '.join(group[0])}) SELECT {', '.join(group[0])} FROM {stage}")
            self.connection.exec_driver_sql(f"DROP TABLE {stage}")
        if ended:
            self.connection.execute(
                text("UPDATE assignment SET valid_to = :valid_to WHERE id = :id"), ended)
        return len(fresh), len(ended), len(db_rows) - len(fresh) - len(ended)


def _same_columns(rows: list[dict]) -> list[list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


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
    elif hasattr(value, "geom_type"):
        value = geo.ewkt(value)
    else:
        value = str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


__all__ = ["Writer", "existing_keys", "SPEC_BY_TABLE"]
