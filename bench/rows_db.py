"""Rows measured in the database: the coverage rules and the household import."""

from __future__ import annotations

import csv

import psycopg2
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql.psycopg2 import dialect as psycopg2_dialect

from bench import plans
from bench.data import GRIDMAP, connect
from bench.peers import peer, run_measured
from bench.plans import explain
from bench.results import MIB, Line, duration, mib, ratio_line
from bench.sql import ASSIGN_BY_JOIN, COVERAGE, RAW_COVERAGE, copy_and_locate
from bench.timing import BUDGET_SECONDS, Sample, alternate, progress
from gridmap.coverage import RULES, count_query
from gridmap.db import make_engine
from gridmap.importers.writers import index_staged_points, locate_households
from gridmap.models import Household
from gridmap.policy import Scope


def _gridmap_count_sql(kind: str, county: str, now) -> tuple[str, dict]:
    """gridmap's own count of a rule (as /map/gaps.json counts it), compiled for psycopg2."""
    query = count_query(kind, Scope(county, region_code=county), now)
    compiled = query.compile(dialect=psycopg2_dialect(),
                             compile_kwargs={"render_postcompile": True})
    return str(compiled), compiled.params


def _counter(url: str, sql: str, params) -> tuple:
    conn = connect(url)
    conn.autocommit = True
    counts: list[int] = []

    def count(_repeat: int) -> None:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            counts.append(cur.fetchone()[0])
    return conn, count, counts


def _repeated(sample: Sample) -> str:
    """How many times a fast query was timed, when more than the run's repeats (the budget)."""
    return f"; {len(sample.values)} repeats each" if len(sample.values) > 10 else ""


def coverage_rows(bench) -> list[Line]:
    """Every rule: gridmap vs hand-written SQL in the ten-county database, and vs itself
    in the one-county database. The three counts must agree (the copies are identical)."""
    ten, county = bench.dbs.ten_counties(), bench.county
    one = bench.dbs.one_county()
    lines = []
    for kind in RULES:
        progress.start_row(f"coverage rule {kind}")
        sql, params = _gridmap_count_sql(kind, county, bench.now)
        hand = (COVERAGE[kind], {"county": county, "now": bench.now})
        contenders = {"gridmap@10": _counter(ten, sql, params),
                      "hand@10": _counter(ten, *hand)}
        if bench.scale == 1:
            contenders["gridmap@1"] = _counter(one, sql, params)
        samples = alternate(bench.repeats, {k: c[1] for k, c in contenders.items()},
                            budget=BUDGET_SECONDS)
        if kind in RAW_COVERAGE:  # timed apart: its seconds would cut the fast ones' repeats
            contenders["raw@10"] = _counter(ten, RAW_COVERAGE[kind], hand[1])
            samples |= alternate(bench.repeats, {"raw@10": contenders["raw@10"][1]})
        counts = {k: c[2][-1] for k, c in contenders.items()}
        for conn, _, _ in contenders.values():
            conn.close()
        if len(set(counts.values())) != 1:
            raise AssertionError(f"rule {kind}: the counts disagree: {counts}")
        explain(ten, f"coverage-{kind}", [(sql, params), hand] + (
            [(RAW_COVERAGE[kind], hand[1])] if kind in RAW_COVERAGE else []))
        label = f"coverage `{kind}` ({counts['gridmap@10']} gaps), 10-county db"
        times = _repeated(samples["gridmap@10"])
        kept = " over the same kept facts" if kind in RAW_COVERAGE else ""
        lines.append(ratio_line(label, f"hand-written SQL{kept}{times}", samples["gridmap@10"],
                                samples["hand@10"], "≤ 1.5x", 1.5))
        if kind in RAW_COVERAGE:
            lines.append(ratio_line(label, "hand-written SQL over the raw tables (what the kept "
                                    f"fact saves){_repeated(samples['raw@10'])}",
                                    samples["gridmap@10"], samples["raw@10"], "reported", None))
        if bench.scale == 1:
            lines.append(ratio_line(label, f"gridmap, 1-county db{times}", samples["gridmap@10"],
                                    samples["gridmap@1"], "≤ 1.2x", 1.2))
    return lines


HOUSEHOLDS_IN_VILLAGES = ("SELECT count(*) FROM household WHERE county_code = %(county)s "
                          "AND status = 'active' AND village_code = ANY(%(villages)s)")


