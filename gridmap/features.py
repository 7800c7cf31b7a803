"""Features for other systems: the public collections and their pages, built in PostGIS.

What leaves the county without a token is listed here and nowhere else (the `COLLECTIONS`
table): regions, grids, per-grid aggregates and issues reduced to category, stage, dates
and a location snapped to their grid. No name, phone, address, title, description or
reporter of anyone; no 举报 (tip-off) at all, not even its existence; aggregates of care
categories withhold counts under `privacy.SMALL_COUNT`.

A page is one FeatureCollection built as JSON text by PostGIS (RFC 7946: lon/lat WGS84,
exterior rings counter-clockwise, `PRECISION` decimals, no `crs` member), so Python never
holds a feature as an object. Every query is one county's and bounded by `MAX_LIMIT`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Date, DateTime, Integer, Text, and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from gridmap import privacy
from gridmap.errors import BadInput, Message, NotFound, _
from gridmap.geo import CHINA_LONLAT_BOUNDS
from gridmap.maps.layers import households_per_grid
from gridmap.models import Grid, Household, Issue, IssueCategory, Region
from gridmap.policy import Scope

PRECISION = 6  # decimals: ~0.1 m, what RFC 7946 recommends
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Care flags counted (never listed) in the per-grid aggregate.
_CARE_FLAGS = ("minimum_living", "extreme_poverty", "relapse_monitoring", "elderly_alone",
               "left_behind_children", "left_behind_women", "left_behind_elderly")


@dataclass(frozen=True)
class Query:
    """What a caller asks of a collection: an area, a time, property values, a page."""

    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None  # inclusive; None = open
    end: datetime | None = None    # inclusive; None = open
    properties: dict[str, str] = field(default_factory=dict)
    region: str | None = None  # a region code: rows in it (codes nest by prefix)
    limit: int = DEFAULT_LIMIT
    offset: int = 0


@dataclass(frozen=True)
class Collection:
    """One public collection: its id, words, rows and which properties may filter it.

    `rows(county_code)` is a select of the labelled columns `fid`, `geom` (the shape sent,
    WGS84), `bbox_geom` (the indexed shape bbox filters use), `time` (or NULL) and one
    column per property, in the order they are sent.
    """

    id: str
    title: Message
    description: Message
    rows: Callable[[str], Select]
    queryables: tuple[str, ...]
    temporal: str | None = None  # the property `datetime` filters on
    geometry_type: str = "MultiPolygon"
    region_property: str = "code"  # the region or grid code `region` filters on (by prefix)


def _current_regions(county_code: str) -> Select:
    return select(
        Region.code.label("fid"), Region.geom.label("geom"), Region.geom.label("bbox_geom"),
        literal(None, DateTime(timezone=True)).label("time"),
        Region.code.label("code"), Region.name.label("name"), Region.level.label("level"),
        Region.parent_code.label("parent_code"), Region.full_name.label("full_name"),
        Region.urban_rural_code.label("urban_rural_code"),
    ).where(Region.county_code == county_code, Region.current(), Region.geom.is_not(None),
            Region.level.in_(("county", "township", "village")))


def _current_grids(county_code: str) -> Select:
    return select(
        Grid.code.label("fid"), Grid.geom.label("geom"), Grid.geom.label("bbox_geom"),
        literal(None, DateTime(timezone=True)).label("time"),
        Grid.code.label("code"), Grid.name.label("name"), Grid.kind.label("kind"),
        Grid.village_code.label("village_code"), func.left(Grid.village_code, 9).label(
            "township_code"),
        Grid.household_target.label("household_target"),
    ).where(Grid.county_code == county_code, Grid.current(), Grid.geom.is_not(None))


def _suppressed(count: ColumnElement) -> ColumnElement:
    """A small count withheld (NULL), as privacy.suppress_small does in Python: 1 to
    SMALL_COUNT - 1 single people out; zero names nobody."""
    return case((and_(count > 0, count < privacy.SMALL_COUNT), None), else_=count)


def _households_by_grid(county_code: str) -> Select:
    """Per current grid: its households (the maps' count: on the register, kept per grid by
    migration 0032), their people and care households. People and care are no kept fact, so
    they are counted here, over the same households."""
    care = or_(*(getattr(Household, flag) for flag in _CARE_FLAGS),
               Household.disability_grade.in_((1, 2)))
    households = households_per_grid(Scope(county_code, region_code=county_code))
    counted = (select(Household.grid_code.label("grid_code"),
                      func.count().filter(care).label("care"),
                      func.coalesce(func.sum(Household.size), 0).label("people"))
               .where(Household.county_code == county_code, Household.status == "active",
                      Household.grid_code.is_not(None))
               .group_by(Household.grid_code).subquery())
    return select(
        Grid.code.label("fid"), Grid.geom.label("geom"), Grid.geom.label("bbox_geom"),
        literal(None, DateTime(timezone=True)).label("time"),
        Grid.code.label("code"), Grid.name.label("name"),
        Grid.village_code.label("village_code"),
        func.left(Grid.village_code, 9).label("township_code"),
        func.coalesce(households.c.households, 0).label("households"),
        func.coalesce(counted.c.people, 0).label("people"),
        _suppressed(func.coalesce(counted.c.care, 0)).label("care_households"),
    ).outerjoin(households, households.c.grid_code == Grid.code
    ).outerjoin(counted, counted.c.grid_code == Grid.code).where(
        Grid.county_code == county_code, Grid.current(), Grid.geom.is_not(None))


def public_issue_joins(statement: Select, county_code: str) -> Select:
    """`statement` over Issue joined to its current grid and category, kept to what the public
    may know exists: never a tip-off (举报), a voided or a merged-away issue. The one rule for
    every public view of issues (this module's collection, Open311)."""
    return statement.join(
        Grid, and_(Grid.county_code == Issue.county_code, Grid.code == Issue.grid_code,
                   Grid.current())
    ).join(IssueCategory, and_(IssueCategory.county_code == Issue.county_code,
                               IssueCategory.code == Issue.category)
    ).where(Issue.county_code == county_code, IssueCategory.appeal_type != "tip_off",
            Issue.status != "voided", Issue.merged_into.is_(None))


def public_issue_point():
    """Where the public sees an issue: its grid's label point (kept beside the display shape,
    where the maps name the grid), never where it was reported; found from the shape only
    for a grid whose point is not kept yet."""
    return func.coalesce(Grid.geom_label, func.ST_PointOnSurface(Grid.geom))


def _public_issues(county_code: str) -> Select:
    """Issues as the public may see them: category, stage, dates, a point of their grid."""
    return public_issue_joins(select(
        Issue.code.label("fid"), public_issue_point().label("geom"),
        Grid.geom.label("bbox_geom"), Issue.reported_at.label("time"),
        Issue.code.label("code"), Issue.category.label("category"),
        IssueCategory.name.label("category_name"), IssueCategory.appeal_type.label("appeal_type"),
        Issue.status.label("status"), Issue.level.label("level"),
        Issue.grid_code.label("grid_code"), Issue.village_code.label("village_code"),
        func.left(Issue.village_code, 9).label("township_code"),
        Issue.reported_at.label("reported_at"), Issue.closed_at.label("closed_at"),
    ), county_code)


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection("regions", _("行政区划"),
               _("本县、乡镇和村（社区）的现行边界；level 为 county / township / village；full_name 为全称，"
                 "urban_rural_code 为村（社区）的城乡分类代码。"),
               _current_regions, ("level", "parent_code", "code")),
    Collection("grids", _("网格"),
               _("现行网格边界，含所属村（社区）和乡镇代码、户数目标。"),
               _current_grids, ("village_code", "township_code", "kind", "code")),
    Collection("households_by_grid", _("各网格户数"),
               _("每个网格的户数、人数和需关爱户数（少于 5 的不公布）；不含任何一户的信息。"),
               _households_by_grid, ("village_code", "township_code", "code")),
    Collection("issues", _("民情诉求（公开）"),
               _("诉求的类别、阶段和日期，位置只到网格；不含标题、内容、反映人，不含举报。"),
               _public_issues, ("category", "appeal_type", "status", "level", "village_code",
                                "township_code", "grid_code"),
               temporal="reported_at", geometry_type="Point", region_property="grid_code"),
)}


