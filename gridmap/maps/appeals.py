"""The appeals layer: unresolved issues as points with their stage and traffic light.

Only what a marker needs (id, code, stage, light, category, urgency) is sent; a popup
fetches the issue itself (/api/issues/<id>) when it opens. Built by PostGIS as one
FeatureCollection, scoped like the issue queue (gridmap.issue_queries), narrowed by an
`AppealFilter` (gridmap.issue_queries: stage, category, appeal type, urgency, handling level,
unit, report dates, overdue) that the map's filters send as query parameters, as the issue
queue's filter form does.
"""

from __future__ import annotations

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import Session

from gridmap import lifecycle
from gridmap.issue_queries import AppealFilter, light_sql
from gridmap.maps.layers import MAX_FEATURES, collection_json, geometry_of, json_object
from gridmap.models import Issue, IssueCategory, Unit
from gridmap.policy import Scope

__all__ = ["AppealFilter", "appeals_layer_json", "filter_choices", "open_issues"]


def open_issues(scope: Scope):
    """SQL: the scope's unresolved issues (open, not merged)."""
    return and_(scope.issues(), Issue.county_code == scope.county_code,
                Issue.status.in_(lifecycle.OPEN), Issue.merged_into.is_(None))


def appeals_layer_json(session: Session, scope: Scope,
                       only: AppealFilter = AppealFilter(), compact: bool = False) -> bytes:
    """Open issues of the scope that have a location (narrowed by `only`), as GeoJSON (UTF-8)
    (points `compact` for gridmap.maps.compact when asked)."""
    due, light = light_sql(session, scope.county_code)
    rows = (select(
        cast(Issue.id, Text).label("fid"), geometry_of(Issue.geom, compact).label("geometry"),
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
