"""Who covers what, and where the gaps (空白点) are. One gap rule per 五包 level, in one place.

| rule              | a gap is                                                        |
|-------------------|-----------------------------------------------------------------|
| `village`         | a current village with no current 包村 leader                    |
| `area`            | a current grid in no 片 that has a current 包片 agency           |
| `group`           | a current grid with no current 包组 unit                         |
| `branch`          | a Party branch with no current 包支部 cadre                      |
| `weak_branch`     | a weak (软弱涣散) Party branch with no current 包支部 cadre        |
| `household`       | a household with no current 包户 cadre                           |
| `visit`           | never visited, or past its due time (`due_at`: care, campaigns) |
| `uncovered`       | a household in no grid, or whose point lies outside its own grid |
| `uncovered_area`  | a village part that none of its current grids covers (an area)  |
| `grid_worker`     | a current grid with no active grid worker account scoped to it  |

Stationed staff (`first_secretary`, `work_team`) go to chosen villages only, so their
absence is not a gap. Every rule is a SQLAlchemy select filtered by the caller's
policy.Scope, so the counting happens in PostGIS and is always scoped by county_code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    DateTime,
    SmallInteger,
    any_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from gridmap import settings
from gridmap.calendar import CHINA_TIME
from gridmap.models import (
    AppUser,
    AreaGrid,
    Assignment,
    Campaign,
    CampaignHousehold,
    Grid,
    Household,
    HouseholdLastVisit,
    HouseholdOutsideGrid,
    HouseholdUnassigned,
    HouseholdVisitState,
    PartyBranch,
    Region,
    VillageUncovered,
)
from gridmap.policy import Scope


@dataclass(frozen=True)
class GapRule:
    """One kind of coverage gap: its key, labels and the table whose rows are the gaps."""
    kind: str
    label_zh: str
    label_en: str
    target: str  # the table whose rows are the gaps


RULES: dict[str, GapRule] = {rule.kind: rule for rule in (
    GapRule("village", "无包村领导的村", "villages without a leader", "region"),
    GapRule("area", "未纳入包片的网格", "grids in no covered area", "grid"),
    GapRule("group", "无包组单位的网格", "grids without a unit", "grid"),
    GapRule("branch", "无包联干部的支部", "branches without a cadre", "party_branch"),
    GapRule("weak_branch", "无包联干部的软弱涣散支部", "weak branches without a cadre",
            "party_branch"),
    GapRule("household", "无包户干部的户", "households without a cadre", "household"),
    GapRule("visit", "逾期未走访的户", "households not visited in time", "household"),
    GapRule("uncovered", "不在网格内的户", "households outside their grid", "household"),
    GapRule("uncovered_area", "村内未划入网格的区域", "village areas in no grid", "region"),
    GapRule("grid_worker", "无网格员的网格", "grids without a grid worker", "grid"),
)}
# A village part left out of its grids counts from this size on (m²): smaller differences
# are the slivers two independently traced boundaries leave, not a place no one answers for.
MIN_UNCOVERED_M2 = 10_000


# The care flags that shorten the visit interval: setting key → the household's condition.
CARE_FLAGS = {
    "extreme_poverty": lambda: Household.extreme_poverty,  # 特困
    "minimum_living": lambda: Household.minimum_living,  # 低保
    "relapse_monitoring": lambda: Household.relapse_monitoring,  # 监测户
    "elderly_alone": lambda: Household.elderly_alone,  # 空巢/独居
    "left_behind_children": lambda: Household.left_behind_children,  # 留守儿童
    "left_behind_women": lambda: Household.left_behind_women,  # 留守妇女
    "left_behind_elderly": lambda: Household.left_behind_elderly,  # 留守老人
    "disability_severe": lambda: Household.disability_grade <= 2,  # 残疾 1–2 级
}


# Bit i of household_visit_state.care_mask is the i-th care flag (migration 0034 writes them
# in this order; a test checks), so a household's interval is a function of its mask.
CARE_BIT = {flag: bit for bit, flag in enumerate(CARE_FLAGS)}
CARE_MASKS = range(1 << len(CARE_FLAGS))


def needs_care():
    """SQL: the household has a care flag (any of CARE_FLAGS): what care counts count."""
    return or_(*(flag() for flag in CARE_FLAGS.values()))


@dataclass(frozen=True)
class VisitIntervals:
    """Days allowed between visits, per care flag (`visit.interval_days.*` in the settings).

    A household's interval is the shortest of its care flags' intervals, `default_days`
    when it has none.
    """

    default_days: int = field(default_factory=lambda: _default_intervals()["default"])
    flag_days: tuple[tuple[str, int], ...] = field(default_factory=lambda: tuple(
        (flag, days) for flag, days in _default_intervals().items() if flag in CARE_FLAGS))

    def __post_init__(self):
        unknown = [flag for flag, _days in self.flag_days if flag not in CARE_FLAGS]
        if unknown:
            raise ValueError(f"no care flag {unknown[0]!r}; known: {', '.join(CARE_FLAGS)}")

    @classmethod
    def from_settings(cls, values: dict) -> VisitIntervals:
        """From the `visit.interval_days` group (settings.get(session, county, that key))."""
        return cls(default_days=values["default"],
                   flag_days=tuple((flag, values[flag]) for flag in CARE_FLAGS if flag in values))

    @classmethod
    def of_county(cls, session, county_code: str) -> VisitIntervals:
        """The county's intervals, defaults with its overrides."""
        return cls.from_settings(settings.get(session, county_code, "visit.interval_days"))

    def days(self):
        """SQL: the household's interval in days (the shortest of its flags', else the default)."""
        flagged = [case((CARE_FLAGS[flag](), days)) for flag, days in self.flag_days]
        if not flagged:
            return literal(self.default_days)
        return func.coalesce(func.least(*flagged), self.default_days)

    def days_of_mask(self, mask: int) -> int:
        """The interval of a household whose care flags are the bits of `mask` (as days())."""
        return min((days for flag, days in self.flag_days if mask >> CARE_BIT[flag] & 1),
                   default=self.default_days)

    def masks_by_days(self) -> dict[int, list[int]]:
        """Every care mask, grouped by its interval: {days: [mask, …]}."""
        grouped: dict[int, list[int]] = {}
        for mask in CARE_MASKS:
            grouped.setdefault(self.days_of_mask(mask), []).append(mask)
        return grouped


