"""The figures leaders are judged on, as SQL: 接诉即办 三率, 按期受理率, 结案率, 按期结案率, 返工率,
overdue counts, the share settled in the village and the median time of each stage, per
unit, township, village or the whole county, over a period. Core: no Flask.

Exactly as ../shared/DOMAIN.md defines them. The issues counted are those *reported* in the
period (China dates, both ends included) inside the reader's scope (gridmap.policy.Scope),
never voided (作废 is out of all metrics) and never merged into another.

* 有效回访 (valid callback): the issue's latest 回访 that reached the reporter (every reached
  callback has all three answers, a CHECK says so); an issue that duplicates merged into
  (合并) owes one to each of their reporters too, so it counts one per reporter reached.
  Unreached attempts and issues closed with a 无法回访 reason are not callbacks at all.
* 响应率 = valid callbacks confirming the handler contacted the reporter in time / valid;
  解决率 = valid answered "solved" / valid; 满意率 = (满意 + factor × 基本满意) / valid, the
  factor `metrics.basically_satisfied_factor` (0.9); the composite weighs the three with
  `metrics.weights.*` and divides by the sum of the weights.
* 按期受理率 = issues accepted (first move out of 已上报: triaged, or resolved on the spot)
  by the triage deadline set at the report / issues reported.
* 应结案 (due to close) = issues closed, or past their handling deadline and neither
  rejected nor 挂账 (long term). 结案率 = closed / due to close; 按期结案率 = closed with the
  last 办结 by the handling deadline and the 结案 by the feedback deadline / due to close.
* 返工率 = issues sent back to 处置中 after they were handled (a failed check, `rework`, or an
  unsatisfied 回访, `reopen`) / issues handled.
* overdue = open issues past the deadline of the stage they are in (as the queue's red light);
  挂账 (long_term) items have no stage deadline, so they are never overdue.
* 延期率 = issues with a granted extension (批准延期) / due to close. 督办: `supervisions` (how
  many 督办 events) and `supervised` (issues with at least one); 催办: `reminders` (events).
* Stage times: how long issues stayed in each state (event to next event), median hours;
  time to acknowledge (签收) = the 已分拨 stage ended by 签收.

Rates are None when their denominator is 0 (no figure, rather than a false 0 %).
Events are read by their statuses, so histories imported without action names count too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, case, exists, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import distinct_on

from gridmap import clock, settings
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, _
from gridmap.models import SATISFACTION, Callback, Issue, IssueEvent, Region, Unit
from gridmap.policy import Scope

GROUPINGS = ("county", "township", "village", "unit", "month", "week")
STAGES = ("reported", "triaged", "in_progress", "handled", "feedback")
OPEN_FOR_OVERDUE = ("reported", "triaged", "in_progress", "handled")
COUNTS = ("reported", "triaged_on_time", "due_to_close", "closed", "closed_on_time", "handled",
          "reworked", "overdue", "closed_in_village", "valid_callbacks", "responded", "solved",
          "satisfied", "basically_satisfied", "unsatisfied", "extended", "supervisions",
          "supervised", "reminders")
CALLBACK_COUNTS = ("valid_callbacks", "responded", "solved", *SATISFACTION)  # per reporter
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "composite",
         "on_time_triage_rate", "closing_rate", "on_time_closing_rate", "rework_rate",
         "village_share", "extension_rate")


@dataclass(frozen=True)
class Period:
    """Issues reported from `start` to `end` (China dates, both included; None: open-ended)."""

    start: date | None = None
    end: date | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Period:
        """A period from ISO dates as typed ('2026-11-01'); BadInput names the bad one."""
        def day(value, name):
            if value in (None, ""):
                return None
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                raise BadInput(_("%(field)s 应是日期（如 2026-11-01）", field=name),
                               field=name) from None
        period = cls(day(start, "from"), day(end, "to"))
        if period.start and period.end and period.end < period.start:
            raise BadInput(_("结束日期早于开始日期"), field="to")
        return period

    def condition(self):
        """The SQL condition on `issue.reported_at`."""
        parts = []
        if self.start:
            parts.append(Issue.reported_at >= datetime.combine(self.start, time(), CHINA_TIME))
        if self.end:
            parts.append(Issue.reported_at < datetime.combine(
                self.end + timedelta(days=1), time(), CHINA_TIME))
        return and_(true(), *parts)


@dataclass
class Row:
    """The figures of one group (a unit, a township, a village, or the county)."""

    key: str | None
    name: str | None
    counts: dict
    rates: dict = field(default_factory=dict)
    stage_hours: dict = field(default_factory=dict)  # median hours spent in each state
    acknowledge_hours: float | None = None  # median time to 签收

    def as_dict(self) -> dict:
        """The row for JSON and the table: flat, one key per figure."""
        return {"key": self.key, "name": self.name, **self.counts, **self.rates,
                **{f"median_hours_{stage}": self.stage_hours.get(stage) for stage in STAGES},
                "median_hours_to_acknowledge": self.acknowledge_hours}


def _key(scope: Scope, by: str):
    if by == "county":
        return literal(scope.county_code)
    if by == "township":
        return func.left(Issue.village_code, 9)
    if by == "village":
        return Issue.village_code
    if by == "month":  # the China month the issue was reported in, 'YYYY-MM' (trend charts)
        return func.to_char(func.timezone("Asia/Shanghai", Issue.reported_at), "YYYY-MM")
    if by == "week":  # the Monday of the China week it was reported in, 'YYYY-MM-DD'
        return func.to_char(func.date_trunc("week", func.timezone("Asia/Shanghai", Issue.reported_at)),
                            "YYYY-MM-DD")
    return Unit.code


def _facts(scope: Scope, by: str, period: Period, now: datetime):
    """One row per counted issue: its group key and what the figures need to know of it."""
    event = IssueEvent
    mine = and_(event.county_code == Issue.county_code, event.issue_id == Issue.id)
    accepted_at = select(func.min(event.at)).where(
        mine, event.from_status == "reported",
        event.to_status.in_(("triaged", "in_progress", "handled"))).scalar_subquery()
    report_due = select(event.due_at).where(mine, event.from_status.is_(None)).order_by(
        event.at, event.id).limit(1).scalar_subquery()
    handled_at = select(func.max(event.at)).where(mine, event.to_status == "handled").scalar_subquery()
    reworked = exists().where(mine, event.from_status.in_(("handled", "feedback", "closed")),
                              event.to_status == "in_progress")
    ever_handled = exists().where(mine, event.to_status == "handled")
    # the latest reached 回访 of each reporter the issue owes one (its own, and each merged
    # duplicate's): one valid callback per reporter
    reporter = func.coalesce(Callback.reporter_issue_id, Callback.issue_id)
    last = (select(Callback.issue_id, Callback.contacted_in_time, Callback.solved,
                   Callback.satisfaction)
            .where(Callback.county_code == scope.county_code, Callback.reached)
            .ext(distinct_on(Callback.issue_id, reporter))
            .order_by(Callback.issue_id, reporter, Callback.at.desc(), Callback.id.desc())
            .subquery("last_callback"))
    answers = (select(last.c.issue_id, func.count().label("valid_callbacks"),
                      _count(last.c.contacted_in_time.is_(True)).label("responded"),
                      _count(last.c.solved.is_(True)).label("solved"),
                      *(_count(last.c.satisfaction == answer).label(answer)
                        for answer in SATISFACTION))
               .group_by(last.c.issue_id).subquery("callback_answers"))
    stage_due = case((Issue.status == "reported", Issue.triage_due),
                     (Issue.status.in_(("triaged", "in_progress")), Issue.handling_due),
                     (Issue.status == "handled", Issue.feedback_due))
    due_to_close = or_(Issue.status == "closed", and_(
        Issue.status.notin_(("rejected", "long_term")), Issue.handling_due <= now))
    closed_on_time = and_(
        Issue.status == "closed",
        or_(Issue.handling_due.is_(None), handled_at <= Issue.handling_due),
        or_(Issue.feedback_due.is_(None), Issue.closed_at <= Issue.feedback_due))
    query = (
        select(_key(scope, by).label("key"), Issue.id.label("issue_id"),
               (accepted_at <= func.coalesce(report_due, Issue.triage_due)).label("triaged_on_time"),
               due_to_close.label("due_to_close"),
               (Issue.status == "closed").label("closed"),
               closed_on_time.label("closed_on_time"),
               ever_handled.label("handled"), reworked.label("reworked"),
               and_(Issue.status.in_(OPEN_FOR_OVERDUE), stage_due < now).label("overdue"),
               and_(Issue.status == "closed", Issue.level == "village").label("closed_in_village"),
               *(func.coalesce(answers.c[name], 0).label(name) for name in CALLBACK_COUNTS),
               exists().where(mine, event.action == "grant_extension").label("extended"),
               _events(mine, "supervise").label("supervisions"),
               _events(mine, "remind").label("reminders"))
        .select_from(Issue)
        .outerjoin(answers, answers.c.issue_id == Issue.id)
        .where(scope.issues(), Issue.county_code == scope.county_code,
               Issue.status != "voided", Issue.merged_into.is_(None), period.condition()))
    if by == "unit":
        query = query.outerjoin(Unit, Unit.id == Issue.responsible_unit_id)
    return query.cte("facts")


def _events(mine, action: str):
    """How many events of `action` the issue has (督办, 催办)."""
    return (select(func.count()).select_from(IssueEvent)
            .where(mine, IssueEvent.action == action).scalar_subquery())


def _count(condition):
    return func.count().filter(condition)


def compute(session, scope: Scope, by: str = "county", period: Period | None = None,
            limit: int = 1000) -> list[Row]:
    """The figures per group of `by` (county, township, village, unit; month or week of
    report), largest groups first."""
    if by not in GROUPINGS:
        raise BadInput(_("by 应是 %(choices)s 之一", choices=", ".join(GROUPINGS)), field="by")
    period, now = period or Period(), clock.now()
    facts = _facts(scope, by, period, now)
    c = facts.c
    counted = session.execute(
        select(c.key, func.count().label("reported"),
               _count(c.triaged_on_time.is_(True)).label("triaged_on_time"),
               _count(c.due_to_close).label("due_to_close"), _count(c.closed).label("closed"),
               _count(c.closed_on_time).label("closed_on_time"), _count(c.handled).label("handled"),
               _count(c.reworked).label("reworked"), _count(c.overdue.is_(True)).label("overdue"),
               _count(c.closed_in_village).label("closed_in_village"),
               *(func.coalesce(func.sum(c[name]), 0).cast(Integer).label(name)
                 for name in CALLBACK_COUNTS),
               _count(c.extended).label("extended"),
               func.coalesce(func.sum(c.supervisions), 0).cast(Integer).label("supervisions"),
               _count(c.supervisions > 0).label("supervised"),
               func.coalesce(func.sum(c.reminders), 0).cast(Integer).label("reminders"))
        .group_by(c.key).order_by(func.count().desc(), c.key).limit(limit)).mappings().all()
    values = settings.all(session, scope.county_code)
    names = _names(session, scope, by, [row["key"] for row in counted])
    stages, acknowledge = _stage_hours(session, scope, by, period, now)
    return [Row(row["key"], names.get(row["key"]), {k: row[k] for k in COUNTS},
                rates(row, values), stages.get(row["key"], {}), acknowledge.get(row["key"]))
            for row in counted]


def rates(counts, values: dict) -> dict:
    """The rates of one group's counts under the county's settings (`metrics.*`)."""
    def share(part, whole):
        return counts[part] / counts[whole] if counts[whole] else None

    factor = values["metrics.basically_satisfied_factor"]
    valid = counts["valid_callbacks"]
    result = {
        "response_rate": share("responded", "valid_callbacks"),
        "resolution_rate": share("solved", "valid_callbacks"),
        "satisfaction_rate": (counts["satisfied"] + factor * counts["basically_satisfied"]) / valid
        if valid else None,
        "on_time_triage_rate": share("triaged_on_time", "reported"),
        "closing_rate": share("closed", "due_to_close"),
        "on_time_closing_rate": share("closed_on_time", "due_to_close"),
        "rework_rate": share("reworked", "handled"),
        "village_share": share("closed_in_village", "closed"),
        "extension_rate": share("extended", "due_to_close"),
    }
    weights = {"response_rate": values["metrics.weights.responsiveness"],
               "resolution_rate": values["metrics.weights.resolution"],
               "satisfaction_rate": values["metrics.weights.satisfaction"]}
    total = sum(weights.values())
    result["composite"] = (sum(w * result[name] for name, w in weights.items()) / total
                           if valid and total else None)
    return result


def _stage_hours(session, scope: Scope, by: str, period: Period, now: datetime):
    """({key: {state: median hours}}, {key: median hours to 签收})."""
    facts = _facts(scope, by, period, now)
    event = IssueEvent
    order = (event.at, event.id)
    steps = (select(event.issue_id, event.to_status.label("stage"), event.at,
                    func.lead(event.at).over(partition_by=event.issue_id, order_by=order)
                    .label("next_at"),
                    func.lead(event.to_status).over(partition_by=event.issue_id, order_by=order)
                    .label("next_status"))
             .where(event.county_code == scope.county_code,
                    event.issue_id.in_(select(facts.c.issue_id)))
             .subquery("steps"))
    hours = func.extract("epoch", steps.c.next_at - steps.c.at) / 3600
    median = func.percentile_cont(0.5).within_group(hours)
    joined = steps.join(facts, facts.c.issue_id == steps.c.issue_id)
    stages: dict = {}
    for key, stage, value in session.execute(
            select(facts.c.key, steps.c.stage, median).select_from(joined)
            .where(steps.c.next_at.is_not(None), steps.c.stage.in_(STAGES))
            .group_by(facts.c.key, steps.c.stage)):
        stages.setdefault(key, {})[stage] = float(value)
    acknowledge = {key: float(value) for key, value in session.execute(
        select(facts.c.key, median).select_from(joined)
        .where(steps.c.stage == "triaged", steps.c.next_status == "in_progress")
        .group_by(facts.c.key))}
    return stages, acknowledge


def _names(session, scope: Scope, by: str, keys: list) -> dict:
    """What people call each group: the region's or unit's name."""
    keys = [k for k in keys if k is not None]
    if not keys or by in ("month", "week"):
        return {}
    if by == "unit":
        query = select(Unit.code, Unit.name).where(Unit.county_code == scope.county_code,
                                                   Unit.code.in_(keys))
    else:
        query = select(Region.code, Region.name).where(
            Region.county_code == scope.county_code, Region.code.in_(keys), Region.current())
    return dict(session.execute(query).all())
