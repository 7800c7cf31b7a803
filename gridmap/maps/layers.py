"""The SQL behind the map layers, in one place.

Every query is limited to one county and to a user's `Scope`, and is bounded: polygons
come as the display text kept beside their shapes (GeoJSON, encoded polylines and label points
written by PostgreSQL with the shapes: models.display_text_columns), household counts are sums
of the counts kept per village and grid (models.HouseholdCount), and no query returns
households themselves. Layers are plain GeoJSON FeatureCollections (lon/lat, RFC 7946), so a
page, an API or a test can use them alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import JSON, Text, and_, case, cast, func, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from gridmap.db import TEXT_AS_BYTES
from gridmap.geo import DISPLAY_DECIMALS as DECIMALS
from gridmap.models import Grid, Household, HouseholdCount, Region
from gridmap.policy import Scope

# A county has a few thousand grids, a prefecture's district tens of thousands: those still
# get a map (display shapes are precomputed, so a feature costs little). More means a bad scope.
MAX_FEATURES = 50_000


class LayerError(RuntimeError):
    """A layer query would return more than a page can draw."""


@dataclass(frozen=True)
class Bounds:
    """An extent in lon/lat order, as PostGIS gives it."""

    west: float
    south: float
    east: float
    north: float

    def latlon_corners(self) -> list[list[float]]:
        """[[south, west], [north, east]]: the order Leaflet's fitBounds wants."""
        return [[self.south, self.west], [self.north, self.east]]


def _is_context(scope: Scope, code: str) -> bool:
    """A region drawn only for orientation: an ancestor of the scope, not inside it."""
    if scope.region_code is None:  # a cadre's villages frame their paired households
        return True
    return len(code) < len(scope.region_code) and scope.region_code.startswith(code)


def display_geometry(model, compact: bool = False):
    """What maps draw of a grid or region as GeoJSON text, kept beside its shapes (the display
    shape, simplified once with its neighbours); `compact`: a one-ring shape as map.js's
    encoded polyline instead (`{"type": "MultiPolygon", "encoded": [[ring]]}`, as
    `geometry_of` writes it), anything else as GeoJSON, for gridmap.maps.compact to encode."""
    if not compact:
        return model.display_geojson
    encoded = json_object(type=literal_column("'MultiPolygon'"), encoded=func.json_build_array(
        func.json_build_array(model.display_polyline)))
    return case((model.display_polyline.is_not(None), cast(encoded, Text)),
                else_=model.display_geojson)


def _compact_geometry(geojson: str, polyline: str | None) -> str:
    """display_geometry's choice, for a layer built in Python."""
    if polyline is None:
        return geojson
    return '{"type":"MultiPolygon","encoded":[[' + json.dumps(polyline) + "]]}"


def _feature_text(code: str, geometry: str, properties: dict) -> str:
    """One feature as json.dumps writes it (compact separators), its geometry text as kept."""
    return ('{"type":"Feature","id":' + json.dumps(code) + ',"geometry":' + geometry
            + ',"properties":' + json.dumps(properties, separators=(",", ":")) + "}")


def _collection_text(features: list[str]) -> str:
    if len(features) > MAX_FEATURES:
        raise LayerError(f"more than {MAX_FEATURES} features in one layer: narrow the scope")
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def household_places(scope: Scope):
    """The active households in scope as (village_code, grid_code, households) rows, '' for
    no code: the kept counts per place, or, for a cadre's paired households, counted now."""
    if scope.cadre_id is not None:
        village = func.coalesce(Household.village_code, "")
        grid = func.coalesce(Household.grid_code, "")
        return (select(village.label("village_code"), grid.label("grid_code"),
                       func.count().label("households"))
                .where(scope.households()).group_by(village, grid).subquery())
    return (select(HouseholdCount.village_code, HouseholdCount.grid_code,
                   HouseholdCount.households)
            .where(scope.counted_places(HouseholdCount)).subquery())


def _households_by(key_length: int, scope: Scope):
    """Households in scope counted per code prefix (9 = township, 12 = village)."""
    places = household_places(scope)
    key = func.left(places.c.village_code, key_length).label("code")
    return (select(key, func.sum(places.c.households).label("households"))
            .where(places.c.village_code != "")
            .group_by(key).subquery())


def _grids_by(key_length: int, scope: Scope):
    key = func.left(Grid.village_code, key_length).label("code")
    return (select(key, func.count().label("grids"))
            .where(scope.grids(), Grid.current())
            .group_by(key).subquery())


