"""The bench's data and databases: the seeded county (cached under var/bench/) and the
databases the rows run on, each kept between runs while its key still matches.

Databases live on the private cluster beside the app's and the tests', under their own
names (`gridmap_bench_*`): the bench never writes to the app's database.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from bench import kept
from gridmap import devdb
from gridmap.db import SESSION_OPTIONS
from gridmap.demo.generate import HOUSEHOLD_COLUMNS
from gridmap.users import hash_password

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
PREFIX = "gridmap_bench"
GRIDMAP = str(Path(sys.executable).parent / "gridmap")  # the venv's command
# Nine more counties of 楚雄州 (plus 武定 itself): the ten-county database's copies.
OTHER_COUNTIES = ("532301", "532322", "532323", "532324", "532325", "532326", "532327",
                  "532328", "532331")
# Tables the coverage rules read, in foreign-key order; issues and users stay out.
COPIED_TABLES = ("region", "grid", "unit", "cadre", "area", "area_grid", "party_branch",
                 "household", "assignment", "visit")
ID_STRIDE = 10_000_000  # copy k's ids are the original's + k × stride: references still match
# Cached databases are migrated in place on every run (as a deployment's would be); bump
# this when what a load writes changes in a way migrations do not bring about.
LOAD_VERSION = 1


def tree_hash(*patterns: str) -> str:
    """A short hash of the files matching `patterns` under the checkout (names and bytes)."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Dataset:
    """The files a run loads: a generated county (cached) or a given directory."""

    directory: Path
    key: str  # changes whenever the files could
    tag: str  # in the names of its databases: "county", or "given" for a directory
    @classmethod
    def county(cls, seed: int, log: Callable[[str], None]) -> Dataset:
        """The county scale for `seed`, generated once per seed and generator version."""
        key = f"county-s{seed}-{tree_hash('gridmap/demo/*.py', 'data/regions/*')}"
        directory = BENCH_VAR / key
        if not (directory / "households.geojson").exists():
            log(f"generating the county (seed {seed}) into {directory} …")
            subprocess.run([GRIDMAP, "demo", "generate",
                            "--seed", str(seed), "--scale", "county", "--out", str(directory)],
                           check=True, stdout=subprocess.DEVNULL)
        return cls(directory, key, "county")

    @classmethod
    def given(cls, directory: Path) -> Dataset:
        """Files already on disk (the tests use the committed demo county)."""
        return cls(directory, f"dir-{tree_hash(str(directory.relative_to(ROOT)) + '/*')}",
                   "given")

    @property
    def derived(self) -> Path:
        """Where files made from the dataset go (never into a committed directory)."""
        return BENCH_VAR / self.key

    def households_csv(self) -> Path:
        """households.csv (lon/lat columns, no grid_code: the import places each household in
        its grid, as the baseline's join does) written once from households.geojson."""
        out = self.derived / "csv-unplaced" / "households.csv"
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        with (self.directory / "households.geojson").open(encoding="utf-8") as src, \
                tmp.open("w", encoding="utf-8", newline="") as dst:
            writer = csv.writer(dst, lineterminator="\n")
            columns = [c for c in HOUSEHOLD_COLUMNS if c != "grid_code"]
            writer.writerow((*columns, "lon", "lat"))
            for line in src:
                line = line.rstrip(",\n")
                if not line.startswith('{"type":"Feature"'):
                    continue
                feature = json.loads(line)
                lonlat = (feature["geometry"] or {}).get("coordinates") or ("", "")
                writer.writerow([feature["properties"].get(c, "") for c in columns]
                                + list(lonlat))
        tmp.replace(out)
        return out

    def boundaries_dir(self) -> Path:
        """Regions and grids alone (links to the county's files): the import row's base."""
        out = self.derived / "boundaries"
        out.mkdir(parents=True, exist_ok=True)
        for name in ("regions.geojson", "grids.geojson"):
            if not (out / name).exists():
                (out / name).symlink_to(self.directory / name)
        return out


def connect(url: str) -> psycopg2.extensions.connection:
    """A connection for a timed baseline, with the session settings gridmap's own use
    (gridmap.db.SESSION_OPTIONS: no JIT), so a ratio compares the work, not the settings."""
    return psycopg2.connect(url, options=SESSION_OPTIONS)


def _with_db(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + dbname))


def admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(devdb.admin_url())
    conn.autocommit = True
    return conn


def _comment(name: str) -> str | None:
    with admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = %s", (name,))
        row = cur.fetchone()
    return row[0] if row else None


