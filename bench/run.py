"""`python -m bench`: set up the data and databases, run every row, print and write the table.

Environment: BENCH_SCALE (1 or 10), BENCH_REPEATS (default 5 at 1x, 3 at 10x), BENCH_SEED
(default 1), BENCH_DATA (a directory of county files instead of the generated county: the
test suite's smoke run uses data/demo), BENCH_ROWS (comma-separated row names, to run a few),
BENCH_OUT (where the table goes; default bench/results/latest.md, latest-10x.md at 10x).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg2

from bench import plans, rows_db, rows_issues, rows_ogc, rows_tablet, rows_web
from bench.data import BENCH_VAR, ROOT, Databases, Dataset
from bench.results import (
    SCALE_ROW,
    Line,
    merged,
    not_built,
    read_table,
    replace_between,
    replace_table,
    scale_lines,
    table,
    write_markdown,
)
from bench.timing import progress
from gridmap import devdb
from gridmap.clock import now as clock_now
from gridmap.demo.load import county_of

RESULTS = Path(__file__).resolve().parent / "results"
ROWS = {
    "geojson": rows_web.grid_geojson_rows,
    "page": rows_web.page_rows,  # and the appeals map, on the same server
    "coverage": rows_db.coverage_rows,
    "households": rows_db.scope_rows,
    "concurrency": rows_web.concurrency_rows,
    "import": rows_db.import_rows,
    "assign": rows_db.assign_rows,
    "load": rows_db.load_rows,
    "ogc": rows_ogc.ogc_rows,
    "tablets": rows_tablet.tablet_rows,
    "export": rows_ogc.export_rows,
    "transitions": rows_issues.transition_rows,
}
NOT_BUILT: list[tuple[str, str, str, str]] = []  # (operation, baseline, target, issue)
NOTES = [
    "A page is its HTML, the scripts and styles it links, and the layers map.js fetches for "
    "a leader's first paint (county, townships, villages, grids, open issues, the grids "
    "longest unvisited, 挂牌 targets, the gap layers switched on at first and the gap counts), "
    "fetched one after another by one signed-in leader asking for gzip as browsers do; "
    "'bytes sent' is what came over the wire, 'bytes decoded' the same responses unpacked "
    "(the Folium pages are weighed uncompressed, without their CDN assets). "
    "Folium baselines are timed inside their own "
    "process (query + build + render), the simplification of the simplified baseline untimed "
    "(a display copy would be made once).",
    "Between repeats one grid is renamed and every HTTP answer and peer export must show the "
    "new name; coverage counts of gridmap, the hand-written SQL and the one-county database "
    "must agree.",
    "Peak memory is VmHWM of the measured process itself (a gunicorn worker; the import's own "
    "process), read from /proc.",
    "The tablets (issue 12) are threads, each a signed-in grid worker of its own grid, posting "
    "the JSON the field pages' queue posts; what gets no answer is sent again with the same "
    "client_uuid; each starts at a random moment of its first interval between entries, as "
    "in the steady state (50 first requests in one instant are a harness artefact, not a "
    "crowd of grid workers); they write into a scratch copy of the county, dropped after the row.",
    "The household CSV has no grid_code: the import core places each household in the grid its "
    "point lies in (in SQL, in the INSERT … SELECT), as the baseline's ST_Intersects join does.",
    "Assigning households to grids is the import's own placement (writers.locate_households: "
    "the ST_Covers join its INSERT … SELECT makes over a staged batch, grid by grid over the "
    "staged points' index, built in the timed part) over a stage of the county's "
    "households (points only, made untimed before each repeat), against one CREATE TABLE AS … "
    "ST_Intersects join; both must place the same households in the same grids (the first by "
    "code on a shared edge).",
    "Issue transitions (issue 10): 20 signed-in township staff post actions over HTTP with the "
    "version they last saw, round a few issues (梳理 → 签收 → 退单 → 梳理 …); a 409 is read "
    "again and retried. Every acknowledged transition must be one stored event, each issue's "
    "events must chain and its version must have risen once per event.",
    "Queries of a few milliseconds or less (the coverage and households rows) are repeated, "
    "in turn, until the slowest contender has run 1 s in all (at most 400 times; the baseline "
    "column says how many when more than 10), and judged on the median of them all: five "
    "repeats of a sub-millisecond query measure the machine's other work more than the query.",
    "Each operation at 10x vs 1x: `BENCH_SCALE=10` runs the rows on the ten-county database "
    "(the county and nine copies of it under other county codes; one county's view, as its "
    "users see it), gridmap and the SQL baselines only, into latest-10x.md; the 1x table shows "
    "gridmap's time at 10x over its time at 1x for each operation timed at both scales. The "
    "coverage and households rows read the ten-county database at both scales: the coverage "
    "rules' line against the 1-county database is their figure.",
    "The baselines' connections use gridmap's session settings (gridmap.db.SESSION_OPTIONS: "
    "no JIT), so a ratio compares the work done, not the settings.",
]


@dataclass
class Bench:
    """What the rows share: the data, its databases, the run's settings."""

    dataset: Dataset
    dbs: Databases
    county: str
    repeats: int
    scale: int
    now: datetime
    work: Path


def _log(text: str) -> None:
    progress.note(text)


