"""The appeals layer: unresolved issues as points with their stage and traffic light.

Only what a marker needs (id, code, stage, light, category, urgency) is sent; a popup
fetches the issue itself (/api/issues/<id>) when it opens. Built by PostGIS as one
FeatureCollection, scoped like the issue queue (gridmap.issue_queries), narrowed by an
`AppealFilter` (stage, category, appeal type, urgency, handling level, unit, report dates,
overdue) that the map's filters send as query parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Text, and_, cast, func, select, true
from sqlalchemy.orm import Session

from gridmap import lifecycle
from gridmap.errors import BadInput, _
from gridmap.issue_queries import light_sql
from gridmap.maps.layers import MAX_FEATURES, collection_json, geojson_of, json_object
from gridmap.metrics import Period
from gridmap.models import APPEAL_TYPES, HANDLING_LEVELS, URGENCIES, Issue, IssueCategory, Unit
from gridmap.policy import Scope

CODE = re.compile(r"[0-9A-Za-z_-]{1,32}")
# The query parameters an AppealFilter reads, as the map page sends them.
PARAMETERS = ("stage", "category", "appeal_type", "urgency", "level", "unit", "from", "to",
              "overdue")


@dataclass(frozen=True)
class AppealFilter:
    """Which open issues the appeals layer shows; every field None means "all"."""

    stage: str | None = None
    category: str | None = None
    appeal_type: str | None = None
    urgency: str | None = None
    level: str | None = None
    unit: str | None = None  # the responsible unit's code
    period: Period = Period()
    overdue: bool = False

    @classmethod
    def parse(cls, args) -> AppealFilter:
        """From query parameters; BadInput names the parameter that is wrong."""
        def choice(name, allowed):
            value = args.get(name) or None
            if value is not None and value not in allowed:
                raise BadInput(_("%(field)s 应是 %(choices)s 之一", field=name,
                                 choices=", ".join(allowed)), field=name)
            return value

        def code(name):
            value = args.get(name) or None
            if value is not None and not CODE.fullmatch(value):
                raise BadInput(_("%(field)s 应是字母、数字、- 或 _ 组成的编码", field=name),
                               field=name)
            return value

        overdue = args.get("overdue") or ""
        if overdue not in ("", "0", "1", "true", "false"):
            raise BadInput(_("overdue 应是 1 或 0"), field="overdue")
        return cls(stage=choice("stage", lifecycle.OPEN), category=code("category"),
                   appeal_type=choice("appeal_type", APPEAL_TYPES),
                   urgency=choice("urgency", URGENCIES), level=choice("level", HANDLING_LEVELS),
                   unit=code("unit"), period=Period.parse(args.get("from"), args.get("to")),
                   overdue=overdue in ("1", "true"))

    def condition(self, scope: Scope, light):
        """The SQL condition on `issue` (and its traffic light `light`)."""
        parts = [self.period.condition()]
        if self.stage:
            parts.append(Issue.status == self.stage)
        if self.category:
            parts.append(Issue.category == self.category)
        if self.appeal_type:
            parts.append(Issue.category.in_(select(IssueCategory.code).where(
                IssueCategory.county_code == scope.county_code,
                IssueCategory.appeal_type == self.appeal_type)))
        if self.urgency:
            parts.append(Issue.urgency == self.urgency)
        if self.level:
            parts.append(Issue.level == self.level)
        if self.unit:
            parts.append(Issue.responsible_unit_id.in_(select(Unit.id).where(
                Unit.county_code == scope.county_code, Unit.code == self.unit)))
        if self.overdue:
            parts.append(light == "red")
        return and_(true(), *parts)


def open_issues(scope: Scope):
    """SQL: the scope's unresolved issues (open, not merged)."""
    return and_(scope.issues(), Issue.county_code == scope.county_code,
                Issue.status.in_(lifecycle.OPEN), Issue.merged_into.is_(None))


def appeals_layer_json(session: Session, scope: Scope,
                       only: AppealFilter = AppealFilter()) -> str:
    """Open issues of the scope that have a location (narrowed by `only`), as GeoJSON text."""
    due, light = light_sql(session, scope.county_code)
    rows = (select(
        cast(Issue.id, Text).label("fid"), geojson_of(Issue.geom).label("geometry"),
        json_object(id=Issue.id, code=Issue.code, status=Issue.status, level=Issue.level,
                    category=Issue.category, urgency=Issue.urgency, light=light,
                    overdue=light == "red",
                    due=func.to_char(func.timezone("Asia/Shanghai", due),
                                     "YYYY-MM-DD HH24:MI")).label("properties"))
        .where(open_issues(scope), only.condition(scope, light), Issue.geom.is_not(None))
        .limit(MAX_FEATURES + 1)
        .subquery())
    return collection_json(session, rows)


def filter_choices(session: Session, scope: Scope) -> dict[str, list[tuple[str, str]]]:
    """(value, name) choices of the map's category and unit filters: the county's categories,
    and the units that hold open issues of the scope (bounded)."""
    categories = session.execute(
        select(IssueCategory.code, IssueCategory.name)
        .where(IssueCategory.county_code == scope.county_code)
        .order_by(IssueCategory.code).limit(200)).all()
    held = select(Issue.responsible_unit_id).where(open_issues(scope))
    units = session.execute(
        select(Unit.code, Unit.name)
        .where(Unit.county_code == scope.county_code, Unit.id.in_(held))
        .order_by(Unit.code).limit(300)).all()
    return {"category": [tuple(row) for row in categories], "unit": [tuple(row) for row in units]}