def region_layer_json(session: Session, scope: Scope, level: str, compact: bool = False) -> str:
    """The county, townships or villages in scope (and their ancestors, as context) with
    counts, as GeoJSON text (one-ring shapes `compact` for gridmap.maps.compact when asked).
    The shapes' text goes in as kept: no shape is parsed or serialised per request."""
    key_length = {"county": 6, "township": 9, "village": 12}[level]
    households, grids = _households_by(key_length, scope), _grids_by(key_length, scope)
    rows = session.execute(
        select(Region.code, Region.name, Region.full_name, Region.parent_code,
               func.coalesce(grids.c.grids, 0), func.coalesce(households.c.households, 0),
               Region.display_geojson, Region.display_polyline, Region.label_lonlat)
        .outerjoin(grids, grids.c.code == Region.code)
        .outerjoin(households, households.c.code == Region.code)
        .where(scope.regions(), Region.county_code == scope.county_code,
               Region.level == level, Region.current(), Region.geom.is_not(None))
        .order_by(Region.code)
        .limit(MAX_FEATURES + 1)
    ).all()
    features = []
    for (code, name, full_name, parent_code, grid_count, household_count, geojson, polyline,
         label_lonlat) in rows:
        context = _is_context(scope, code)
        geometry = _compact_geometry(geojson, polyline) if compact else geojson
        features.append(_feature_text(code, geometry, {
            "code": code, "name": name, "full_name": full_name, "level": level,
            "parent_code": parent_code, "context": context,
            # Counts of a region only partly in scope would mislead: context shows none.
            "grids": None if context else grid_count,
            "households": None if context else household_count,
            "label_lonlat": json.loads(label_lonlat),
        }))
    return _collection_text(features)


def region_layer(session: Session, scope: Scope, level: str) -> dict:
    """The county, townships or villages in scope with counts (the parsed region_layer_json)."""
    return json.loads(region_layer_json(session, scope, level))


def households_per_grid(scope: Scope):
    """Active households per grid code in scope, as (grid_code, households) rows: the maps'
    count and the public one (gridmap.features), read from the kept counts."""
    places = household_places(scope)
    return (select(places.c.grid_code, func.sum(places.c.households).label("households"))
            .where(places.c.grid_code != "")
            .group_by(places.c.grid_code).subquery())


def _key(name: str):
    """A JSON key as an SQL literal (json_build_object's keys)."""
    return literal_column(f"'{name}'")


def json_object(**values):
    """json_build_object(key, value, …) of SQL expressions."""
    args = []
    for name, value in values.items():
        args += [_key(name), value]
    return func.json_build_object(*args)


def geojson_of(geom):
    """A geometry as GeoJSON (json), to DECIMALS places."""
    return cast(func.ST_AsGeoJSON(geom, DECIMALS), JSON)


def _polyline(line):
    return func.ST_AsEncodedPolyline(line, DECIMALS)


def geometry_of(geom, compact: bool = False):
    """A geometry as GeoJSON (json), or, for map.js's compact layers (gridmap.maps.compact),
    a point or a one-part polygon without holes as its encoded polylines
    (`{"type": …, "encoded": …}`, written by PostGIS: no coordinate goes through Python);
    anything else stays GeoJSON and is encoded in Python."""
    if not compact:
        return geojson_of(geom)
    kind = func.GeometryType(geom)
    part = func.ST_GeometryN(geom, 1)
    return case(
        (kind == "POINT", json_object(type=literal_column("'Point'"), encoded=_polyline(
            func.ST_MakeLine(array([geom]))))),
        (and_(kind == "POLYGON", func.ST_NumInteriorRings(geom) == 0),
         json_object(type=literal_column("'Polygon'"), encoded=func.json_build_array(
             _polyline(func.ST_ExteriorRing(geom))))),
        (and_(kind == "MULTIPOLYGON", func.ST_NumGeometries(geom) == 1,
              func.ST_NumInteriorRings(part) == 0),
         json_object(type=literal_column("'MultiPolygon'"), encoded=func.json_build_array(
             func.json_build_array(_polyline(func.ST_ExteriorRing(part)))))),
        else_=geojson_of(geom))


def label_point(model):
    """Where the shape's label goes, as a geometry: its stored label point (inside the
    display shape), else, for a row stored before it had one, a point inside the shape found
    now (a centroid can fall outside a concave village). Its [lon, lat] is also kept as text
    (`label_lonlat`, migration 0035) for the layers that send it as it is."""
    return func.coalesce(model.geom_label, func.ST_PointOnSurface(model.geom))


def lonlat_of(geom):
    """[lon, lat] of a point inside the shape (json; a point is its own)."""
    return cast(func.ST_AsGeoJSON(func.ST_PointOnSurface(geom), DECIMALS), JSON)[
        literal_column("'coordinates'")]


def _text_or_null(value):
    return func.coalesce(cast(value, Text), literal_column("'null'"))


