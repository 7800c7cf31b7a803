"""The map page's own encoding of a layer: the same FeatureCollection in a fraction of the bytes.

A county's layers as GeoJSON repeat every property name once per feature and spell every
coordinate out as `[102.41469,25.40272]`; at county scale that made the leader's first paint
7 MB. map.js asks for `?compact=1` and gets the collection encoded here; it rebuilds the same
GeoJSON (static/map.js, `gridmap.expandLayer`) before drawing, so nothing else changes. The
GeoJSON endpoints stay GeoJSON for everyone else.

The encoding (`"type": "gridmap.compact"`, `"version": 1`):

- `scale`: 1e5, the layers' 5 decimals (lossless for them, ~1 m for a shape shifted to
  GCJ-02).
- `geometry_types`: one type for the whole layer (a string) or one per feature (a list).
  `geometries`: per feature its coordinates with each innermost run of positions (a ring, a
  line, a MultiPoint; a Point is a run of one) as one encoded polyline: Google's algorithm,
  as PostGIS's ST_AsEncodedPolyline(geom, 5) writes it (lat before lon, each position the
  difference from the one before, zigzagged, cut in 5-bit pieces from the lowest, 0x20 set on
  all but the last, 63 added), so a vertex of a grid costs four or five characters and
  PostGIS can write the grids' and issues' layers itself; null for no geometry.
- `properties`: one column per property name, in order of first appearance:
  `{"c": value}` the same value in every feature, `{"d": [values], "i": [index per feature]}`
  few distinct values, `{"v": [value per feature]}` otherwise, where `"p": prefix` (strings
  only) is the start every non-null value shares, left out of each; `"a": [feature numbers]`
  lists the features that lack the property altogether.
- `id`: `{"from": name, "string": bool}` when each feature's id is that property's value
  (as a string when `string`), `{"v": [ids]}` otherwise, absent when no feature has one.
- `members`: the collection's other members (bbox, …), as they were.
"""

from __future__ import annotations

import json
import os.path
from collections.abc import Iterable
from itertools import chain

import numpy as np

SCALE = 100_000  # the layers' decimals, 5 (gridmap.geo.DISPLAY_DECIMALS)
# How deep the positions of each geometry type nest below `coordinates` (0: one position).
DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
         "MultiPolygon": 3}
MAX_DISTINCT = 256  # a column with more distinct values is sent as it is


class CompactError(ValueError):
    """A layer this encoding does not carry (a GeometryCollection, an unknown type)."""


def _position_runs(coordinates, depth: int, runs: list) -> object:
    """The skeleton of `coordinates` with each run of positions replaced by its index in
    `runs` (where the run is appended)."""
    if depth <= 1:
        runs.append([coordinates] if depth == 0 else coordinates)
        return len(runs) - 1
    return [_position_runs(part, depth - 1, runs) for part in coordinates]


def _fill(skeleton, depth: int, encoded: list[str]):
    if depth <= 1:
        return encoded[skeleton]
    return [_fill(part, depth - 1, encoded) for part in skeleton]


