"""RFC 7946 checks for the GeoJSON we send: the committed schema (tests/schemas/), then what
a schema cannot say (ring winding, coordinate ranges, precision)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from gridmap import features

GEOJSON_SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "geojson-featurecollection.json").read_text())


def check_rfc7946(page: dict) -> None:
    """Fail unless `page` (a FeatureCollection, `links` aside) is RFC 7946 GeoJSON."""
    jsonschema.validate({k: v for k, v in page.items() if k != "links"}, GEOJSON_SCHEMA)
    for feature in page["features"]:
        geometry = feature["geometry"]
        polygons = {"MultiPolygon": geometry["coordinates"],
                    "Polygon": [geometry["coordinates"]]}.get(geometry["type"], [])
        for polygon in polygons:
            assert signed_area(polygon[0]) > 0, "exterior rings run counter-clockwise"
            for hole in polygon[1:]:
                assert signed_area(hole) < 0
        for lon, lat in positions(geometry["coordinates"]):
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            assert decimals(lon) <= features.PRECISION and decimals(lat) <= features.PRECISION


def signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / 2


def positions(coordinates):
    if coordinates and isinstance(coordinates[0], (int, float)):
        yield coordinates
        return
    for part in coordinates:
        yield from positions(part)


def decimals(number: float) -> int:
    match = re.search(r"\.(\d+)$", repr(number))
    return len(match.group(1)) if match else 0
