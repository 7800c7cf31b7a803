"""A row's outcome and the table: figures, ratio, target, verdict; latest.md; the exit code."""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from pathlib import Path

from bench.timing import Sample

MIB = 1024 * 1024


def seconds(sample: Sample) -> str:
    """min / median, in the unit that reads best."""
    unit, scale = ("ms", 1000) if sample.median < 1 else ("s", 1)
    return f"{sample.min * scale:.3g} / {sample.median * scale:.3g} {unit}"


def duration(value: float) -> str:
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"


def mib(value: float) -> str:
    return f"{value / MIB:.1f} MiB"


@dataclass
class Line:
    """One line of the table. `ok` None: informative or not built; `pending` names the open
    issue whose work meets the target, so a miss is reported but does not fail the run."""

    operation: str
    baseline: str
    gridmap: str
    base: str
    ratio: str
    target: str
    ok: bool | None
    pending: str | None = None
    row: str = ""  # the BENCH_ROWS name that measured it ("" for what is not built)
    measured: str = ""  # when, and the commit measured (kept lines keep theirs)
    kept_verdict: str | None = None  # a line read back from latest.md says its own

    @property
    def verdict(self) -> str:
        if self.kept_verdict is not None:
            return self.kept_verdict
        if self.ok is None:
            return self.pending or "—"
        if self.pending:
            return f"{'met' if self.ok else 'missed'}; target pending {self.pending}"
        return "met" if self.ok else "**MISSED**"

    @property
    def fails_run(self) -> bool:
        return self.ok is False and not self.pending


def not_built(operation: str, baseline: str, target: str, issue: str) -> Line:
    return Line(operation, baseline, "—", "—", "—", target, None, f"not built yet ({issue})")


def ratio_line(operation: str, baseline: str, mine: Sample, theirs: Sample, target: str,
               limit: float | None, pending: str | None = None) -> Line:
    """gridmap's median over the baseline's, met when at most `limit` (None: reported)."""
    ratio = mine.median / theirs.median
    return Line(operation, baseline, seconds(mine), seconds(theirs), f"{ratio:.2f}x", target,
                None if limit is None else ratio <= limit, pending)


COLUMNS = ("row", "operation", "baseline", "gridmap (min / median)", "baseline (min / median)",
           "ratio (median)", "target", "verdict", "measured")
HEADER = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS)


def table(lines: list[Line]) -> str:
    rows = [f"| {x.row} | {x.operation} | {x.baseline} | {x.gridmap} | {x.base} | {x.ratio} | "
            f"{x.target} | {x.verdict} | {x.measured} |" for x in lines]
    return "\n".join([HEADER, *rows])


def read_table(text: str) -> list[Line]:
    """The lines of a table `table` wrote (other tables and text are passed over)."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("| row | operation |"):
            inside = True
            continue
        if not inside or line.startswith("|---"):
            continue
        if not line.startswith("| "):
            inside = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) != len(COLUMNS):
            continue
        row, operation, baseline, mine, base, ratio, target, verdict, measured = cells
        # ok None: a line of an earlier run says its verdict but does not fail this run
        lines.append(Line(operation, baseline, mine, base, ratio, target, None, row=row,
                          measured=measured, kept_verdict=verdict))
    return lines


def merged(kept: list[Line], fresh: list[Line], order: list[str]) -> list[Line]:
    """`fresh` lines, and the `kept` ones (from the last latest.md) of rows not run now, in
    the order of `order` (the row names); lines of no row (not built) come last, fresh only."""
    ran = {line.row for line in fresh}
    lines = [line for line in kept if line.row and line.row not in ran] + fresh
    rank = {name: i for i, name in enumerate(order)}
    return sorted(lines, key=lambda line: rank.get(line.row, len(rank)))


# Rows that measure one county of the ten-county database at either scale: their own
# "gridmap, 1-county db" line is their 10x-vs-1x figure.
TEN_COUNTIES_AT_BOTH = ("coverage", "households")
SCALE_ROW = "scale"
SCALE_LIMIT = 11.0
_TIME = re.compile(r"(?:[\d.,]+ / |p95 )?([\d.,]+) (ms|s)")


def median_seconds(figure: str) -> float | None:
    """The median (or p95) in seconds of a time figure as the table shows it ("341 / 381 ms",
    "p95 3.04 s"); None for anything else (bytes, memory, rates)."""
    match = _TIME.fullmatch(figure.strip())
    if not match:
        return None
    value = float(match.group(1).replace(",", ""))
    return value / 1000 if match.group(2) == "ms" else value


def scale_lines(one: list[Line], ten: list[Line]) -> list[Line]:
    """Each operation timed at both scales: gridmap's time at 10x over its time at 1x (the
    same operation of one county, in a database of ten counties, then of one)."""
    def timed(lines: list[Line]) -> dict[tuple[str, str], Line]:
        found: dict[tuple[str, str], Line] = {}
        for line in lines:
            if (line.row and line.row not in (SCALE_ROW, *TEN_COUNTIES_AT_BOTH)
                    and median_seconds(line.gridmap) is not None):
                found.setdefault((line.row, line.operation), line)
        return found
    at_one, out = timed(one), []
    for key, big in timed(ten).items():
        small = at_one.get(key)
        if small is None:
            continue
        ratio = median_seconds(big.gridmap) / median_seconds(small.gridmap)
        out.append(Line(f"{big.operation} at 10x", f"the same at 1x ({small.measured})",
                        big.gridmap, small.gridmap, f"{ratio:.2f}x", f"≤ {SCALE_LIMIT:g}x",
                        ratio <= SCALE_LIMIT, row=SCALE_ROW, measured=big.measured))
    return out


def replace_table(text: str, new: str) -> str:
    """`text` with its results table (header to last row) replaced by `new`."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("| row | operation |"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[:start] + new.split("\n") + lines[end:])


def replace_between(text: str, start: str, end: str, new: str) -> str:
    """`text` with what lies between the markers `start` and `end` replaced by `new`."""
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        raise ValueError(f"no {start} … {end} in the text")
    return head + start + "\n" + new + "\n" + end + rest.split(end, 1)[1]


def machine() -> str:
    cpus = Path("/proc/cpuinfo").read_text().count("processor\t:")
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return f"{model}, {cpus} CPUs, {mem / 2**30:.0f} GiB RAM, {platform.platform()}"


def write_markdown(path: Path, lines: list[Line], *, scale: int, repeats: int, dataset: str,
                   postgis: str, wall_seconds: float, notes: list[str], rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = [
        "# make bench: latest results", "",
        f"- last run: `BENCH_ROWS={','.join(rows)}`, scale {scale}x ({dataset}), {repeats} "
        f"repeats, gridmap and its baseline alternating in the same run, "
        f"{wall_seconds / 60:.1f} min",
        f"- machine: {machine()}",
        f"- PostGIS: {postgis}", "",
        "Times are reported, never gated (shared, noisy machine); ratios, bytes and memory are. "
        "Each line says when and at which commit it was measured (`+`: with changes not yet "
        "committed); a run measures the rows it is given and keeps the others' last figures.",
        "", table(lines), "", *[f"- {note}" for note in notes], "",
    ]
    path.write_text("\n".join(text))
