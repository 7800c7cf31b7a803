"""Issue histories: each issue's events replayed through the state machine (gridmap.lifecycle).

Every event must be a move the state machine allows from the state before (its `action`
when given, else any action from → to), and the last must leave the issue as the issues
file says. An illegal history is a problem of the event row that breaks it, never a row in
the ledger.

A county's events (hundreds of thousands) are never held in memory: the writer stages them
in PostgreSQL as they are read (`writers.stage_issue_events`) and the replay reads them back
one issue at a time, in order, through a server-side cursor (`writers.staged_events`). What
stays in memory is each issue's final (status, level) as its file says, and the row number of
each event that breaks a history (its place in the file is found again only for those).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import groupby

from gridmap import lifecycle
from gridmap.errors import _
from gridmap.importers.report import ImportReport, Problem, Text

# (issue code, seq, row number in the file, from_status, to_status, action, level), ordered
# by issue code, then seq, then row number.
Event = tuple[str, int, int, str | None, str, str | None, str | None]


class Histories:
    """The issues file's final states, then the replay of the events file against them."""

    def __init__(self) -> None:
        self.final: dict[str, tuple[str, str]] = {}  # issue code → (status, level), as the file says

    def expect(self, issues: Iterable[dict]) -> None:
        """Remember where each of these issues (rows of the issues file) must end."""
        for row in issues:
            self.final[row["code"]] = (row["status"], row["level"])

    def check(self, events: Iterable[Event], source: str, report: ImportReport,
              places: Callable[[set[int]], dict[int, Text]]) -> None:
        """Replay `events`; each broken history is a problem of `source` at the row that breaks
        it (`places`: row numbers → where they are in the file)."""
        broken: list[tuple[int, str, Text, Text]] = []  # (row number, field, problem, hint)
        for code, chain in groupby(events, key=lambda event: event[0]):
            found = _replay_chain(code, chain, self.final.get(code))
            if found is not None:
                broken.append(found)
                if len(report.problems) + len(broken) >= report.max_errors:
                    break
        where = places({number for number, *_rest in broken}) if broken else {}
        for number, field, problem, hint in broken:
            report.add(Problem(source, where.get(number, "?"), field, problem, hint))


def _replay_chain(code: str, chain: Iterable[Event], final: tuple[str, str] | None):
    """(row number, field, problem, hint) of the event that breaks this issue's history, or None."""
    status, level, last = None, None, None
    for event in chain:
        _code, _seq, number, from_status, to_status, action, wanted_level = event
        last = number
        if status is None:
            if to_status != "reported":
                return (number, "to_status",
                        _("第一条事件应是上报（reported），而不是 %(status)s", status=to_status),
                        _("事件从上报开始"))
            status, level = "reported", wanted_level or "village"
            continue
        moved = replay(status, level, from_status, to_status, action, wanted_level)
        if moved is None:
            return (number, "action" if action else "to_status",
                    _("事项 %(code)s 不能从 %(before)s（%(level)s）%(action)s变为 %(after)s",
                      code=code, before=status, level=level, action=f"{action} " if action else "",
                      after=to_status),
                    _("按办理流程补全中间的事件（受理、签收、办结、回访……），或改正状态"))
        status, level = moved
    if final is not None and (status, level) != final:
        return (last, "to_status",
                _("事项 %(code)s 的最后一条事件使它成为 %(status)s（%(level)s），"
                  "事项表却是 %(issue_status)s（%(issue_level)s）",
                  code=code, status=status, level=level, issue_status=final[0], issue_level=final[1]),
                _("事项表的状态和级别应与最后一条事件一致"))
    return None


def replay(status: str, level: str, from_status: str | None, to_status: str, action: str | None,
           wanted_level: str | None) -> tuple[str, str] | None:
    """(status, level) after an event from (status, level), or None: no action leads there."""
    if from_status not in (None, status):
        return None
    for name in [action] if action else list(lifecycle.ACTIONS):
        if name == "report":
            continue
        try:
            moved = lifecycle.apply(status, level, name, "导入", to_level=wanted_level or None)
        except lifecycle.TransitionError:
            continue
        if moved[0] == to_status and (not wanted_level or moved[1] == wanted_level):
            return moved
    return None
