"""`make bench` end to end at its smallest scale: the committed demo county, one repeat.

This proves the script works (databases, server, peers, plans, table); it times nothing
and gates nothing: one repeat on a shared machine says nothing about speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.run import NOT_BUILT

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_end_to_end_on_the_demo_county(tmp_path):
    out = tmp_path / "latest.md"
    env = {**os.environ, "BENCH_DATA": str(ROOT / "data" / "demo"), "BENCH_REPEATS": "1",
           "BENCH_OUT": str(out), "BENCH_TABLET_SECONDS": "4", "BENCH_TABLETS": "4",
           "BENCH_TRANSITION_SECONDS": "4"}
    run = subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1500)  # twelve rows, four servers
    # 0 or 1 (a missed target): one repeat on the demo county is not a measurement
    assert run.returncode in (0, 1), run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    table = out.read_text()
    for operation in ("county grids → GeoJSON over HTTP", "leaders' map page",
                      "coverage `visit`", "8 clients", "import 5,200 households",
                      "whole county load",
                      "OGC API items, limit 100", "appeals map page",
                      "tablets: sign in, open the grid", "cores, machine load",
                      "county grids → GeoJSON export",
                      "households of the largest township", "households of the largest village",
                      "assign households to grids", "issue transitions, 20 concurrent clients"):
        assert operation in table, operation
    assert all(row[0] in table for row in NOT_BUILT)
    plans = {p.name for p in (tmp_path / "plans").iterdir()}
    assert {"layer-grids.txt", "coverage-household.txt", "households-village.txt",
            "assign-households.txt"} <= plans
    assert "| transitions |" in table and "| assign |" in table  # each line names its row
    grids_plan = (tmp_path / "plans" / "layer-grids.txt").read_text()
    # a real plan, and the grids layer counts from the kept counts, never the households
    assert "Execution Time" in grids_plan and "household_count" in grids_plan
    assert " on household " not in grids_plan