def collection(collection_id: str) -> Collection:
    """The public collection `collection_id`, or NotFound naming the known ones."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(_("没有数据集 %(id)s；可用的有：%(known)s",
                         id=collection_id, known="、".join(COLLECTIONS))) from None


# --- reading what the caller asked --------------------------------------------------------

def parse_limit(value: str | None) -> int:
    """`limit`: 1 and up; above MAX_LIMIT it is clamped (as OGC API Features allows)."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) < 1:
        raise BadInput(_("limit 应为正整数（最大 %(max)s），收到 %(value)s",
                         max=MAX_LIMIT, value=value[:40]), field="limit")
    return min(int(value), MAX_LIMIT)


def parse_offset(value: str | None) -> int:
    """`offset`: where a page starts (our `next` links carry it)."""
    if value is None or value == "":
        return 0
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise BadInput(_("offset 应为非负整数，收到 %(value)s", value=value[:40]), field="offset")
    return int(value)


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """`bbox=minlon,minlat,maxlon,maxlat` (a 3-D bbox's heights are ignored), CRS84."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    valid = (len(numbers) == 4 and all(abs(n) <= 180 for n in numbers)
             and numbers[1] <= numbers[3] and abs(numbers[1]) <= 90 and abs(numbers[3]) <= 90)
    if not valid:
        raise BadInput(_("bbox 应为 最小经度,最小纬度,最大经度,最大纬度（如 102.2,25.4,102.6,25.8），"
                         "收到 %(value)s", value=value[:80]), field="bbox")
    return numbers[0], numbers[1], numbers[2], numbers[3]


def parse_region(value: str | None) -> str | None:
    """`region`: a county, township, village or grid code (digits; rows inside it)."""
    if value is None or value == "":
        return None
    if not re.fullmatch(r"[0-9]{6,20}", value):
        raise BadInput(_("region 应为 6–20 位的区划或网格代码（如 532329104），收到 %(value)s",
                         value=value[:40]), field="region")
    return value


def _instant(text: str, end: bool) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return day.replace(hour=23, minute=59, second=59, microsecond=999999) if end else day
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _bad_datetime(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _bad_datetime(text: str) -> None:
    raise BadInput(_("datetime 应为 RFC 3339 时间或区间（如 2026-01-01T00:00:00Z/.. 或 "
                     "2026-01-01/2026-03-31），收到 %(value)s", value=text[:80]), field="datetime")


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None]:
    """`datetime`: an instant, or an interval `start/end` where either side may be `..`."""
    if value is None or value == "":
        return None, None
    if value.count("/") > 1:
        _bad_datetime(value)
    if "/" in value:
        start_text, end_text = value.split("/")
        if start_text in ("", "..") and end_text in ("", ".."):
            _bad_datetime(value)
        start, end = _instant(start_text, end=False), _instant(end_text, end=True)
        if start and end and start > end:
            _bad_datetime(value)
        return start, end
    start, end = _instant(value, end=False), _instant(value, end=True)
    return start, end


def parse_properties(target: Collection, args: dict[str, str]) -> dict[str, str]:
    """The queryable properties among `args` (unknown names are the caller's to refuse)."""
    chosen = {}
    for name in target.queryables:
        if name in args and args[name] != "":
            value = args[name]
            if len(value) > 64:
                raise BadInput(_("%(name)s 的值太长（最多 64 个字符）", name=name), field=name)
            chosen[name] = value
    return chosen


# --- building pages in PostGIS ------------------------------------------------------------

def _filtered(target: Collection, county_code: str, query: Query):
    rows = target.rows(county_code).subquery()
    conditions = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*query.bbox, 4326)
        conditions.append(func.ST_Intersects(rows.c.bbox_geom, envelope))
    if query.start is not None:
        conditions.append(rows.c.time >= query.start)
    if query.end is not None:
        conditions.append(rows.c.time <= query.end)
    for name, value in query.properties.items():
        conditions.append(cast(rows.c[name], rows.c[name].type) == value)
    if query.region is not None:
        conditions.append(rows.c[target.region_property].startswith(query.region,
                                                                    autoescape=True))
    return rows, conditions


