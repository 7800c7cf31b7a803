"""The appeals layer: unresolved issues as points with their stage and traffic light.

Only what a marker needs (id, code, stage, light, category, urgency) is sent; a popup
fetches the issue itself (/api/issues/<id>) when it opens. Built by PostGIS as one
FeatureCollection, scoped like the issue queue (gridmap.issue_queries).
"""

from __future__ import annotations

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from gridmap import lifecycle
from gridmap.issue_queries import light_sql
from gridmap.maps.layers import MAX_FEATURES, collection_json, geojson_of, json_object
from gridmap.models import Issue
from gridmap.policy import Scope


def appeals_layer_json(session: Session, scope: Scope) -> str:
    """Open issues of the scope that have a location, as GeoJSON text."""
    due, light = light_sql(session, scope.county_code)
    rows = (select(
        cast(Issue.id, Text).label("fid"), geojson_of(Issue.geom).label("geometry"),
        json_object(id=Issue.id, code=Issue.code, status=Issue.status, level=Issue.level,
                    category=Issue.category, urgency=Issue.urgency, light=light,
                    overdue=light == "red",
                    due=func.to_char(func.timezone("Asia/Shanghai", due),
                                     "YYYY-MM-DD HH24:MI")).label("properties"))
        .where(scope.issues(), Issue.status.in_(lifecycle.OPEN), Issue.merged_into.is_(None),
               Issue.geom.is_not(None))
        .limit(MAX_FEATURES + 1)
        .subquery())
    return collection_json(session, rows)
