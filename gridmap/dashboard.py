"""The county dashboard and periodic bulletin (通报): for a region and a period, the figures a
county reports its year in (../shared/DOMAIN.md, "Party-organisation follow-through") —
households visited, meetings held, responsibility areas (grids), households paired, deeds done
and their cost, issues raised and closed, the 三率 — each with the change since the previous
period of the same length, and a ranking of the region's townships (or villages) by overdue
issues and coverage gaps. Facts about work for residents, never logins or points. Core: no
Flask; every figure is one scoped SQL count, and `rows` lists what is behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from gridmap import campaigns, clock, codes, coverage, metrics, targets
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, _
from gridmap.inputs import day_start
from gridmap.maps import rollup
from gridmap.models import Assignment, Deed, Grid, Household, Meeting, Region, Visit
from gridmap.policy import Scope

# key → (label with its unit, does it follow the period?)
FIGURES = {
    "households_visited": (_("走访群众（户）"), True),
    "meetings": (_("召开民情恳谈会（场）"), True),
    "grids": (_("民情责任区（网格，个）"), False),
    "paired_households": (_("结对帮扶困难群众（户）"), False),
    "deeds": (_("为群众办实事（件）"), True),
    "deeds_cost": (_("投入资金（元）"), True),
    "issues_reported": (_("收集民情事项（件）"), True),
    "issues_closed": (_("办结民情事项（件）"), True),
    "composite": (_("三率综合得分（百分制）"), True),
    "visits_confirmed": (_("走访抽查属实率（%）"), True),
    "targets_listed": (_("挂牌整改中（个）"), False),
    "targets_closed": (_("已销号（个）"), False),
    "targets_overdue": (_("超期未销号（个）"), False),
}
# Figures whose rows `rows()` can list (the others click through to their own pages).
ROWS = ("households_visited", "meetings", "grids", "paired_households", "deeds")
GAP_KINDS = ("household", "visit", "uncovered")
MAX_RANKED = 60
YEARS = (2000, 2100)  # a period outside these years is a typing error


@dataclass(frozen=True)
class Figure:
    """One figure: its value in the period, in the previous one, and the change."""

    key: str
    value: float | int | None
    previous: float | int | None

    @property
    def change(self):
        """value − previous (None when either is unknown)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def period_of(start: str | None, end: str | None) -> metrics.Period:
    """The period asked for, or this year so far; a period needs both ends to compare."""
    period = metrics.Period.parse(start, end)
    today = clock.now().astimezone(CHINA_TIME).date()
    period = metrics.Period(period.start or date(today.year, 1, 1), period.end or today)
    for name, day in (("from", period.start), ("to", period.end)):
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise BadInput(_("%(field)s 应在 %(low)s 年到 %(high)s 年之间", field=name, low=YEARS[0],
                             high=YEARS[1]), field=name)
    if period.end < period.start:
        raise BadInput(_("结束日期早于开始日期"), field="to")
    return period


def year_on_year(period: metrics.Period) -> bool:
    """A year so far (1 January to a day of the same year) is compared with the same dates of
    the year before (同比); any other period with the one just before it (环比)."""
    return (period.start.month, period.start.day) == (1, 1) and period.end.year == period.start.year


def previous(period: metrics.Period) -> metrics.Period:
    """The period to compare with: the same dates a year earlier for a year so far, else the
    period of the same length just before."""
    if year_on_year(period):
        end = period.end.replace(year=period.end.year - 1) if (period.end.month, period.end.day) \
            != (2, 29) else date(period.end.year - 1, 2, 28)
        return metrics.Period(date(period.start.year - 1, 1, 1), end)
    length = (period.end - period.start).days + 1
    return metrics.Period(period.start - timedelta(days=length), period.start - timedelta(days=1))


def _in(column, period: metrics.Period):
    return (column >= day_start(period.start)) & (column < day_start(period.end + timedelta(days=1)))


def _visited(scope: Scope, period: metrics.Period):
    return (select(Visit.household_id.label("household_id"))
            .join(Household, Household.id == Visit.household_id)
            .where(Visit.county_code == scope.county_code, Visit.kind == "visit",
                   _in(Visit.visited_at, period), scope.households()).distinct())


def _paired(scope: Scope):
    return (select(Assignment.household_id.label("household_id"))
            .join(Household, Household.id == Assignment.household_id)
            .where(Assignment.county_code == scope.county_code, Assignment.kind == "household",
                   Assignment.current(), scope.households()).distinct())


def _meetings(scope: Scope, period: metrics.Period):
    return ((Meeting.county_code == scope.county_code) & scope.in_region(Meeting.region_code)
            & _in(Meeting.held_at, period))


def _deeds(scope: Scope, period: metrics.Period):
    return ((Deed.county_code == scope.county_code) & scope.in_region(Deed.region_code)
            & (Deed.done_on >= period.start) & (Deed.done_on <= period.end))


