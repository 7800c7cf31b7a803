"""A row's outcome and the table: figures, ratio, target, verdict; latest.md; the exit code."""

from __future__ import annotations

import platform
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

    @property
    def verdict(self) -> str:
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


HEADER = ("| operation | baseline | gridmap (min / median) | baseline (min / median) | "
          "ratio (median) | target | verdict |\n|---|---|---|---|---|---|---|")


def table(lines: list[Line]) -> str:
    rows = [f"| {x.operation} | {x.baseline} | {x.gridmap} | {x.base} | {x.ratio} | "
            f"{x.target} | {x.verdict} |" for x in lines]
    return "\n".join([HEADER, *rows])


def machine() -> str:
    cpus = Path("/proc/cpuinfo").read_text().count("processor\t:")
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return f"{model}, {cpus} CPUs, {mem / 2**30:.0f} GiB RAM, {platform.platform()}"


def write_markdown(path: Path, lines: list[Line], *, scale: int, repeats: int, dataset: str,
                   postgis: str, wall_seconds: float, notes: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = [
        "# make bench: latest results", "",
        f"- scale: {scale}x ({dataset}), {repeats} repeats, gridmap and its baseline "
        "alternating in the same run",
        f"- machine: {machine()}",
        f"- PostGIS: {postgis}",
        f"- whole run: {wall_seconds / 60:.1f} min", "",
        "Times are reported, never gated (shared, noisy machine); ratios, bytes and memory are.",
        "", table(lines), "", *[f"- {note}" for note in notes], "",
    ]
    path.write_text("\n".join(text))