def _largest(url: str, county: str, digits: int) -> tuple[str, list[str]]:
    """The township (9 digits) or village (12) with the most households, and its villages."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT left(village_code, %(n)s) FROM household WHERE county_code = %(c)s "
                    "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", {"n": digits, "c": county})
        (region,) = cur.fetchone()
        cur.execute("SELECT code FROM region WHERE county_code = %s AND level = 'village' "
                    "AND valid_to IS NULL AND left(code, %s) = %s ORDER BY code",
                    (county, digits, region))
        villages = [code for (code,) in cur.fetchall()]
    conn.close()
    return region, villages


def scope_rows(bench) -> list[Line]:
    """`Scope.households()` of a township's and a village's staff (households still on the
    register, by code prefix) in the ten-county database, vs hand-written SQL listing the
    region's villages (what the village_code index answers best)."""
    ten, county, lines = bench.dbs.ten_counties(), bench.county, []
    for level, digits in (("township", 9), ("village", 12)):
        progress.start_row(f"households of a {level}")
        region, villages = _largest(ten, county, digits)
        query = select(func.count()).select_from(Household).where(
            Scope(county, region_code=region).households())
        compiled = query.compile(dialect=psycopg2_dialect(),
                                 compile_kwargs={"render_postcompile": True})
        mine = (str(compiled), compiled.params)
        hand = (HOUSEHOLDS_IN_VILLAGES, {"county": county, "villages": villages})
        contenders = {"gridmap": _counter(ten, *mine), "hand": _counter(ten, *hand)}
        samples = alternate(bench.repeats, {k: c[1] for k, c in contenders.items()},
                            budget=BUDGET_SECONDS)
        counts = {k: c[2][-1] for k, c in contenders.items()}
        for conn, _, _ in contenders.values():
            conn.close()
        if counts["gridmap"] != counts["hand"]:
            raise AssertionError(f"households of {region}: the counts disagree: {counts}")
        explain(ten, f"households-{level}", [mine, hand])
        lines.append(ratio_line(
            f"households of the largest {level} (`Scope.households()`, {counts['gridmap']:,} "
            "on the register), 10-county db",
            f"hand-written SQL (its villages' codes){_repeated(samples['gridmap'])}",
            samples["gridmap"], samples["hand"], "≤ 1.5x", 1.5))
    return lines


# The import's staged batch of households, every one named by its point alone (no grid, no
# village): what the import's INSERT places (writers.locate_households, grid by grid over the
# stage's points, indexed first by writers.index_staged_points).
STAGE = "bench_assign_stage"
PLACED = "bench_assign_placed"
SERIAL = "bench_assign_join_serial"
# The import's own placement, as its INSERT … SELECT runs it over the staged rows.
PLACE_SELECT = (f"SELECT {STAGE}.id, COALESCE({STAGE}.grid_code, located_grid) "
                f"AS grid_code FROM {STAGE} {locate_households(STAGE)}")
PLACE_SQL = f"CREATE TEMP TABLE {PLACED} AS {PLACE_SELECT}"
STAGE_SQL = (f"CREATE TEMP TABLE {STAGE} AS SELECT id, code, county_code, geom, NULL::varchar AS "
             "grid_code, NULL::varchar AS village_code FROM household WHERE county_code = %(county)s")
# Where the two placements differ: a household placed by one and not the other, or in another
# grid than the first by code the join found (on a shared edge the join finds both).
ASSIGN_DIFFER = f"""
    SELECT count(*) FROM {PLACED} s
    FULL JOIN (SELECT DISTINCT ON (id) id, code FROM bench_assign_join
               WHERE code IS NOT NULL ORDER BY id, code) j ON j.id = s.id
    WHERE s.grid_code IS DISTINCT FROM j.code"""


def assign_rows(bench) -> list[Line]:
    """The import's placement (writers.locate_households over a staged batch: the ST_Covers
    join, grid by grid, its INSERT … SELECT makes, and the index of the staged points it
    needs) of the county's households vs one CREATE TABLE AS … ST_Intersects join.
    Each repeat starts from a fresh stage (untimed, as the import's COPY made it)."""
    progress.start_row("assign households to grids")
    url, county = bench.dbs.main(), bench.county
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    conn = engine.connect()
    placed: dict[str, int] = {}

    def fresh(_repeat: int) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}, {PLACED}, bench_assign_join, {SERIAL}")
        conn.exec_driver_sql(STAGE_SQL, {"county": county})

    def gridmap(_repeat: int) -> None:
        index_staged_points(conn, STAGE)
        conn.exec_driver_sql(PLACE_SQL)
        placed["gridmap"] = conn.exec_driver_sql(
            f"SELECT count(grid_code) FROM {PLACED}").scalar()

    def join(_repeat: int) -> None:
        conn.exec_driver_sql(ASSIGN_BY_JOIN, {"county": county})
        placed["join"] = conn.exec_driver_sql(
            "SELECT count(DISTINCT id) FROM bench_assign_join WHERE code IS NOT NULL").scalar()

    def serial_join(_repeat: int) -> None:
        # The join as one process: the import's INSERT … SELECT over a temporary stage gets
        # no parallel workers in PostgreSQL 15, the baseline's CREATE TABLE AS does.
        conn.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        try:
            conn.exec_driver_sql(ASSIGN_BY_JOIN.replace("bench_assign_join", SERIAL),
                                 {"county": county})
        finally:
            conn.exec_driver_sql("RESET max_parallel_workers_per_gather")

    try:
        samples = alternate(bench.repeats, {"gridmap": gridmap, "join": join,
                                            "serial": serial_join}, before=fresh)
        differ = conn.exec_driver_sql(ASSIGN_DIFFER).scalar()
        if differ or placed["gridmap"] != placed["join"]:
            raise AssertionError(f"assign: the placements disagree ({differ} households; "
                                 f"placed {placed})")
        _explain_assign(conn, county)
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}, {PLACED}, bench_assign_join, {SERIAL}")
        conn.close()
        engine.dispose()
    return [ratio_line(f"assign households to grids ({placed['gridmap']:,} placed by their "
                       "point; the import's ST_Covers join in its INSERT, grid by grid)",
                       "one `CREATE TABLE AS … ST_Intersects` join", samples["gridmap"],
                       samples["join"], "≤ 1.5x", 1.5),
            ratio_line(f"assign households to grids ({placed['gridmap']:,} placed by their "
                       "point; the import's ST_Covers join in its INSERT, grid by grid)",
                       "the same join without parallel workers (one process, as the import's "
                       "INSERT … SELECT runs)", samples["gridmap"], samples["serial"],
                       "reported", None)]


