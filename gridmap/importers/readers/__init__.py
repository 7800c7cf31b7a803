"""File formats the importer reads, by suffix (as pygeoapi's plugin table).

A new format is a module here that builds a
`sources.Reader` and one line in `READERS`; the core asks only `reader_for(source)`.
"""

from __future__ import annotations

from gridmap.importers.readers import csv, geojson, ogr, xlsx
from gridmap.importers.sources import Reader, Source

READERS: dict[str, Reader] = {}


def register(reader: Reader) -> None:
    """Read files with `reader`'s suffixes from now on (a later reader replaces an earlier one)."""
    READERS.update(dict.fromkeys(reader.suffixes, reader))


def reader_for(source: Source) -> Reader | None:
    """The registered reader for the file's suffix, or None."""
    return READERS.get(source.suffix)


def readers() -> list[Reader]:
    """Each registered reader once, in the order registered."""
    return list(dict.fromkeys(READERS.values()))


register(csv.READER)
register(geojson.READER)
register(ogr.SHAPEFILE)
register(ogr.GEOPACKAGE)
register(ogr.KML)
register(xlsx.READER)