def _properties(rows) -> list:
    pairs = []
    for column in rows.c:
        if column.name in ("fid", "geom", "bbox_geom", "time"):
            continue
        value = column
        if isinstance(column.type, DateTime):
            value = func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        elif isinstance(column.type, Date):
            value = func.to_char(column, "YYYY-MM-DD")
        pairs.extend([literal(column.name), value])
    return pairs


def _feature_json(rows):
    geometry = func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(rows.c.geom), PRECISION)
    return func.json_build_object(
        "type", "Feature", "id", rows.c.fid,
        "geometry", cast(geometry, JSON),
        "properties", func.json_build_object(*_properties(rows)))


@dataclass(frozen=True)
class Page:
    """One page of a collection: the FeatureCollection's features as JSON text, and counts."""

    features_json: str
    number_matched: int
    number_returned: int


def page(connection: Connection, target: Collection, county_code: str, query: Query) -> Page:
    """A page of `target` in `county_code`, ordered by feature id, built in one statement."""
    rows, conditions = _filtered(target, county_code, query)
    limit = max(1, min(query.limit, MAX_LIMIT))
    matched = connection.execute(
        select(func.count()).select_from(rows).where(*conditions)).scalar_one()
    chosen = (select(_feature_json(rows).label("feature"), rows.c.fid)
              .where(*conditions).order_by(rows.c.fid).limit(limit).offset(query.offset)
              .subquery())
    features = connection.execute(select(
        func.coalesce(func.json_agg(chosen.c.feature), cast("[]", JSON)).cast(
            Text),
        func.count(chosen.c.fid))).one()
    return Page(features[0], matched, features[1])