def _default_intervals() -> dict:
    return settings.defaults()["visit"]["interval_days"]


def last_visits(county_code: str):
    """SQL (a subquery): each visited household's last visit (`household_id`, `last`), kept
    by triggers on `visit` (models.HouseholdLastVisit): one row per household, no pass over
    the county's visits."""
    return (select(HouseholdLastVisit.household_id, HouseholdLastVisit.visited_at.label("last"))
            .where(HouseholdLastVisit.county_code == county_code).subquery())


class VisitState:
    """What the due list reads per household, joined once to a household query: its
    last visit and last 走访 (models.HouseholdLastVisit, kept by triggers) and the running
    campaign that still waits for a 走访 of it. Hash joins, not a lookup per household.

    `join(query)` adds them to a query of households; `due_at`, `due_reason`,
    `pending_campaign` and `last_visited_at` are its columns and expressions."""

    def __init__(self, county_code: str, now: datetime):
        self.county_code, self.now = county_code, now
        self.last = aliased(HouseholdLastVisit)
        self.campaign = _pending_campaigns(county_code, now)
        self.last_visited_at = self.last.visited_at

    def join(self, query: Select) -> Select:
        """`query` (of households) with the household's last visit and pending campaign."""
        return (query.outerjoin(self.last, (self.last.household_id == Household.id)
                                & (self.last.county_code == self.county_code))
                .outerjoin(self.campaign, self.campaign.c.household_id == Household.id))

    def _branches(self, intervals: VisitIntervals):
        """The rule as (reason, condition, due at) branches, first match wins: due_at and
        due_reason both read them, so a reason is always the rule's own."""
        last, changed = self.last_visited_at, Household.care_flags_changed_at
        campaign_start = self.campaign.c.starts_at
        return [
            ("new", last.is_(None), null()),
            ("care", changed > last, changed),
            ("campaign", campaign_start.is_not(None), campaign_start),
            ("interval", true(), last + intervals.days() * literal_column("interval '1 day'")),
        ]

    def due_at(self, intervals: VisitIntervals):
        """SQL: when the household's next visit is due; NULL when never visited (due at once).

        A care flag turned on since the last visit (`household.care_flags_changed_at`, set by
        a trigger whoever writes the row) makes it due from that moment: a household newly 低保
        or newly living alone is visited now, not at the end of its old interval. A running
        visit campaign (gridmap.campaigns) with no 走访 of the household since it began makes
        it due from the campaign's first day. The due list and a household's page read this;
        the `visit` gap rule reads the same rule branch by branch from the kept rows
        (`due_households`), and tests hold the two to the same households.
        """
        branches = self._branches(intervals)
        return case(*((condition, due) for _reason, condition, due in branches[:-1]),
                    else_=branches[-1][2])

    def due_reason(self, intervals: VisitIntervals):
        """SQL: which branch of the rule `due_at` took: new, care, campaign or interval."""
        branches = self._branches(intervals)
        return case(*((condition, literal(reason)) for reason, condition, _due in branches[:-1]),
                    else_=literal(branches[-1][0]))

    def pending_campaign(self):
        """SQL: (name, due_on) of the campaign that makes the household due (see due_at)."""
        return self.campaign.c.name, self.campaign.c.due_on