class Databases:
    """The bench's databases on the private cluster: app-role URLs, built when stale."""

    def __init__(self, dataset: Dataset, log: Callable[[str], None], scale: int = 1):
        self.dataset = dataset
        self.log = log
        self.scale = scale

    def dbname(self, name: str) -> str:
        return f"{PREFIX}_{self.dataset.tag}_{name}"

    def url(self, name: str) -> str:
        return _with_db(devdb.app_url(), self.dbname(name))

    def owner_url(self, name: str) -> str:
        """The owner role's URL (the app's role may not create tables; baselines may)."""
        return _with_db(devdb.owner_url() or devdb.app_url(), self.dbname(name))

    def admin_url(self, name: str) -> str:
        return _with_db(devdb.admin_url(), self.dbname(name))

    def _ensure(self, name: str, build: Callable[[str], None], template: str | None = None) -> str:
        # Two runs at once (1x and BENCH_SCALE=10 both need the ten-county database): the
        # second waits while the first builds, then finds it made.
        lock = admin()
        with lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (self.dbname(name),))
        try:
            return self._ensure_locked(name, build, template)
        finally:
            lock.close()  # ends the session, and its lock with it

    def _ensure_locked(self, name: str, build: Callable[[str], None],
                       template: str | None = None) -> str:
        dbname, key = self.dbname(name), f"{self.dataset.key}/load-v{LOAD_VERSION}"
        if _comment(dbname) == key:
            self._gridmap(name, "db", "upgrade")
            _analyze(self.owner_url(name))  # fresh statistics: the plans depend on them
            return self.url(name)
        self.log(f"building database {dbname} …")
        role = urlsplit(devdb.owner_url() or devdb.app_url()).username  # the tables' owner
        conn = admin()
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{dbname}" OWNER {role} '
                        f'TEMPLATE {self.dbname(template) if template else "template0"}')
        devdb.ensure_postgis(self.admin_url(name))
        build(name)
        with conn.cursor() as cur:
            cur.execute(f'COMMENT ON DATABASE "{dbname}" IS %s', (key,))
        conn.close()
        return self.url(name)

    def env(self, name: str) -> dict[str, str]:
        """The environment of a `gridmap` command on database `name`."""
        return {**os.environ, "DATABASE_URL": self.url(name),
                "GRIDMAP_OWNER_DATABASE_URL": _with_db(devdb.owner_url() or devdb.app_url(),
                                                       self.dbname(name))}

    def _gridmap(self, name: str, *args: str) -> None:
        subprocess.run([GRIDMAP, *args], env=self.env(name), check=True,
                       stdout=subprocess.DEVNULL)

    def empty(self, name: str) -> str:
        """A new, empty, migrated database (made anew each time: a row loads into it)."""
        dbname, role = self.dbname(name), urlsplit(devdb.owner_url() or devdb.app_url()).username
        conn = admin()
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{dbname}" OWNER {role} TEMPLATE template0')
        conn.close()
        devdb.ensure_postgis(self.admin_url(name))
        self._gridmap(name, "db", "upgrade")
        return self.url(name)

    def _load(self, directory: Path) -> Callable[[str], None]:
        def build(name: str) -> None:
            self._gridmap(name, "db", "upgrade")
            self._gridmap(name, "demo", "load", "--dir", str(directory), "--commit")
            _analyze(self.owner_url(name))  # only the owner may ANALYZE
        return build

    def main(self) -> str:
        """What the served rows run on: one county at 1x, ten at 10x (one county's view)."""
        return self.ten_counties() if self.scale == 10 else self.one_county()

    def one_county(self) -> str:
        """The county, loaded through the import core as `gridmap demo load` does."""
        return self._ensure("1", self._load(self.dataset.directory))

    def ten_counties(self) -> str:
        """The county and nine copies under other county codes (a prefecture's worth)."""
        self.one_county()
        return self._ensure("10", self._copy_counties, template="1")

    def scratch(self, name: str) -> str:
        """A fresh copy of the one-county database for rows that write (made anew each run)."""
        self.one_county()
        dbname, role = self.dbname(name), urlsplit(devdb.owner_url() or devdb.app_url()).username
        conn = admin()
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            # a template may have no other session: only the bench's own idle pools are there
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()", (self.dbname("1"),))
            cur.execute(f'CREATE DATABASE "{dbname}" OWNER {role} TEMPLATE "{self.dbname("1")}"')
        conn.close()
        return self.url(name)

    def drop(self, name: str) -> None:
        """Remove a scratch database."""
        conn = admin()
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.dbname(name)}" WITH (FORCE)')
        conn.close()

    def boundaries(self) -> str:
        """Regions and grids only: the household import runs into it."""
        return self._ensure("import", self._load(self.dataset.boundaries_dir()))

    def _copy_counties(self, name: str) -> None:
        conn = psycopg2.connect(self.admin_url(name))
        with conn, conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.execute("SELECT county_code FROM region WHERE level = 'county'")
            (source,) = cur.fetchone()
            tables = COPIED_TABLES + _kept_tables(cur)
            # Nine counties' rows into indexes built row by row (trigram GIN among them) take
            # several times as long as building the same indexes once after the copy.
            indexes = _plain_indexes(cur, tables)
            for index_name, _definition in indexes:
                cur.execute(f'DROP INDEX "{index_name}"')
            # Triggers off (this session only; the admin is a superuser): the kept facts'
            # statement-level triggers would test each copy's 300,000 households again, with
            # the plain indexes gone (one copy's households took 6 min and its assignments over
            # 16 min at machine load 6); their rows are copied instead, rewritten as the raw
            # rows are, and checked below. Foreign keys are triggers too, so they are not
            # checked either: the copy is of rows already consistent, under one offset.
            cur.execute("SET session_replication_role = replica")
            for k, county in enumerate(OTHER_COUNTIES, start=1):
                self.log(f"  copying county {source} as {county}")
                for table in tables:
                    cur.execute(_copy_sql(cur, table, source, county, k * ID_STRIDE))
            cur.execute("RESET session_replication_role")
            self.log(f"  rebuilding {len(indexes)} indexes")
            for _index_name, definition in indexes:
                cur.execute(definition)
            cur.execute(f"ANALYZE {', '.join(tables)}")  # the check's plans need the copies' figures
            _check_kept(cur, OTHER_COUNTIES[-1])
        conn.close()
        _analyze(self.owner_url(name))


