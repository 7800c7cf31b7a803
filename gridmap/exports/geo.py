"""Writers of features to files: GeoJSON (streamed text) and GeoPackage (through pyogrio).

The features come streamed from gridmap.features (built by PostGIS), so an export of a
whole county is written as it is read. CSV and XLSX go through gridmap.exports.tabular,
the one writer of spreadsheets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO

import numpy as np

from gridmap import audit

GEOJSON_MEDIA_TYPE = "application/geo+json"
GPKG_BATCH = 5_000


def geojson_chunks(feature_texts: Iterable[str], name: str | None = None) -> Iterator[str]:
    """A FeatureCollection as text chunks: header, one feature per line, footer (RFC 7946)."""
    header = {"type": "FeatureCollection"}
    if name:
        header["name"] = name
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "features": [\n'
    first = True
    for text in feature_texts:
        yield ("" if first else ",\n") + text
        first = False
    yield "\n]}\n"


def write_geojson(feature_texts: Iterable[str], out: IO[str], name: str | None = None) -> int:
    """Write a FeatureCollection to `out` as it streams; returns how many features."""
    count = -2  # the header and footer chunks are not features
    for chunk in geojson_chunks(feature_texts, name):
        out.write(chunk)
        count += 1
    return count


def _field_array(values: list) -> np.ndarray:
    """Whole numbers as integers when none is missing, everything else as text (NULL kept)."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    return np.array([_text(v) for v in values], dtype=object)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_gpkg(records: Iterable[tuple[bytes, dict]], path: Path, layer: str,
               geometry_type: str) -> int:
    """Write (WKB, properties) records to a GeoPackage layer in batches; returns the count."""
    from pyogrio.raw import write

    written, batch = 0, []

    def flush(append: bool) -> None:
        names = list(batch[0][1]) if batch else []
        write(str(path), geometry=np.array([wkb for wkb, _ in batch], dtype=object),
              field_data=[_field_array([props[n] for _, props in batch]) for n in names],
              fields=names, layer=layer, driver="GPKG", geometry_type=geometry_type,
              crs="EPSG:4326", append=append, encoding="UTF-8")

    for record in records:
        batch.append(record)
        if len(batch) == GPKG_BATCH:
            flush(append=written > 0)
            written += len(batch)
            batch = []
    if batch or written == 0:
        flush(append=written > 0)
        written += len(batch)
    return written


def record_export(session, actor, collection_id: str, fmt: str, query, rows: int, *,
                  county_code: str, address: str | None = None) -> None:
    """Every export of a collection, from the CLI or over HTTP, in the audit log: who, which
    collection, format, filters and how many features (in the caller's transaction)."""
    filters = {"bbox": query.bbox, "region": query.region, "properties": query.properties,
               "start": query.start and query.start.isoformat(),
               "end": query.end and query.end.isoformat()}
    audit.record(session, actor, "export", f"collection:{collection_id}",
                 {"format": fmt, "rows": rows,
                  "filters": {k: v for k, v in filters.items() if v}},
                 county_code=county_code, address=address)