def _pending_campaigns(county_code: str, now: datetime, cte: bool = False):
    """SQL (a subquery, or a CTE read once by several branches): per household, the running
    campaign (started, not past its date) with no 走访 of it since the campaign began, the
    one due soonest (`household_id`, `name`, `due_on`, `starts_at`)."""
    today = now.astimezone(CHINA_TIME).date()
    started = func.timezone("Asia/Shanghai", cast(Campaign.starts_on, DateTime()))
    walked = aliased(HouseholdLastVisit)
    query = (select(CampaignHousehold.household_id, Campaign.name, Campaign.due_on,
                    started.label("starts_at"))
             .ext(distinct_on(CampaignHousehold.household_id))
             .join(Campaign, CampaignHousehold.campaign_id == Campaign.id)
             .outerjoin(walked, (walked.household_id == CampaignHousehold.household_id)
                        & (walked.county_code == county_code))
             .where(Campaign.county_code == county_code,
                    Campaign.starts_on <= today, Campaign.due_on >= today,
                    walked.walked_at.is_(None) | (walked.walked_at < started))
             .order_by(CampaignHousehold.household_id, Campaign.due_on, Campaign.id))
    return query.cte("pending_campaign") if cte else query.subquery()


def is_due(due, now: datetime):
    """SQL: a household whose `due_at` is `due` is due a visit at `now`."""
    return or_(due.is_(None), due < now)


def _kept_in_scope(scope: Scope):
    """SQL: the kept rows (models.HouseholdVisitState, active households only) that
    `scope.households()` holds. A county's or a region's are picked by their own codes; a
    grid worker's or a cadre's few households are found by household's own indexes."""
    kept = HouseholdVisitState
    in_county = kept.county_code == scope.county_code
    if scope.cadre_id is not None or scope.grid_code is not None:
        return in_county & kept.household_id.in_(select(Household.id).where(scope.households()))
    return scope.counted_places(kept)


def due_households(scope: Scope, now: datetime,
                   intervals: VisitIntervals = VisitIntervals()) -> Select:
    """The households in scope due a visit at `now` (`household_id`, `village_code`,
    `grid_code`): VisitState.due_at's rule, read from the kept rows (models.
    HouseholdVisitState, migration 0034) one branch at a time, so that each branch is an
    index range scan over the households it finds, never a pass over the county's.

    The branches are disjoint, as due_at's first match wins: never visited (`new`); a care
    flag turned on since the last visit (`care`, due once that moment has passed); else a
    running campaign waiting for a 走访 (`campaign`, due from its first day); else the interval
    (`interval`): per interval of the caller's settings, the care masks that have it and the
    households with one of them last visited before now less it. A household is listed once.
    """
    kept = HouseholdVisitState
    in_scope = _kept_in_scope(scope)
    last, changed = kept.last_visited_at, kept.care_flags_changed_at
    moment = literal(now, DateTime(timezone=True))
    columns = (kept.household_id, kept.village_code, kept.grid_code)
    pending = _pending_campaigns(scope.county_code, now, cte=True)
    no_care_since = or_(changed.is_(None), changed <= last)  # of a visited household

    def with_masks(masks):
        return kept.care_mask == any_(literal(masks, ARRAY(SmallInteger)))

    branches = [
        select(*columns).where(in_scope, with_masks(list(CARE_MASKS)), last.is_(None)),
        select(*columns).where(in_scope, changed > last, changed < moment),
        select(*columns).join(pending, pending.c.household_id == kept.household_id).where(
            in_scope, last.is_not(None), no_care_since, pending.c.starts_at < moment),
    ]
    waiting = select(pending.c.household_id)
    for days, masks in sorted(intervals.masks_by_days().items()):
        # due_at's last + days < now, turned round so that the index's range holds it: the
        # same test in a session time zone without daylight saving (UTC, Asia/Shanghai)
        since = moment - literal(days) * literal_column("interval '1 day'")
        branches.append(select(*columns).where(
            in_scope, with_masks(masks), last < since, no_care_since,
            kept.household_id.not_in(waiting)))
    return union_all(*branches)