def _count(session, query) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _period_values(session, scope: Scope, period: metrics.Period) -> dict:
    deeds = session.execute(select(func.count(), func.sum(Deed.cost_yuan)).where(
        _deeds(scope, period))).one()
    confirmed, checked = campaigns.confirmed_share(session, scope, period.start, period.end)
    county = metrics.compute(session, scope, "county", period)
    figures = county[0] if county else None
    return {
        "households_visited": _count(session, _visited(scope, period)),
        "meetings": session.execute(select(func.count()).where(_meetings(scope, period))).scalar_one(),
        "deeds": deeds[0], "deeds_cost": float(deeds[1] or 0),
        "issues_reported": figures.counts["reported"] if figures else 0,
        "issues_closed": figures.counts["closed"] if figures else 0,
        "composite": figures.rates.get("composite") if figures else None,
        "visits_confirmed": confirmed / checked if checked else None,
    }


def figures(session, scope: Scope, period: metrics.Period) -> list[Figure]:
    """Every figure of FIGURES for the scope, this period and the one before."""
    now, before = _period_values(session, scope, period), _period_values(session, scope, previous(period))
    standing = {
        "grids": session.execute(select(func.count()).where(scope.grids(), Grid.current())).scalar_one(),
        "paired_households": _count(session, _paired(scope)),
        **{f"targets_{key}": value for key, value in targets.counts(session, scope).items()
           if key in ("listed", "closed", "overdue")},
    }
    return [Figure(key, now[key], before[key]) if key in now
            else Figure(key, standing[key], None) for key in FIGURES]


def rows(session, scope: Scope, key: str, period: metrics.Period, limit: int = 1000) -> list[dict]:
    """The rows behind a figure (households by code only, never names), bounded by `limit`."""
    if key not in ROWS:
        raise BadInput(_("没有可列出的指标 %(key)s", key=key), field="figure")
    if key in ("households_visited", "paired_households"):
        ids = (_visited(scope, period) if key == "households_visited" else _paired(scope)).subquery()
        last = select(func.max(Visit.visited_at)).where(
            Visit.household_id == Household.id, Visit.county_code == Household.county_code,
            Visit.kind == "visit").scalar_subquery()
        query = (select(Household.code, Household.village_code, Region.name.label("village"),
                        Household.grid_code, last.label("last_visit"))
                 .join(ids, ids.c.household_id == Household.id)
                 .outerjoin(Region, (Region.code == Household.village_code) & Region.current())
                 .order_by(Household.code))
    elif key == "grids":
        query = (select(Grid.code, Grid.name, Grid.village_code, Region.name.label("village"))
                 .outerjoin(Region, (Region.code == Grid.village_code) & Region.current())
                 .where(scope.grids(), Grid.current()).order_by(Grid.code))
    elif key == "meetings":
        query = (select(Meeting.id, Meeting.held_at, Meeting.region_code,
                        Region.name.label("region"), Meeting.attendance, Meeting.topics)
                 .outerjoin(Region, (Region.code == Meeting.region_code) & Region.current())
                 .where(_meetings(scope, period)).order_by(Meeting.held_at, Meeting.id))
    else:
        query = (select(Deed.id, Deed.done_on, Deed.title, Deed.region_code,
                        Region.name.label("region"), Deed.cost_yuan)
                 .outerjoin(Region, (Region.code == Deed.region_code) & Region.current())
                 .where(_deeds(scope, period)).order_by(Deed.done_on, Deed.id))
    return [dict(row._mapping) for row in session.execute(query.limit(limit))]


def ranking(session, scope: Scope, period: metrics.Period) -> list[dict]:
    """The scope's townships (or a township's villages) ranked by overdue issues plus coverage
    gaps, worst first: {code, name, overdue, gaps, total}."""
    region = scope.region_code
    if scope.cadre_id is not None or not region or codes.is_grid_code(region) or len(region) >= 12:
        return []
    child = "township" if len(region) == 6 else "village"
    children = session.execute(
        select(Region.code, Region.name).where(
            Region.county_code == scope.county_code, Region.level == child, Region.current(),
            Region.code.startswith(region)).order_by(Region.code).limit(MAX_RANKED)).all()
    overdue = {row.key: row.counts["overdue"]
               for row in metrics.compute(session, scope, child, period)}
    now = clock.now()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    # one grouped query per gap rule (the roll-up map's own counts), not one per child
    per_kind = {kind: rollup.values(session, scope, child, "gap_" + kind, now, intervals)
                for kind in GAP_KINDS}
    ranked = []
    for code, name in children:
        gaps = {kind: per_kind[kind].get(code, 0) for kind in GAP_KINDS}
        late = overdue.get(code, 0)
        ranked.append({"code": code, "name": name, "overdue": late, "gaps": sum(gaps.values()),
                       **{f"gap_{kind}": count for kind, count in gaps.items()},
                       "total": late + sum(gaps.values())})
    return sorted(ranked, key=lambda row: (-row["total"], row["code"]))
