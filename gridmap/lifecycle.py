"""The issue state machine: 及时汇集、梳理、处置、反馈. Pure functions, no Flask, no database.

Each action moves an issue from one of its allowed states to one target state; every
move becomes an `issue_event` row (the ledger is append-only). Escalation changes the
handling level, not the state. Deadlines and the traffic light read limits from settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gridmap.models import HANDLING_LEVELS, ISSUE_STATUSES

OPEN = ("reported", "triaged", "in_progress", "handled", "feedback", "long_term")
FINAL = ("closed", "rejected", "voided")


@dataclass(frozen=True)
class Action:
    """One issue action: the states it applies to, the state it leads to, whether it needs a note."""
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change (escalate)
    needs_note: bool = False


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("triage", ("reported",), "triaged"),                      # 梳理: classify, dispatch
    Action("start", ("triaged",), "in_progress"),                    # 处置
    Action("handle", ("in_progress",), "handled"),                   # 办结
    Action("feed_back", ("handled",), "feedback"),                   # 反馈/回访
    Action("close", ("feedback",), "closed"),                        # 结案
    Action("reopen", ("feedback", "closed"), "in_progress", True),   # unsatisfied at 回访
    Action("return", ("triaged", "in_progress"), "reported", True),  # 回退 to the dispatcher
    Action("reject", ("reported", "triaged"), "rejected", True),     # 不予受理
    Action("void", ("reported", "triaged", "in_progress", "long_term"), "voided", True),  # 作废
    Action("defer", ("triaged", "in_progress"), "long_term", True),  # 挂账
    Action("resume", ("long_term",), "in_progress"),
    Action("escalate", ("reported", "triaged", "in_progress"), None, True),  # 上交 a level up
)}

# The usual road to each state from a new report (used to build consistent histories).
HAPPY_PATH = ("reported", "triaged", "in_progress", "handled", "feedback", "closed")


class TransitionError(ValueError):
    """The action is not allowed from the issue's state; the message says what is."""


def apply(status: str, level: str, action_name: str, note: str | None = None) -> tuple[str, str]:
    """The (status, level) after `action_name`, or TransitionError saying why not."""
    if status not in ISSUE_STATUSES:
        raise TransitionError(f"unknown status {status!r}")
    if level not in HANDLING_LEVELS:
        raise TransitionError(f"unknown handling level {level!r}; known: {', '.join(HANDLING_LEVELS)}")
    action = ACTIONS.get(action_name)
    if action is None:
        raise TransitionError(f"unknown action {action_name!r}; known: {', '.join(ACTIONS)}")
    if status not in action.sources:
        raise TransitionError(
            f"cannot {action_name} an issue that is {status}; allowed from: {', '.join(action.sources)}")
    if action.needs_note and not (note and note.strip()):
        raise TransitionError(f"{action_name} needs a note saying why")
    if action.target is None:
        index = HANDLING_LEVELS.index(level)
        if index + 1 == len(HANDLING_LEVELS):
            raise TransitionError("already at county level: nothing above to escalate to")
        return status, HANDLING_LEVELS[index + 1]
    return action.target, level


def allowed_actions(status: str) -> list[str]:
    """The actions that may be taken on an issue in `status`."""
    return [name for name, action in ACTIONS.items() if status in action.sources]


def path_to(status: str) -> list[str]:
    """A plausible history of states ending in `status` (starting at 'reported')."""
    if status in HAPPY_PATH:
        return list(HAPPY_PATH[: HAPPY_PATH.index(status) + 1])
    before = {"rejected": "reported", "voided": "reported", "long_term": "in_progress"}[status]
    return [*path_to(before), status]


def traffic_light(started: datetime, due: datetime, now: datetime,
                  yellow_at: float = 0.8, red_at: float = 1.0) -> str:
    """green under 80% of the stage's time used, yellow 80–100%, red past the limit."""
    allowed = (due - started).total_seconds()
    if allowed <= 0:
        return "red"
    used = (now - started).total_seconds() / allowed
    return "green" if used < yellow_at else "yellow" if used < red_at else "red"


def stage_due(started: datetime, hours: float) -> datetime:
    """When a stage of `hours` that starts at `started` is due (working calendars come later)."""
    return started + timedelta(hours=hours)