def _assigned(kind: str, scope: Scope, *conditions):
    """A current assignment of `kind` in the scope's county (the county keeps the join to
    one county's rows: without it a ten-county database is read ten times over)."""
    return exists().where(Assignment.county_code == scope.county_code, Assignment.kind == kind,
                          Assignment.current(), *conditions)


def _villages_of(scope: Scope):
    """Villages inside the scope's region (none for a grid worker's or a cadre's scope: a
    village is wider than what they answer for)."""
    if scope.region_code is None or scope.grid_code is not None or scope.cadre_id is not None:
        return false()
    return Region.code.startswith(scope.region_code, autoescape=True)


def uncovered_area_query(scope: Scope) -> Select:
    """Villages in scope with a part none of their grids covers: id, code, name and that
    part (`geom`). Villages without any grid yet are not listed: nothing there is gridded.

    The parts are kept when shapes change (models.VillageUncovered, triggers on `grid` and
    `region`); only the thresholds are applied here. The village's area less its grids'
    areas picks the candidates; overlapping grids could hide a hole from that first test,
    but overlaps are an error the importer refuses."""
    part = VillageUncovered
    return (select(Region.id, Region.code, Region.name, part.geom)
            .join(part, (part.county_code == scope.county_code)
                  & (part.village_code == Region.code))
            .where(Region.county_code == scope.county_code, _villages_of(scope),
                   Region.level == "village", Region.current(), Region.geom.is_not(None),
                   part.gap_m2 >= MIN_UNCOVERED_M2, ~func.ST_IsEmpty(part.geom),
                   part.m2 >= MIN_UNCOVERED_M2))


def _outside_own_grid(household: Select, scope: Scope) -> Select:
    """Households of `household` with no grid code, or whose point their own current grid
    does not cover (ST_Covers: a point on the boundary is inside), or whose grid is gone.

    Kept by triggers where households and grids are written (models.HouseholdOutsideGrid,
    migration 0030): a few rows per county, not a point-in-polygon test per household on
    every request (3.7 s for 300,000 households under load)."""
    outside = select(HouseholdOutsideGrid.household_id).where(
        HouseholdOutsideGrid.county_code == scope.county_code)
    return household.where(Household.id.in_(outside))


def _rule(kind: str) -> GapRule:
    try:
        return RULES[kind]
    except KeyError:
        raise ValueError(f"no coverage rule {kind!r}; known: {', '.join(RULES)}") from None


def gap_query(kind: str, scope: Scope, now: datetime,
              intervals: VisitIntervals = VisitIntervals()) -> Select:
    """The rows that are gaps under rule `kind`, within `scope` (id, code, name columns)."""
    _rule(kind)
    if kind == "village":
        return select(Region.id, Region.code, Region.name).where(
            scope.regions(), Region.level == "village", Region.current(),
            ~_assigned("village", scope, Assignment.region_code == Region.code))
    if kind == "uncovered_area":
        query = uncovered_area_query(scope).subquery()
        return select(query.c.id, query.c.code, query.c.name)
    if kind in ("area", "group", "grid_worker"):
        if kind == "grid_worker":
            covered = exists().where(
                AppUser.county_code == scope.county_code, AppUser.role == "grid_worker",
                AppUser.active, AppUser.scope_code == Grid.code)
        elif kind == "group":
            covered = _assigned("group", scope, Assignment.grid_code == Grid.code)
        else:
            # NOT IN a list hashed once: as a correlated NOT EXISTS the planner misjudged the
            # covered grids as one row and rescanned them per grid (0.57 s for 2,400 grids).
            covered = Grid.code.in_(select(AreaGrid.grid_code).where(
                AreaGrid.county_code == scope.county_code,
                _assigned("area", scope, Assignment.area_id == AreaGrid.area_id)))
        return select(Grid.id, Grid.code, Grid.name).where(scope.grids(), Grid.current(), ~covered)
    if kind in ("branch", "weak_branch"):
        branch_scope = PartyBranch.village_code.in_(
            select(Region.code).where(scope.regions(), Region.county_code == scope.county_code,
                                      Region.level == "village", Region.current()))
        weak = PartyBranch.weak if kind == "weak_branch" else true()
        return select(PartyBranch.id, PartyBranch.code, PartyBranch.name).where(
            PartyBranch.county_code == scope.county_code, branch_scope, weak,
            ~_assigned("branch", scope, Assignment.party_branch_id == PartyBranch.id))
    household = select(Household.id, Household.code, Household.head_name.label("name")).where(
        scope.households())
    if kind == "household":
        # Kept by triggers where households and assignments are written (migration 0033):
        # no anti-join of every household to its assignments per request.
        return household.where(Household.id.in_(select(HouseholdUnassigned.household_id).where(
            HouseholdUnassigned.county_code == scope.county_code)))
    if kind == "uncovered":
        return _outside_own_grid(household, scope)
    # visit: never visited, or past its due time (VisitState.due_at), from the kept rows
    due = due_households(scope, now, intervals).subquery()
    return household.where(Household.id.in_(select(due.c.household_id)))