def _explain_assign(conn, county: str) -> None:
    """The plans of both placements, on the connection that holds the stage."""
    parts = []
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}, {PLACED}, bench_assign_join")
    conn.exec_driver_sql(STAGE_SQL, {"county": county})
    index_staged_points(conn, STAGE)
    conn.exec_driver_sql(f"ANALYZE {STAGE}")
    for sql, params in ((PLACE_SELECT, {}),
                        (ASSIGN_BY_JOIN, {"county": county})):
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).scalars().all()
        parts.append(f"-- query\n{sql.strip()}\n-- params {params!r}\n\n" + "\n".join(plan) + "\n")
    plans.PLANS.mkdir(parents=True, exist_ok=True)
    (plans.PLANS / "assign-households.txt").write_text("\n".join(parts))


# The tables of facts kept a row per household (migrations 0030, 0033, 0034), emptied with them.
KEPT_PER_HOUSEHOLD = "household_unassigned, household_outside_grid, household_visit_state"


def import_rows(bench) -> list[Line]:
    """The household CSV through the import core vs psql \\copy + an ST_Intersects join."""
    progress.start_row("household import")
    url, county = bench.dbs.boundaries(), bench.county
    # The baseline makes tables of its own: the owner role may, the app's role may not.
    owner_url = bench.dbs.owner_url("import")
    csv_path = bench.dataset.households_csv()
    with csv_path.open(encoding="utf-8") as f:
        columns = next(csv.reader(f))
        households = sum(1 for _ in f)
    script = copy_and_locate(str(csv_path), columns, county)
    script_file = bench.work / "copy_and_locate.sql"
    script_file.write_text(script)
    measured = {"gridmap": [], "psql": []}

    def empty(_repeat: int) -> None:
        # Statistics first: planned on the kept facts' tables as they were when last analysed
        # (empty), the delete's cascade into them scanned an index whole per household (minutes).
        _execute(owner_url, f"ANALYZE {KEPT_PER_HOUSEHOLD}")
        _execute(url, "DELETE FROM household")
        # Untimed: each repeat starts from the same tables, not ones holding the last run's dead rows.
        _execute(owner_url, f"VACUUM ANALYZE household, {KEPT_PER_HOUSEHOLD}")

    def gridmap(_repeat: int) -> None:
        result = run_measured(peer("import", url, str(csv_path), county))
        if result.output.get("rows") != households:
            raise AssertionError(f"import wrote {result.output} rows, not {households}")
        measured["gridmap"].append(result)

    def psql(_repeat: int) -> None:
        measured["psql"].append(run_measured(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", owner_url, "-f", str(script_file)]))

    alternate(bench.repeats, {"gridmap": gridmap, "psql": psql}, before=empty)
    _execute(owner_url, "DROP TABLE IF EXISTS bench_household_located, bench_household_raw")
    samples = {k: Sample([m.seconds for m in v]) for k, v in measured.items()}
    peaks = {k: max(m.peak_rss for m in v) for k, v in measured.items()}
    label = f"import {households:,} households (CSV, import core, whole process)"
    time_line = ratio_line(label, "psql \\copy + CREATE TABLE AS … ST_Intersects",
                           samples["gridmap"], samples["psql"], "≤ 2x", 2.0)
    memory = Line(label + ": peak RSS", "psql (client process)", mib(peaks["gridmap"]),
                  mib(peaks["psql"]), "—", "≤ 500 MiB", peaks["gridmap"] <= 500 * MIB)
    return [time_line, memory]


def load_rows(bench) -> list[Line]:
    """`gridmap demo load` of the whole county (every file, households and visits included)
    into an empty database: its process's peak memory (VmHWM) and time, once."""
    progress.start_row("whole county load")
    bench.dbs.empty("load")
    try:
        result = run_measured([GRIDMAP, "demo", "load", "--dir", str(bench.dataset.directory),
                               "--commit"], timeout=3600, env=bench.dbs.env("load"))
    finally:
        bench.dbs.drop("load")
    return [Line("whole county load (`gridmap demo load`, every file): peak RSS", "—",
                 mib(result.peak_rss), "—", "—", "≤ 500 MiB", result.peak_rss <= 500 * MIB),
            Line("whole county load (`gridmap demo load`, every file): time", "—",
                 duration(result.seconds), "—", "—", "reported", None)]


def _execute(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()
