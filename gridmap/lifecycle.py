"""The issue state machine: 及时汇集、梳理、处置、反馈. Pure functions, no Flask, no database.

Each action moves an issue from one of its allowed states to one target state; every
move becomes an `issue_event` row (the ledger is append-only; gridmap.issues writes both).
Escalation (上交) raises the handling level and keeps the state; dispatch (交办) lowers it
and asks the new handler to acknowledge (签收) again. Deadlines come from the category's
limits (gridmap.categories) on the working-day calendar (gridmap.calendar).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gridmap.errors import _
from gridmap.models import HANDLING_LEVELS, ISSUE_STATUSES

OPEN = ("reported", "triaged", "in_progress", "handled", "feedback", "long_term")
FINAL = ("closed", "rejected", "voided")

# What people read for each state, action and level (Messages: translated when shown).
STATUS_LABELS = {
    "reported": _("已上报"), "triaged": _("已分拨"), "in_progress": _("处置中"),
    "handled": _("已办结"), "feedback": _("已回访"), "closed": _("已结案"),
    "rejected": _("不予受理"), "voided": _("已作废"), "long_term": _("挂账"),
}
ACTION_LABELS = {
    "report": _("上报"), "triage": _("受理分拨"), "acknowledge": _("签收"), "handle": _("办结"),
    "feed_back": _("回访反馈"), "close": _("结案"), "reopen": _("重新处置"), "rework": _("返工"),
    "return": _("退单"), "reject": _("不予受理"), "void": _("作废"), "defer": _("挂账"),
    "resume": _("恢复处置"), "resolve_on_spot": _("就地解决"), "escalate": _("上交"),
    "dispatch": _("交办"), "merge": _("合并"),
    # controls that leave the state as it is (CONTROL_EVENTS; gridmap.controls writes them)
    "ask_extension": _("申请延期"), "grant_extension": _("批准延期"), "deny_extension": _("不批准延期"),
    "supervise": _("督办"), "remind": _("催办"), "answer": _("督办回复"), "review": _("挂账复核"),
    "merged_callback": _("回访合并事项的反映人"),
}
# Events that record a control without moving the state (to_status = from_status).
CONTROL_EVENTS = ("ask_extension", "grant_extension", "deny_extension", "supervise", "remind",
                  "answer", "review", "merged_callback")
MERGE_NOTE = "合并"  # the reason a merged duplicate is voided with (作废原因)
LEVEL_LABELS = {"village": _("村级"), "township": _("乡镇级"), "county": _("县级")}


@dataclass(frozen=True)
class Action:
    """One issue action: the states it applies to, the state it leads to, whether it needs a
    note, how it moves the handling level, and the policy action (gridmap.policy) it needs."""
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change (escalate)
    needs_note: bool = False
    policy: str = "triage_issue"
    level_move: int = 0  # +1 escalate (上交), -1 dispatch down (交办)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("triage", ("reported",), "triaged"),                      # 梳理: classify, dispatch
    Action("acknowledge", ("triaged",), "in_progress", policy="handle_issue"),  # 签收
    Action("handle", ("in_progress",), "handled", policy="handle_issue"),       # 办结
    Action("feed_back", ("handled",), "feedback", policy="callback_issue"),     # 反馈/回访
    Action("close", ("feedback", "handled"), "closed"),              # 结案 (see close_refusal)
    Action("reopen", ("feedback", "closed"), "in_progress", True, "callback_issue"),  # unsatisfied
    Action("rework", ("handled",), "in_progress", True),             # 返工: the check failed
    Action("return", ("triaged", "in_progress"), "reported", True, "handle_issue"),  # 退单/回退
    Action("reject", ("reported", "triaged"), "rejected", True),     # 不予受理
    Action("void", ("reported", "triaged", "in_progress", "long_term"), "voided", True),  # 作废
    Action("defer", ("triaged", "in_progress"), "long_term", True),  # 挂账
    Action("resume", ("long_term",), "in_progress"),
    Action("resolve_on_spot", ("reported",), "handled", True, "report_issue"),  # 就地解决
    Action("escalate", ("reported", "triaged", "in_progress"), None, True, "handle_issue", +1),  # 上交
    Action("dispatch", ("triaged", "in_progress"), "triaged", False, "triage_issue", -1),  # 交办
    # 合并: a duplicate is voided with reason 合并 and points at the survivor (controls.merge)
    Action("merge", ("reported", "triaged", "in_progress", "long_term"), "voided", True),
)}

# The usual road to each state from a new report (used to build consistent histories).
HAPPY_PATH = ("reported", "triaged", "in_progress", "handled", "feedback", "closed")


class TransitionError(ValueError):
    """The action is not allowed from the issue's state; the message says what is."""


def apply(status: str, level: str, action_name: str, note: str | None = None,
          to_level: str | None = None) -> tuple[str, str]:
    """The (status, level) after `action_name`, or TransitionError saying why not.

    `to_level` is where a dispatch (交办) sends the issue: any level below (default: the next).
    """
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
    return action.target or status, _moved(level, action, to_level)


def _moved(level: str, action: Action, to_level: str | None) -> str:
    index = HANDLING_LEVELS.index(level)
    if action.level_move > 0:
        if index + 1 == len(HANDLING_LEVELS):
            raise TransitionError("already at county level: nothing above to escalate to")
        return HANDLING_LEVELS[index + 1]
    if action.level_move < 0:
        if index == 0:
            raise TransitionError("already at village level: nothing below to dispatch to")
        target = to_level or HANDLING_LEVELS[index - 1]
        if target not in HANDLING_LEVELS[:index]:
            raise TransitionError(f"dispatch goes down: from {level} to one of "
                                  f"{', '.join(HANDLING_LEVELS[:index])}, not {target!r}")
        return target
    return level


def close_refusal(status: str, real_name: bool, satisfaction: str | None,
                  no_callback_reason: str | None) -> str | None:
    """Why the issue may not close yet (None: it may).

    结案 needs a 回访 result that is not 不满意 (an unsatisfied resident reopens the issue), or,
    straight from handled, an explicit 无法回访 reason for an anonymous or unreachable
    reporter. Real-name reports always get feedback (实名举报优先处理反馈).
    """
    if status == "handled":
        if real_name:
            return "real_name_needs_feedback"
        if not (no_callback_reason and no_callback_reason.strip()):
            return "needs_callback_or_reason"
        return None
    if satisfaction is None:
        return "needs_callback_or_reason"
    if satisfaction == "unsatisfied":
        return "unsatisfied_reopens"
    return None


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
    """When a stage of `hours` clock hours (triage) that starts at `started` is due; stages
    counted in working days use gridmap.calendar.WorkCalendar.add_working_days."""
    return started + timedelta(hours=hours)