def count(connection: Connection, target: Collection, county_code: str, query: Query) -> int:
    """How many features of `target` match `query` (limit and offset aside)."""
    rows, conditions = _filtered(target, county_code, query)
    return connection.execute(select(func.count()).select_from(rows).where(*conditions)).scalar_one()


def feature(connection: Connection, target: Collection, county_code: str, fid: str) -> str:
    """One feature as GeoJSON text, or NotFound."""
    rows, _conditions = _filtered(target, county_code, Query())
    found = connection.execute(
        select(cast(_feature_json(rows), Text)).where(rows.c.fid == fid).limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("数据集 %(collection)s 中没有要素 %(fid)s",
                         collection=target.id, fid=fid[:64]))
    return found


def extent(connection: Connection, target: Collection, county_code: str) -> dict:
    """The collection's spatial (and, when it has one, temporal) extent, as OGC wants it."""
    rows = target.rows(county_code).subquery()
    box = func.ST_Extent(rows.c.bbox_geom)
    row = connection.execute(select(
        func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box),
        func.min(rows.c.time), func.max(rows.c.time))).one()
    bbox = list(row[:4]) if row[0] is not None else list(CHINA_LONLAT_BOUNDS)
    result = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    if target.temporal:
        interval = [_iso(row[4]), _iso(row[5])]
        result["temporal"] = {"interval": [interval],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return result


def feature_texts(connection: Connection, target: Collection, county_code: str, query: Query,
                  batch: int = 2_000) -> Iterator[str]:
    """Every matching feature as GeoJSON text, in id order, read through a server-side cursor
    in batches (a whole county's export never sits in memory); `limit`/`offset` ignored."""
    rows, conditions = _filtered(target, county_code, query)
    statement = (select(cast(_feature_json(rows), Text)).where(*conditions)
                 .order_by(rows.c.fid))
    # options on the statement, not the connection: they would stay on the connection
    result = connection.execute(statement.execution_options(stream_results=True,
                                                            yield_per=batch))
    for (text_,) in result:
        yield text_


def records(connection: Connection, target: Collection, county_code: str, query: Query,
            batch: int = 2_000) -> Iterator[tuple[bytes, dict]]:
    """Every matching feature as (WKB of its shape, its properties), streamed like
    `feature_texts`, for writers that are not GeoJSON (GeoPackage, CSV, XLSX)."""
    rows, conditions = _filtered(target, county_code, query)
    names = property_names(target)
    statement = (select(func.ST_AsBinary(func.ST_ForcePolygonCCW(rows.c.geom)),
                        *(rows.c[name] for name in names))
                 .where(*conditions).order_by(rows.c.fid))
    # options on the statement, not the connection: they would stay on the connection
    result = connection.execute(statement.execution_options(stream_results=True,
                                                            yield_per=batch))
    for row in result:
        yield bytes(row[0]), dict(zip(names, row[1:], strict=True))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def property_names(target: Collection) -> list[str]:
    """The properties a feature of `target` carries, in order."""
    return [c.name for c in target.rows("000000").selected_columns
            if c.name not in ("fid", "geom", "bbox_geom", "time")]


def integer_properties(target: Collection) -> list[str]:
    """The properties of `target` that are whole numbers (integer fields in a GeoPackage)."""
    return [c.name for c in target.rows("000000").selected_columns
            if c.name not in ("fid", "geom", "bbox_geom", "time")
            and isinstance(c.type, Integer)]


def as_dict(page_: Page) -> list:
    """The page's features as Python objects (tests and small callers only)."""
    return json.loads(page_.features_json)