def collection_json(session: Session, rows) -> bytes:
    """One FeatureCollection (UTF-8 bytes) from a subquery of (fid, geometry, properties json)
    rows, the geometry json or GeoJSON text (as kept: display_geometry). Each feature's text is
    put together by PostgreSQL as json_build_object writes it, the geometry's as it is: no
    shape is parsed as json again (json_agg did, and copied all of it once more), and Python
    only joins the features' bytes, in fid order, as json_agg would. LayerError past
    MAX_FEATURES."""
    feature = func.concat(
        literal_column("""'{"type" : "Feature", "id" : '"""), _text_or_null(func.to_json(rows.c.fid)),
        literal_column("""', "geometry" : '"""), _text_or_null(rows.c.geometry),
        literal_column("""', "properties" : '"""), _text_or_null(rows.c.properties),
        literal_column("'}'"))
    features = session.scalars(select(feature).order_by(rows.c.fid),
                               execution_options={TEXT_AS_BYTES: True}).all()
    if len(features) > MAX_FEATURES:
        raise LayerError(f"more than {MAX_FEATURES} features in one layer: narrow the scope")
    return b"".join((b'{"type" : "FeatureCollection", "features" : [', b", ".join(features), b"]}"))


def grid_layer_json(session: Session, scope: Scope, compact: bool = False) -> bytes:
    """Grids in scope with their household counts, as GeoJSON (UTF-8) built in SQL (shapes
    `compact` for gridmap.maps.compact when asked)."""
    households = households_per_grid(scope)
    rows = (select(
        Grid.code.label("fid"), display_geometry(Grid, compact).label("geometry"),
        json_object(code=Grid.code, name=Grid.name, level=literal_column("'grid'"),
                    village_code=Grid.village_code, kind=Grid.kind,
                    household_target=Grid.household_target,
                    households=func.coalesce(households.c.households, 0),
                    context=literal_column("false"),
                    label_lonlat=cast(Grid.label_lonlat, JSON)).label("properties"))
        .outerjoin(households, households.c.grid_code == Grid.code)
        .where(scope.grids(), Grid.county_code == scope.county_code,
               Grid.current(), Grid.geom.is_not(None))
        .order_by(Grid.code)
        .limit(MAX_FEATURES + 1)
        .subquery())
    return collection_json(session, rows)


def grid_layer(session: Session, scope: Scope) -> dict:
    """Grids in scope with their household counts (the parsed grid_layer_json)."""
    return json.loads(grid_layer_json(session, scope))


def grid_household_counts(session: Session, scope: Scope) -> list[int]:
    """Households per grid in scope (one number per drawn grid). The legend's classes are
    made from the whole county's (`Scope.county_wide` one): a grid has one colour for all."""
    households = households_per_grid(scope)
    return list(session.scalars(
        select(func.coalesce(households.c.households, 0))
        .select_from(Grid)
        .outerjoin(households, households.c.grid_code == Grid.code)
        .where(scope.grids(), Grid.county_code == scope.county_code,
               Grid.current(), Grid.geom.is_not(None))
        .limit(MAX_FEATURES + 1)
    ))


def scope_bounds(session: Session, scope: Scope) -> Bounds | None:
    """The extent of what the scope covers: its region, or its grids; None when empty."""
    grids = (select(Grid.geom.label("geom"))
             .where(scope.grids(), Grid.county_code == scope.county_code,
                    Grid.current()))
    parts = [grids]
    if scope.region_code is not None and len(scope.region_code) <= 12:
        parts.append(select(Region.geom.label("geom")).where(
            Region.county_code == scope.county_code, Region.current(),
            Region.code == scope.region_code))
    shapes = union_all(*parts).subquery()
    extent = func.ST_Extent(shapes.c.geom)
    row = session.execute(select(
        func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent),
    )).one()
    if row[0] is None:
        return None
    return Bounds(*row)


def region_name(session: Session, county_code: str, code: str) -> str | None:
    """The current name of region `code` of the county (None when there is none)."""
    return session.scalar(select(Region.name).where(
        Region.county_code == county_code, Region.code == code, Region.current()))


def place_names(session: Session, scope: Scope) -> list[str]:
    """What the scope's map is a map of, county first: 武定县, then 插甸镇 for a township's
    staff, down to the village or grid of a scope that narrow (a code stands in for a name
    the county has no row for)."""
    region = scope.region_code or scope.county_code
    codes = [code for code in (region[:6], region[:9], region[:12]) if len(code) <= len(region)]
    names = dict(session.execute(select(Region.code, Region.name).where(
        Region.county_code == scope.county_code, Region.code.in_(codes), Region.current())).all())
    places = [names.get(code, code) for code in dict.fromkeys(codes)]
    if scope.grid_code:
        grid = session.scalar(select(Grid.name).where(
            Grid.county_code == scope.county_code, Grid.code == scope.grid_code, Grid.current()))
        # A grid's name already says its village (插甸村第1网格): the village is not repeated.
        places[2:] = [grid or scope.grid_code]
    return places
