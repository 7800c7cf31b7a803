"""Repeats, statistics and the progress line: the only clock the bench uses."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Sample:
    """Repeated figures of one measured thing (seconds unless `unit` says otherwise)."""

    values: list[float] = field(default_factory=list)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def p95(self) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(action: Callable[[], object]) -> tuple[float, object]:
    """Seconds `action` took (monotonic wall clock) and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


# A query of a millisecond or less, timed 5 times on a shared machine, has a median that
# one scheduling hiccup moves by 2x: such contenders are repeated, still in turn, until the
# slowest has run for BUDGET_SECONDS in all (at most MOST_REPEATS times), and judged on the
# median of them all.
BUDGET_SECONDS = 1.0
MOST_REPEATS = 400


def alternate(repeats: int, contenders: dict[str, Callable[[int], object]],
              before: Callable[[int], None] | None = None,
              budget: float = 0.0) -> dict[str, Sample]:
    """Run each contender once per repeat, in turn (A B, B A, A B …), after `before(repeat)`.

    `before` changes a row so no cache can answer the next repeat; each contender gets the
    repeat number so it can check that the change shows. With a `budget` (seconds), fast
    contenders get more repeats: at least `repeats`, then on until the slowest has used
    `budget` seconds in all, or MOST_REPEATS repeats were made.
    """
    samples = {name: Sample() for name in contenders}

    def more(repeat: int) -> bool:
        if repeat < repeats:
            return True
        return repeat < MOST_REPEATS and max(sum(s.values) for s in samples.values()) < budget

    repeat = 0
    while more(repeat):
        if before is not None:
            before(repeat)
        # each repeat starts with the next contender: whoever runs first after the machine's
        # other work pays for cold caches, so no contender may always be first
        names = list(contenders)
        for name in names[repeat % len(names):] + names[:repeat % len(names)]:
            action = contenders[name]
            seconds, _ = timed(lambda action=action, repeat=repeat: action(repeat))
            samples[name].values.append(seconds)
            progress.tick()
        repeat += 1
    return samples


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time process `pid` has used (user + system), with its reaped children's when
    `children`; 0 for a process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's 1-minute load average (other people's work shows here, ours too)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def vm_hwm(pid: int) -> int:
    """Peak resident memory of process `pid` in bytes (VmHWM: its own, not a parent's)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


class Progress:
    """One status line on stderr: which row, how many steps done, time so far."""

    def __init__(self):
        self.started = time.perf_counter()
        self.row = ""
        self.done = 0

    def start_row(self, row: str) -> None:
        self.row, self.done = row, 0
        self._show()

    def tick(self) -> None:
        self.done += 1
        self._show()

    def note(self, text: str) -> None:
        self._clear()
        print(text, file=sys.stderr, flush=True)
        self._show()

    def _clear(self) -> None:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)

    def _show(self) -> None:
        elapsed = time.perf_counter() - self.started
        line = f"[{elapsed:6.0f} s] {self.row}  {'.' * self.done}"
        if sys.stderr.isatty():
            print("\r\033[K" + line[:150], end="", file=sys.stderr, flush=True)
        elif self.done == 0:
            print(line, file=sys.stderr, flush=True)


progress = Progress()
