"""WGS84 ↔ GCJ-02 ↔ BD-09: published control pairs, round trips better than 0.5 m, shapes."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap import geo

# (WGS84 lon, lat) → (GCJ-02 lon, lat), as published with the eviltransform libraries'
# tests (Shanghai, Shenzhen, Beijing) and R's `geoChina` (Tiananmen).
WGS_GCJ_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.39089, 39.90734), (116.39713094, 39.90874107)),
]
# GCJ-02 → BD-09 as published with gcoord's tests.
GCJ_BD_PAIRS = [((123.0, 45.0), (123.00636499, 45.00636899))]

HALF_METRE_DEG = 0.5 / 111_320  # 0.5 m of latitude, in degrees
CHINA = st.tuples(st.floats(73.5, 135.0), st.floats(18.0, 53.5))


def metres(a, b) -> float:
    """Distance between two lon/lat positions, in metres (equirectangular: fine at these scales)."""
    dlon = (a[0] - b[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dlon, a[1] - b[1]) * 111_320


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj):
    assert metres(geo.wgs84_to_gcj02(*wgs), gcj) < 0.01


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PAIRS)
def test_gcj02_to_wgs84_recovers_published_pairs(wgs, gcj):
    assert metres(geo.gcj02_to_wgs84(*gcj), wgs) < 0.01


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD_PAIRS)
def test_bd09_matches_published_pairs(gcj, bd):
    assert metres(geo.gcj02_to_bd09(*gcj), bd) < 0.01
    assert metres(geo.bd09_to_gcj02(*bd), gcj) < 0.01


def test_the_shift_is_hundreds_of_metres_in_china_and_nothing_outside():
    wuding = (102.40, 25.53)
    assert 100 < metres(geo.wgs84_to_gcj02(*wuding), wuding) < 1000
    assert 100 < metres(geo.wgs84_to_bd09(*wuding), wuding) < 2000
    for outside in [(2.35, 48.85), (-74.0, 40.7), (139.7, 35.7)]:
        assert geo.wgs84_to_gcj02(*outside) == outside
        assert geo.gcj02_to_wgs84(*outside) == outside


@settings(max_examples=200, deadline=None, database=None)
@given(CHINA)
def test_round_trips_are_better_than_half_a_metre(position):
    for forward, inverse in [(geo.wgs84_to_gcj02, geo.gcj02_to_wgs84),
                             (geo.wgs84_to_bd09, geo.bd09_to_wgs84),
                             (geo.gcj02_to_bd09, geo.bd09_to_gcj02)]:
        back = inverse(*forward(*position))
        assert metres(back, position) < 0.5, (forward.__name__, position, back)


def test_arrays_convert_element_by_element():
    lons, lats = np.array([102.40, 116.39089]), np.array([25.53, 39.90734])
    glon, glat = geo.wgs84_to_gcj02(lons, lats)
    assert glon.shape == (2,)
    assert (glon[1], glat[1]) == pytest.approx(geo.wgs84_to_gcj02(116.39089, 39.90734), abs=1e-12)
    wlon, wlat = geo.gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(wlon - lons)) < HALF_METRE_DEG
    assert np.max(np.abs(wlat - lats)) < HALF_METRE_DEG


def test_shapes_shift_and_come_back():
    square = shapely.box(102.40, 25.50, 102.42, 25.52)
    shifted = geo.shift_geometry(square, "gcj02")
    assert not shifted.equals_exact(square, 1e-6)
    assert shifted.is_valid and abs(shifted.area - square.area) / square.area < 1e-3
    back = geo.unshift_geometry(shifted, "gcj02")
    assert back.equals_exact(square, HALF_METRE_DEG)
    assert geo.shift_geometry(square, "wgs84") is square
    with pytest.raises(ValueError, match="unknown coordinate system"):
        geo.shift_geometry(square, "mars")
