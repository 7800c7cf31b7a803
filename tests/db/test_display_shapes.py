"""Display shapes: simplified once at import, as one coverage, and what the map layers draw."""

from datetime import UTC, datetime

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.demo.load import load_demo
from gridmap.maps.layers import grid_layer
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
