"""The compact encoding of a layer (map.js decodes it; tests/browser/test_compact_layers.py
checks the round trip against every layer's GeoJSON)."""

import pytest

from gridmap.maps.compact import CompactError, compact_collection


def _grid(code, households, lonlat):
    lon, lat = lonlat
    ring = [[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat]]
    return {"type": "Feature", "id": code, "geometry": {"type": "MultiPolygon",
                                                         "coordinates": [[ring]]},
            "properties": {"code": code, "level": "grid", "households": households}}


def test_repeated_properties_are_said_once_and_ids_point_at_their_property():
    grids = [_grid(f"5323291042010{n:02d}", 40 if n % 2 else 60, (102.5 + n / 100, 25.5))
             for n in range(6)]
    encoded = compact_collection({"type": "FeatureCollection", "features": grids})
    columns = encoded["properties"]
    assert columns["level"] == {"c": "grid"}
    assert columns["households"] == {"d": [60, 40], "i": [0, 1, 0, 1, 0, 1]}
    assert columns["code"] == {"p": "53232910420100", "v": [str(n) for n in range(6)]}
    assert encoded["id"] == {"from": "code", "string": False}
    assert encoded["geometry_types"] == "MultiPolygon"


def test_a_ring_is_the_encoded_polyline_postgis_would_write():
    (geometry,) = compact_collection({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {
            "type": "LineString", "coordinates": [[102.39734, 25.48868], [102.39744, 25.48868]]}}
    ]})["geometries"]
    # SELECT ST_AsEncodedPolyline('SRID=4326;LINESTRING(102.39734 25.48868,102.39744 25.48868)', 5)
    assert geometry == "ggqzCkn~oR?S"


def test_a_vertex_after_the_first_costs_a_few_characters():
    (geometry,) = compact_collection({"type": "FeatureCollection", "features": [
        _grid("a", 1, (102.5, 25.5))]})["geometries"]
    ring = geometry[0][0]
    first = len("_nszC_prpR")  # 25.5, 102.5 from (0, 0)
    assert len(ring) - first <= 3 * 2 * 3  # 1e-3 degree steps: at most 3 characters a value


def test_a_property_some_features_lack_stays_absent_and_dropped_ones_go():
    features = [{"type": "Feature", "geometry": None, "properties": {"kind": "x", "n": 1}},
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [102.5, 25.5]},
                 "properties": {"kind": "y"}}]
    encoded = compact_collection({"type": "FeatureCollection", "features": features},
                                 drop=("kind",))
    assert set(encoded["properties"]) == {"n"} and encoded["properties"]["n"]["a"] == [1]
    assert encoded["geometry_types"] == [None, "Point"] and encoded["geometries"][0] is None
    assert "id" not in encoded


def test_a_geometry_collection_is_refused():
    with pytest.raises(CompactError):
        compact_collection({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {},
             "geometry": {"type": "GeometryCollection", "geometries": []}}]})