def count_query(kind: str, scope: Scope, now: datetime,
                intervals: VisitIntervals = VisitIntervals()) -> Select:
    """SQL: how many gaps of rule `kind` the scope has. The `visit` rule counts its kept rows
    without reading the households they are (gap_query's rows, the same set)."""
    if kind == "visit":
        sub = due_households(scope, now, intervals).subquery()
    else:
        sub = gap_query(kind, scope, now, intervals).subquery()
    return select(func.count()).select_from(sub)


def gap_counts(connection: Connection, scope: Scope, now: datetime,
               intervals: VisitIntervals = VisitIntervals(),
               kinds: tuple[str, ...] | None = None) -> dict[str, int]:
    """How many gaps of each kind (of `kinds`, default all) the scope has: one aggregate
    query per rule."""
    return {kind: connection.execute(count_query(kind, scope, now, intervals)).scalar_one()
            for kind in kinds or RULES}


def gaps(connection: Connection, kind: str, scope: Scope, now: datetime,
         intervals: VisitIntervals = VisitIntervals(), limit: int = 500) -> list[dict]:
    """The first `limit` gaps of one kind, ordered by code (a page is always bounded)."""
    sub = gap_query(kind, scope, now, intervals).subquery()
    query = select(sub).order_by(sub.c.code).limit(limit)
    return [dict(row._mapping) for row in connection.execute(query)]


def _with_village(kind: str, scope: Scope, sub):
    """The gap rows of `sub` with the code and name of the village each lies in."""
    target = _rule(kind).target
    if target == "region":
        village_code = sub.c.code
        query = select(sub.c.code, sub.c.name, village_code.label("village_code"))
    else:
        model = {"grid": Grid, "household": Household, "party_branch": PartyBranch}[target]
        village_code = model.village_code
        query = (select(sub.c.code, sub.c.name, village_code.label("village_code"))
                 .join(model, model.id == sub.c.id))
    return query.subquery()


def _village_names(scope: Scope):
    return (select(Region.code, Region.name)
            .where(Region.county_code == scope.county_code, Region.level == "village",
                   Region.current()).subquery())


def gap_rows(connection: Connection, kind: str, scope: Scope, now: datetime,
             intervals: VisitIntervals = VisitIntervals(), limit: int = 5000) -> list[dict]:
    """Row-level gaps of one kind with their village (code, name, village_code, village),
    ordered by code and bounded. Names are as stored: mask households' before showing."""
    rows = _with_village(kind, scope, gap_query(kind, scope, now, intervals).subquery())
    villages = _village_names(scope)
    query = (select(rows.c.code, rows.c.name, rows.c.village_code,
                    villages.c.name.label("village"))
             .outerjoin(villages, villages.c.code == rows.c.village_code)
             .order_by(rows.c.code).limit(limit))
    return [dict(row._mapping) for row in connection.execute(query)]


def gap_rollup(connection: Connection, kind: str, scope: Scope, now: datetime,
               intervals: VisitIntervals = VisitIntervals()) -> list[dict]:
    """Gaps of one kind counted per village (village_code, village, count): what a role
    without row-level access sees. The counts add up to gap_counts()[kind]."""
    rows = _with_village(kind, scope, gap_query(kind, scope, now, intervals).subquery())
    villages = _village_names(scope)
    query = (select(rows.c.village_code, villages.c.name.label("village"),
                    func.count().label("count"))
             .outerjoin(villages, villages.c.code == rows.c.village_code)
             .group_by(rows.c.village_code, villages.c.name)
             .order_by(rows.c.village_code.nulls_last()))
    return [dict(row._mapping) for row in connection.execute(query)]