def _encoded_runs(runs: list[list[list[float]]]) -> list[str]:
    """Each run of [lon, lat] positions as an encoded polyline (Google's algorithm, as
    PostGIS's ST_AsEncodedPolyline writes it: precision 5, lat before lon, deltas from the
    run's first position). Vectorised: a county's grids are ~150,000 positions."""
    lengths = np.fromiter((len(run) for run in runs), dtype=np.int64, count=len(runs))
    count = int(lengths.sum())
    if not count:
        return [""] * len(runs)
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(runs)), dtype=np.float64)
    if flat.size == 2 * count:
        positions = flat.reshape(count, 2)
    else:  # a position with a height: drawn flat
        positions = np.array(list(chain.from_iterable(runs)), dtype=np.float64)[:, :2]
    whole = np.rint(positions[:, ::-1] * SCALE).astype(np.int64)  # lat, lon
    deltas = np.diff(whole, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    firsts = np.cumsum(lengths)[lengths > 0] - lengths[lengths > 0]
    deltas[firsts] = whole[firsts]  # each run starts from (0, 0)
    deltas = deltas.ravel()
    zigzag = (deltas << 1) ^ (deltas >> 63)
    width = max(1, -(-int(zigzag.max()).bit_length() // 5))  # pieces of the longest value
    pieces = np.stack([(zigzag >> (5 * k)) & 31 for k in range(width)], axis=1)
    # How many pieces each value needs: up to its highest non-zero one, at least one.
    nonzero = pieces != 0
    used = np.where(nonzero.any(axis=1), width - np.argmax(nonzero[:, ::-1], axis=1), 1)
    slots = np.arange(width)[None, :]
    chars = (pieces | ((slots < (used - 1)[:, None]) << 5)) + 63
    keep = slots < used[:, None]
    text = chars[keep].astype(np.uint8).tobytes().decode("ascii")
    # Where each run's characters end: two values a position.
    ends = np.cumsum(used)[np.cumsum(lengths * 2) - 1]
    starts = np.concatenate(([0], ends[:-1]))
    return [text[a:b] if n else "" for a, b, n in zip(starts.tolist(), ends.tolist(),
                                                      lengths.tolist(), strict=True)]


def _geometries(features: list[dict]) -> tuple[object, list]:
    types, skeletons, runs = [], [], []
    for feature in features:
        geometry = feature.get("geometry")
        if geometry is None:
            types.append(None)
            skeletons.append(None)
            continue
        kind = geometry["type"]
        if kind not in DEPTH:
            raise CompactError(f"{kind} geometries are not carried by the compact encoding")
        types.append(kind)
        if "encoded" in geometry:  # encoded by PostGIS already (gridmap.maps.layers)
            skeletons.append(geometry["encoded"])
        else:
            skeletons.append(_position_runs(geometry["coordinates"], DEPTH[kind], runs))
    encoded = _encoded_runs(runs) if runs else []
    geometries = [None if kind is None else skeleton if "encoded" in feature["geometry"]
                  else _fill(skeleton, DEPTH[kind], encoded)
                  for kind, skeleton, feature in zip(types, skeletons, features, strict=True)]
    distinct = set(types)
    return (types[0] if len(distinct) == 1 else types), geometries


_ABSENT = object()  # a feature without the property


def _distinct(present: list) -> list | None:
    """The distinct values of a column in order, or None when a dictionary cannot carry
    them: lists and objects, or numbers of several types (True == 1 == 1.0 in a dict)."""
    try:
        distinct = list(dict.fromkeys(present))
    except TypeError:  # lists or objects
        return None
    numeric = {type(v) for v in distinct if isinstance(v, (bool, int, float))}
    return distinct if len(numeric) <= 1 else None


def _column(values: list) -> dict:
    absent = [n for n, v in enumerate(values) if v is _ABSENT]
    present = [v for v in values if v is not _ABSENT] if absent else values
    distinct = _distinct(present)
    column: dict
    if distinct is not None and len(distinct) == 1:
        column = {"c": distinct[0]}
    elif distinct is not None and len(distinct) <= min(MAX_DISTINCT, len(values) // 2):
        index = {value: i for i, value in enumerate(distinct)}
        index[_ABSENT] = 0
        column = {"d": distinct, "i": [index[v] for v in values]}
    else:
        column = {"v": [None if v is _ABSENT else v for v in values] if absent else values}
        texts = [v for v in present if v is not None]
        if texts and all(isinstance(v, str) for v in texts):
            prefix = os.path.commonprefix(texts)  # MQ2026…, 2026-12-…: said once
            if prefix:
                cut = len(prefix)
                column = {"p": prefix, "v": [v if v is None else v[cut:] for v in column["v"]]}
    if absent:
        column["a"] = absent
    return column


def _properties(features: list[dict], drop: frozenset[str]) -> dict[str, dict]:
    rows = [f.get("properties") or {} for f in features]
    names = [name for name in dict.fromkeys(chain.from_iterable(rows)) if name not in drop]
    return {name: _column([row.get(name, _ABSENT) for row in rows]) for name in names}


def _ids(features: list[dict], drop: frozenset[str]) -> dict | None:
    ids = [f.get("id") for f in features]
    if all(i is None for i in ids):
        return None
    first = features[0].get("properties") or {}
    for name in (name for name in first if name not in drop):
        for as_string in (False, True):
            if all(i is not None and _same_id(i, (f.get("properties") or {}).get(name, _ABSENT),
                                              as_string)
                   for i, f in zip(ids, features, strict=True)):
                return {"from": name, "string": as_string}
    return {"v": ids}


def _same_id(feature_id, value, as_string: bool) -> bool:
    if value is _ABSENT or value is None or isinstance(value, (bool, list, dict)):
        return False
    if as_string:
        return isinstance(feature_id, str) and feature_id == str(value)
    return type(feature_id) is type(value) and feature_id == value


def compact_collection(collection: dict, drop: Iterable[str] = ()) -> dict:
    """A GeoJSON FeatureCollection (parsed) in the compact encoding (see the module),
    without the properties named in `drop` (those the map never reads)."""
    if collection.get("type") != "FeatureCollection":
        raise CompactError("only a FeatureCollection has a compact encoding")
    features = collection.get("features") or []
    geometry_types, geometries = _geometries(features)
    dropped = frozenset(drop)
    encoded = {"type": "gridmap.compact", "version": 1, "scale": SCALE, "count": len(features),
               "geometry_types": geometry_types, "geometries": geometries,
               "properties": _properties(features, dropped)}
    ids = _ids(features, dropped) if features else None
    if ids is not None:
        encoded["id"] = ids
    members = {k: v for k, v in collection.items() if k not in ("type", "features")}
    if members:
        encoded["members"] = members
    return encoded


def compact_text(geojson: str | bytes, drop: Iterable[str] = ()) -> str:
    """GeoJSON FeatureCollection (text or UTF-8) as compact-encoded JSON text."""
    return json.dumps(compact_collection(json.loads(geojson), drop), ensure_ascii=False,
                      separators=(",", ":"))