def _kept_tables(cur) -> tuple[str, ...]:
    """The kept facts' tables (bench.kept.KEPT), after making sure they are every table the
    triggers on the copied tables write: a kept table the copy left out would be empty or
    stale in the nine copies."""
    written = kept.kept_tables(cur, COPIED_TABLES)
    if written != set(kept.KEPT):
        raise RuntimeError(
            f"the triggers on {', '.join(COPIED_TABLES)} write {sorted(written)}, bench.kept.KEPT "
            f"lists {sorted(kept.KEPT)}: add the missing table's check to bench/kept.py")
    return tuple(kept.KEPT)


def _check_kept(cur, county: str) -> None:
    """Fail the build when a copied county's kept rows differ from what its raw tables give."""
    drift = {table: n for table, n in kept.drift(cur, county).items() if n}
    if drift:
        raise RuntimeError(f"the ten-county copy's kept facts for {county} differ from its raw "
                           f"tables (rows, per table): {drift}")


def _plain_indexes(cur, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the indexes on `tables` that back no constraint
    (primary keys and unique constraints stay: the copy's references are checked against them)."""
    cur.execute("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid =
                          format('%%I.%%I', i.schemaname, i.indexname)::regclass)
        ORDER BY i.tablename, i.indexname""", (list(tables),))
    return cur.fetchall()


def _copy_sql(cur, table: str, source: str, county: str, offset: int) -> str:
    """INSERT … SELECT copying `table`'s rows of `source` as county `county` (generated
    columns, such as the display text, are written by PostgreSQL from the copied ones)."""
    cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = %s AND table_schema = 'public' AND is_generated = 'NEVER'"
                " ORDER BY ordinal_position", (table,))
    columns, values = [], []
    for column, data_type in cur.fetchall():
        columns.append(column)
        if column == "county_code":
            values.append(f"'{county}'")
        elif column == "client_uuid":
            values.append("gen_random_uuid()")
        elif column == "issue_id":
            values.append("NULL")
        elif data_type in ("integer", "bigint") and (column == "id" or column.endswith("_id")):
            values.append(f"{column} + {offset}")
        elif data_type in ("character varying", "text"):
            values.append(f"CASE WHEN {column} LIKE '{source}%' "
                          f"THEN '{county}' || substr({column}, 7) ELSE {column} END")
        else:
            values.append(column)
    return (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM {table} WHERE county_code = '{source}'")


def bench_users(url: str, county: str, role: str, prefix: str, scopes: list[str]) -> list[str]:
    """One account of `role` per scope in `scopes` (`{prefix}-00`, `{prefix}-01`, …; password
    `demo-<login>`, as bench.server.Client signs in): the logins, in the order of `scopes`.
    Accounts already there are kept (a scratch copy is made anew each run)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    logins = []
    with conn.cursor() as cur:
        for i, scope in enumerate(scopes):
            login = f"{prefix}-{i:02d}"
            cur.execute("INSERT INTO app_user (county_code, login, role, scope_code, password_hash)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        (county, login, role, scope, hash_password(f"demo-{login}")))
            logins.append(login)
    conn.close()
    return logins


def _analyze(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()
