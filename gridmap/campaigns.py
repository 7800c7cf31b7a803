"""Visit campaigns and visit checks. Core: no Flask.

A campaign is a set of households and a deadline — "every paired household visited before
春节" — fixed when it is set up (`campaign_household`), its progress read from the visits
already logged between its dates, by grid and by paired cadre. Nobody logs anything twice.

Checks (列表督查、电话抽查): an inspector draws a random sample of logged visits in their scope,
weighted towards households the coverage rules flag (no 包户 cadre) and grids with overdue
issues, and records for each whether it really happened. The share confirmed is a figure of
the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    DateTime,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
)

from gridmap import clock, coverage, inputs, lifecycle
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound, _
from gridmap.models import (
    CHECK_METHODS,
    CHECK_RESULTS,
    AppUser,
    Assignment,
    Cadre,
    Campaign,
    CampaignHousehold,
    Grid,
    Household,
    Issue,
    Region,
    Visit,
    VisitCheck,
)
from gridmap.policy import Scope, allowed

RULES = {"paired": _("结对帮扶户"), "care": _("重点关爱户（低保、特困、留守、独居、重度残疾等）"),
         "all": _("全部农户")}
METHOD_LABELS = {"phone": _("电话抽查"), "on_site": _("实地核查"), "list": _("列表督查")}
RESULT_LABELS = {"confirmed": _("属实"), "not_confirmed": _("不属实"), "unreachable": _("联系不上")}
MAX_SAMPLE = 200
LIMITS = {"name": 100, "note": 1000}


def _may(actor, action: str) -> None:
    if actor is None or not allowed(actor.role, action):
        raise Forbidden(_("您的角色无权进行此操作。"))


def _today() -> date:
    return clock.now().astimezone(CHINA_TIME).date()


def _paired():
    return exists().where(Assignment.household_id == Household.id, Assignment.kind == "household",
                          Assignment.current(), Assignment.county_code == Household.county_code)


def _rule_condition(rule: str):
    if rule == "paired":
        return _paired()
    if rule == "care":
        return coverage.needs_care()
    return literal(True)


# --- campaigns -----------------------------------------------------------------------------


def create(session, actor, data: dict) -> tuple[Campaign, int]:
    """A campaign over the households of `rule` in `region` (the actor's own by default);
    returns it and how many households it covers."""
    _may(actor, "run_campaigns")
    scope, county = Scope.of_user(actor), actor.county_code
    region = inputs.text(data, "region", 12) or scope.region_code
    inside = region and session.execute(select(Region.code).where(
        Region.county_code == county, Region.code == region, Region.current(),
        scope.in_region(Region.code))).scalar()
    if not inside:
        raise NotFound(_("没有代码为 %(code)s 的地区，或不在您的范围内", code=region), field="region")
    rule = inputs.choice(data, "rule", tuple(RULES), "paired")
    starts_on = inputs.day(data, "starts_on", default=_today())
    due_on = inputs.day(data, "due_on", required=True)
    if due_on < starts_on:
        raise BadInput(_("截止日期不能早于开始日期"), field="due_on")
    campaign = Campaign(county_code=county, name=inputs.text(data, "name", LIMITS["name"], required=True),
                        region_code=region, rule=rule, starts_on=starts_on, due_on=due_on,
                        created_by=actor.id)
    session.add(campaign)
    session.flush()
    members = select(literal(campaign.id), Household.id, Household.county_code).where(
        Scope(county, region_code=region).households(), scope.households(), _rule_condition(rule))
    covered = session.execute(insert(CampaignHousehold).from_select(
        ["campaign_id", "household_id", "county_code"], members)).rowcount
    if covered == 0:
        raise BadInput(_("这个范围内没有符合条件的户，活动没有对象"), field="rule")
    return campaign, covered


def visible(actor):
    """Campaigns the actor may see: in their region."""
    scope = Scope.of_user(actor)
    return (Campaign.county_code == actor.county_code) & scope.in_region(Campaign.region_code)


def get(session, actor, campaign_id) -> Campaign:
    """The campaign, if the actor may see it; NotFound otherwise."""
    campaign = session.execute(select(Campaign).where(
        Campaign.id == inputs.ident(campaign_id, "campaign"), visible(actor))).scalar()
    if campaign is None:
        raise NotFound(_("没有编号为 %(id)s 的走访活动，或不在您的范围内", id=campaign_id),
                       field="campaign")
    return campaign


def _visited_between(start, end):
    """SQL: the member household has a 走访 from `start` up to (not including) `end`."""
    return exists().where(
        Visit.household_id == CampaignHousehold.household_id, Visit.kind == "visit",
        Visit.county_code == CampaignHousehold.county_code,
        Visit.visited_at >= start, Visit.visited_at < end)


def _china_midnight(day):
    """SQL: the first moment of a China date held in a column."""
    return func.timezone("Asia/Shanghai", cast(day, DateTime()))


@dataclass(frozen=True)
class Progress:
    """How far a campaign (or one grid's or cadre's part of it) has come."""

    key: str | None
    name: str | None
    households: int
    visited: int

    @property
    def share(self) -> float | None:
        """visited / households (None for none)."""
        return self.visited / self.households if self.households else None


def listing(session, actor) -> list[dict]:
    """The actor's campaigns, newest first, each with its households and how many are visited."""
    members = (select(CampaignHousehold.campaign_id, func.count().label("households"),
                             func.count().filter(_visited_between(
                          _china_midnight(Campaign.starts_on),
                          _china_midnight(Campaign.due_on + literal_column("interval '1 day'"))))
                      .label("visited"))
               .join(Campaign, Campaign.id == CampaignHousehold.campaign_id)
               .where(visible(actor)).group_by(CampaignHousehold.campaign_id).subquery())
    rows = session.execute(
        select(Campaign, members.c.households, members.c.visited)
        .outerjoin(members, members.c.campaign_id == Campaign.id).where(visible(actor))
        .order_by(Campaign.due_on.desc(), Campaign.id.desc()).limit(200)).all()
    today = _today()
    return [{"campaign": campaign, "households": households or 0, "visited": visited or 0,
             "overdue": today > campaign.due_on and (visited or 0) < (households or 0)}
            for campaign, households, visited in rows]


def progress(session, actor, campaign: Campaign, by: str = "grid") -> list[Progress]:
    """The campaign's households and those visited, per grid or per paired cadre, least done
    first; only households in the actor's scope count."""
    scope = Scope.of_user(actor)
    visited = _visited_between(inputs.day_start(campaign.starts_on),
                               inputs.day_start(campaign.due_on + timedelta(days=1)))
    if by == "cadre":
        paired = (select(Assignment.household_id, func.min(Assignment.cadre_id).label("cadre_id"))
                  .where(Assignment.county_code == campaign.county_code,
                         Assignment.kind == "household", Assignment.current())
                  .group_by(Assignment.household_id).subquery())
        key, name = Cadre.code, Cadre.name
        query = (select(key, name, func.count(), func.count().filter(visited))
                 .select_from(CampaignHousehold)
                 .join(Household, Household.id == CampaignHousehold.household_id)
                 .outerjoin(paired, paired.c.household_id == Household.id)
                 .outerjoin(Cadre, Cadre.id == paired.c.cadre_id))
    else:
        key, name = Household.grid_code, Grid.name
        query = (select(key, name, func.count(), func.count().filter(visited))
                 .select_from(CampaignHousehold)
                 .join(Household, Household.id == CampaignHousehold.household_id)
                 .outerjoin(Grid, and_(Grid.code == Household.grid_code, Grid.current(),
                                       Grid.county_code == Household.county_code)))
    rows = session.execute(query.where(CampaignHousehold.campaign_id == campaign.id,
                                       scope.households())
                           .group_by(key, name)
                           .order_by((func.count().filter(visited) * 1.0 / func.count()), key)
                           .limit(2000)).all()
    return [Progress(*row) for row in rows]


# --- checks --------------------------------------------------------------------------------


def draw(session, actor, data: dict) -> int:
    """Draw up to `n` logged visits of the period in the actor's scope that were never drawn,
    at random, weighted towards gaps and overdue items; returns how many were drawn."""
    _may(actor, "check_visits")
    scope = Scope.of_user(actor)
    n = inputs.count(data, "n", high=MAX_SAMPLE) or 20
    end = inputs.day(data, "to", default=_today())
    start = inputs.day(data, "from", default=end - timedelta(days=30))
    if end < start:
        raise BadInput(_("结束日期早于开始日期"), field="to")
    overdue_grid = exists().where(
        Issue.county_code == Household.county_code, Issue.grid_code == Household.grid_code,
        Issue.status.in_(lifecycle.OPEN), Issue.handling_due < clock.now())
    weight = 1 + case((~_paired(), 1), else_=0) + case((overdue_grid, 1), else_=0)
    chosen = (select(Visit.id, Visit.county_code)
              .join(Household, Household.id == Visit.household_id)
              .where(Visit.county_code == actor.county_code, Visit.kind == "visit",
                     Visit.visited_at >= inputs.day_start(start),
                     Visit.visited_at < inputs.day_start(end + timedelta(days=1)),
                     scope.households(),
                     ~exists().where(VisitCheck.visit_id == Visit.id))
              # Efraimidis–Spirakis: the n smallest -ln(u)/w are a weighted sample
              .order_by(-func.ln(func.random()) / weight).limit(n).subquery())
    now = clock.now()
    return session.execute(insert(VisitCheck).from_select(
        ["visit_id", "county_code", "drawn_at", "drawn_by"],
        select(chosen.c.id, chosen.c.county_code, literal(now), literal(actor.id)))).rowcount


def _checks_seen(actor):
    scope = Scope.of_user(actor)
    return and_(VisitCheck.county_code == actor.county_code, scope.households())


def checks(session, actor, *, pending: bool = True, limit: int = 200) -> list[dict]:
    """Drawn visits (pending, or already checked), with what the checker needs: when, which
    household (code), who visited and what they noted."""
    who = func.coalesce(Cadre.name, AppUser.display_name, AppUser.login)
    query = (select(VisitCheck.id, VisitCheck.result, VisitCheck.method, VisitCheck.note,
                    Visit.visited_at, Household.code.label("household"),
                    Household.village_code, who.label("visitor"), Visit.notes)
             .join(Visit, Visit.id == VisitCheck.visit_id)
             .join(Household, Household.id == Visit.household_id)
             .outerjoin(Cadre, Cadre.id == Visit.cadre_id)
             .outerjoin(AppUser, AppUser.id == Visit.user_id)
             .where(_checks_seen(actor),
                    VisitCheck.result.is_(None) if pending else VisitCheck.result.is_not(None))
             .order_by(VisitCheck.id).limit(limit))
    return [dict(row._mapping) for row in session.execute(query)]


def record_check(session, actor, check_id, data: dict) -> VisitCheck:
    """Record whether a drawn visit really happened (once)."""
    _may(actor, "check_visits")
    check = session.execute(
        select(VisitCheck).join(Visit, Visit.id == VisitCheck.visit_id)
        .join(Household, Household.id == Visit.household_id)
        .where(VisitCheck.id == inputs.ident(check_id, "check"), _checks_seen(actor))
        .with_for_update(of=VisitCheck)).scalar()
    if check is None:
        raise NotFound(_("没有编号为 %(id)s 的抽查，或不在您的范围内", id=check_id), field="check")
    if check.result is not None:
        raise Conflict(_("这条走访已核查过（%(result)s）", result=RESULT_LABELS[check.result]),
                       field="result")
    method = inputs.choice(data, "method", CHECK_METHODS, "phone")
    result = inputs.choice(data, "result", CHECK_RESULTS, "")
    note = inputs.text(data, "note", LIMITS["note"], required=result == "not_confirmed")
    check.method, check.result, check.note = method, result, note
    check.checked_by, check.checked_at = actor.id, clock.now()
    session.flush()
    return check


def confirmed_share(session, scope: Scope, start: date, end: date) -> tuple[int, int]:
    """(confirmed, checked and reached) among checks of visits logged in the period in scope;
    unreachable households are not counted either way."""
    row = session.execute(
        select(func.count().filter(VisitCheck.result == "confirmed"),
               func.count().filter(VisitCheck.result.in_(("confirmed", "not_confirmed"))))
        .join(Visit, Visit.id == VisitCheck.visit_id)
        .join(Household, Household.id == Visit.household_id)
        .where(VisitCheck.county_code == scope.county_code, scope.households(),
               Visit.visited_at >= inputs.day_start(start),
               Visit.visited_at < inputs.day_start(end + timedelta(days=1)))).one()
    return row[0], row[1]

