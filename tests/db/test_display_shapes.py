"""Display shapes: simplified once at import, as one coverage, and what the map layers draw;
their text (migration 0035) kept beside them and sent as it is."""

import json
from datetime import UTC, datetime

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session
from test_coverage_kept import DISPLAY_TEXT_DRIFT

from gridmap.demo.load import load_demo
from gridmap.geo import DISPLAY_DECIMALS, refresh_display_shapes
from gridmap.maps.layers import grid_layer, grid_layer_json, region_layer_json
from gridmap.policy import Scope

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
COUNTY = "532329"


@pytest.fixture(scope="module")
def loaded(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
        load_demo(connection, now=NOW)
        yield connection
        transaction.rollback()


def shapes(connection, sql):
    return shapely.from_wkb([bytes(row[0]) for row in connection.execute(text(sql))])


def test_every_current_grid_and_region_has_a_smaller_display_shape(loaded):
    missing = loaded.execute(text(
        "SELECT count(*) FROM grid WHERE valid_to IS NULL AND geom_display IS NULL")).scalar_one()
    assert missing == 0
    missing = loaded.execute(text(
        "SELECT count(*) FROM region WHERE level <> 'county' AND geom_display IS NULL")).scalar_one()
    assert missing == 0
    full, display = loaded.execute(text(
        "SELECT sum(ST_NPoints(geom)), sum(ST_NPoints(geom_display)) FROM grid")).one()
    assert display < full * 0.8


def test_neighbouring_grids_still_share_their_edges(loaded):
    grids = shapes(loaded, "SELECT ST_AsBinary(geom_display) FROM grid WHERE valid_to IS NULL")
    assert shapely.coverage_is_valid(grids)
    assert all(shapely.is_valid(grids))


def test_the_grid_layer_draws_the_display_shapes(loaded):
    loaded.execute(text("UPDATE grid SET geom_display = ST_Multi(ST_Envelope(geom)) "
                        "WHERE code = (SELECT min(code) FROM grid)"))
    layer = grid_layer(Session(bind=loaded), Scope(COUNTY, region_code=COUNTY))
    first = min(layer["features"], key=lambda f: f["id"])
    assert len(first["geometry"]["coordinates"][0][0]) == 5  # the envelope: 4 corners, closed


def test_every_label_point_is_stored_inside_its_display_shape(loaded):
    outside = loaded.execute(text(
        "SELECT count(*) FROM (SELECT geom_display, geom_label FROM grid WHERE valid_to IS NULL"
        " UNION ALL SELECT geom_display, geom_label FROM region WHERE level <> 'county') s"
        " WHERE geom_label IS NULL OR NOT ST_Intersects(geom_display, geom_label)")).scalar_one()
    assert outside == 0


def test_the_grid_layer_labels_each_grid_at_its_stored_point(loaded):
    loaded.execute(text("UPDATE grid SET geom_label = ST_SetSRID(ST_MakePoint(102.5, 25.5), 4326)"
                        " WHERE code = (SELECT min(code) FROM grid WHERE valid_to IS NULL)"))
    layer = grid_layer(Session(bind=loaded), Scope(COUNTY, region_code=COUNTY))
    first = min(layer["features"], key=lambda f: f["id"])
    assert first["properties"]["label_lonlat"] == [102.5, 25.5]


def test_the_demo_load_keeps_the_display_text_of_every_shape(loaded):
    assert loaded.execute(text(DISPLAY_TEXT_DRIFT)).all() == []
    kept = loaded.execute(text(
        "SELECT count(*) FILTER (WHERE display_geojson IS NOT NULL AND label_lonlat IS NOT NULL),"
        " count(*) FROM grid WHERE valid_to IS NULL")).one()
    assert kept[0] == kept[1] > 100


def test_display_shapes_refreshed_rewrite_their_text(loaded):
    loaded.execute(text("UPDATE grid SET geom_display = NULL, geom_label = NULL"))
    simplified_now = loaded.execute(text("SELECT display_geojson FROM grid ORDER BY id")).scalars().all()
    refresh_display_shapes(loaded, COUNTY)
    assert loaded.execute(text(DISPLAY_TEXT_DRIFT)).all() == []
    refreshed = loaded.execute(text("SELECT display_geojson FROM grid ORDER BY id")).scalars().all()
    assert refreshed != simplified_now


# The layers as PostGIS built them per request before their text was kept (json_agg over
# ST_AsGeoJSON of each shape): the kept text must make the same bytes.
GRID_LAYER_PER_REQUEST = f"""
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
             json_build_object('type', 'Feature', 'id', g.code,
               'geometry', ST_AsGeoJSON(coalesce(g.geom_display,
                 ST_Multi(ST_SimplifyPreserveTopology(g.geom, 0.00005))), {DISPLAY_DECIMALS})::json,
               'properties', json_build_object(
                 'code', g.code, 'name', g.name, 'level', 'grid', 'village_code', g.village_code,
                 'kind', g.kind, 'household_target', g.household_target,
                 'households', coalesce(n.households, 0), 'context', false,
                 'label_lonlat', ST_AsGeoJSON(coalesce(g.geom_label, ST_PointOnSurface(g.geom)),
                                              {DISPLAY_DECIMALS})::json -> 'coordinates'))
             ORDER BY g.code), '[]'))::text
    FROM grid g
    LEFT JOIN (SELECT grid_code, sum(households) AS households FROM household_count
               WHERE county_code = :county AND grid_code <> '' GROUP BY grid_code) n
           ON n.grid_code = g.code
    WHERE g.county_code = :county AND g.valid_to IS NULL AND g.geom IS NOT NULL"""


def test_the_grid_layer_is_byte_for_byte_what_postgis_built_per_request(loaded):
    loaded.execute(text("UPDATE grid SET geom_display = NULL WHERE code = (SELECT max(code) FROM grid)"))
    per_request = loaded.execute(text(GRID_LAYER_PER_REQUEST), {"county": COUNTY}).scalar_one()
    kept = grid_layer_json(Session(bind=loaded), Scope(COUNTY, region_code=COUNTY))
    assert kept == per_request.encode()


def test_the_region_layers_are_byte_for_byte_what_was_built_per_request(loaded):
    tolerance = {"county": 0.0005, "township": 0.0005, "village": 0.0002}
    for level, length in (("county", 6), ("township", 9), ("village", 12)):
        shapes = dict(loaded.execute(text(
            f"SELECT code, ST_AsGeoJSON(coalesce(geom_display, ST_Multi(ST_SimplifyPreserveTopology("
            f"geom, {tolerance[level]}))), {DISPLAY_DECIMALS}) FROM region"
            f" WHERE level = :level AND valid_to IS NULL"), {"level": level}).all())
        layer = region_layer_json(Session(bind=loaded), Scope(COUNTY, region_code=COUNTY), level)
        parsed = json.loads(layer)
        assert len(parsed["features"]) == len(shapes) > 0
        for feature in parsed["features"]:
            assert len(feature["id"]) == length
            feature["geometry"] = json.loads(shapes[feature["id"]])
        assert json.dumps(parsed, separators=(",", ":")) == layer