def _postgis_version(url: str) -> str:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT postgis_full_version()")
        full = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        return f"PostgreSQL {cur.fetchone()[0]}, " + " ".join(full.split()[:3])


def _commit() -> str:
    """The commit measured (with + when the checkout had changes)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout
    head = git("rev-parse", "--short", "HEAD").strip() or "?"
    return head + ("+" if git("status", "--porcelain", "--untracked-files=no").strip() else "")


README_START, README_END = "<!-- bench:latest -->", "<!-- /bench:latest -->"


def _into_readme(text: str) -> None:
    """The README's Performance table is latest.md's, written between its markers."""
    readme = ROOT / "README.md"
    readme.write_text(replace_between(readme.read_text(), README_START, README_END, text))


def _other_scale(out: Path, scale: int) -> Path:
    """The table of the other scale, beside `out`."""
    return out.with_name("latest-10x.md" if scale == 1 else "latest.md")


def _with_scale(measured: list[Line], scaled: list[Line]) -> list[Line]:
    """The table's lines: the rows', each operation at 10x vs 1x, what is not built."""
    lines = measured + scaled + [not_built(*row) for row in NOT_BUILT]
    if not scaled:
        lines.append(not_built("each operation at 10x vs 1x", "the same at 1x", "≤ 11x",
                               "run BENCH_SCALE=10"))
    return lines


def _rescale_one(path: Path, ten: list[Line]) -> None:
    """After a 10x run: the 1x table's 10x-vs-1x lines from the new figures (its own rows and
    heading are left as they were)."""
    if not path.exists():
        return
    text = path.read_text()
    kept = [line for line in read_table(text) if line.row and line.row != SCALE_ROW]
    lines = _with_scale(kept, scale_lines(kept, ten))
    path.write_text(replace_table(text, table(lines)))
    if path == RESULTS / "latest.md":
        _into_readme(table(lines))


def _write(out: Path, lines: list[Line], scale: int, repeats: int, dataset: Dataset,
           postgis: str, wall: float, wanted: list[str]) -> list[Line]:
    """Write the table (and the README's); returns its 10x-vs-1x lines."""
    lines = [line for line in lines if line.row != SCALE_ROW]
    other = _other_scale(out, scale)
    theirs = [line for line in read_table(other.read_text()) if line.row != SCALE_ROW] \
        if other.exists() else []
    scaled = scale_lines(lines, theirs) if scale == 1 else scale_lines(theirs, lines)
    everything = _with_scale(lines, scaled)
    write_markdown(out, everything, scale=scale, repeats=repeats,
                   dataset=str(dataset.directory.relative_to(ROOT)), postgis=postgis,
                   wall_seconds=wall, notes=NOTES, rows=wanted)
    if out == RESULTS / "latest.md":
        _into_readme(table(everything))
    if scale == 10:
        _rescale_one(other, lines)
    return scaled


def main() -> int:
    started = time.perf_counter()
    scale = int(os.environ.get("BENCH_SCALE", "1"))
    if scale not in (1, 10):
        print("BENCH_SCALE is 1 or 10", file=sys.stderr)
        return 2
    repeats = int(os.environ.get("BENCH_REPEATS", "5" if scale == 1 else "3"))
    given = os.environ.get("BENCH_DATA")
    dataset = (Dataset.given(Path(given).resolve()) if given
               else Dataset.county(int(os.environ.get("BENCH_SEED", "1")), _log))
    work = BENCH_VAR / "work"
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(dataset, Databases(dataset, _log, scale), county_of(dataset.directory),
                  repeats, scale, clock_now(), work)
    out = Path(os.environ.get("BENCH_OUT") or
               RESULTS / ("latest.md" if scale == 1 else "latest-10x.md")).resolve()
    plans.PLANS = out.parent / ("plans" if scale == 1 else "plans-10x")  # 10x beside, not over, 1x
    wanted = os.environ.get("BENCH_ROWS", ",".join(ROWS)).split(",")
    fresh: list[Line] = []
    stamp = f"{datetime.now():%Y-%m-%d} {_commit()}"
    # Rows not run now keep their last figures (and say when they were measured).
    kept = read_table(out.read_text()) if out.exists() else []
    # the app's own database: asking the bench's would build it for rows that do not need it
    postgis = _postgis_version(devdb.app_url())
    scaled: list[Line] = []
    for name in wanted:
        for line in ROWS[name](bench):
            line.row, line.measured = name, stamp
            fresh.append(line)
        # written after each row: a run stopped half way keeps what it measured
        scaled = _write(out, merged(kept, fresh, list(ROWS)), scale, repeats, dataset, postgis,
                        time.perf_counter() - started, wanted)
    progress.note("")
    # a 10x run answers for its growth over 1x; a 1x run shows the last 10x figures only
    shown = fresh + (scaled if scale == 10 else [])
    print(table(shown))
    print(f"\n{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: "
          f"{(time.perf_counter() - started) / 60:.1f} min")
    missed = [line for line in shown if line.fails_run]
    if missed:
        print(f"{len(missed)} target(s) missed: " + "; ".join(
            f"{m.operation} vs {m.baseline}" for m in missed), file=sys.stderr)
        return 1
    return 0
