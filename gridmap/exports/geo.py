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


def _field_array(values: list, integer: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """An integer column as int64 with its NULLs masked, everything else as text (NULL kept);
    the type comes from the collection, never from one batch's values (a batch of NULLs
    would make a later batch's numbers text)."""
    if integer:
        missing = np.array([v is None for v in values], dtype=bool)
        numbers = np.array([0 if v is None else v for v in values], dtype=np.int64)
        return numbers, missing
    return np.array([_text(v) for v in values], dtype=object), None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_gpkg(records: Iterable[tuple[bytes, dict]], path: Path, layer: str,
               geometry_type: str, integers: Iterable[str] = ()) -> int:
    """Write (WKB, properties) records to a GeoPackage layer in batches; returns the count.
    The properties named in `integers` are integer fields (NULL where missing), the rest text."""
    from pyogrio.raw import write

    written, batch, integers = 0, [], frozenset(integers)

    def flush(append: bool) -> None:
        names = list(batch[0][1]) if batch else []
        columns = [_field_array([props[n] for _, props in batch], n in integers) for n in names]
        masks = [mask for _values, mask in columns]
        write(str(path), geometry=np.array([wkb for wkb, _ in batch], dtype=object),
              field_data=[values for values, _mask in columns], fields=names,
              field_mask=masks if any(m is not None for m in masks) else None,
              layer=layer, driver="GPKG", geometry_type=geometry_type,
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
