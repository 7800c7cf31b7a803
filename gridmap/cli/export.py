"""`gridmap export COLLECTION`: a public collection, or the coverage gaps, to GeoJSON,
GeoPackage, CSV or XLSX.

The same collections, filters and rows as the OGC API at /ogc (gridmap.features), streamed
from PostGIS to the file, so a whole county is written without holding it in memory.
`gaps` (gridmap.gap_features) is the county's, as a county-wide account sees it over /ogc
and /exports with its token; `--rule` picks one rule of gridmap.coverage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from gridmap import features, gap_features
from gridmap.cli.common import operator, transaction
from gridmap.exports import geo, tabular
from gridmap.policy import Scope

FLAGS = {"bbox": "--bbox", "datetime": "--datetime", "limit": "--limit", "offset": "--offset",
         "region": "--region", "f": "--format", "kind": "--rule"}
FORMATS = ("geojson", "gpkg", "csv", "xlsx")


def _where(target: features.Collection, pairs: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in target.queryables:
            raise click.BadParameter(
                f"{pair!r}: use NAME=VALUE with NAME one of {', '.join(target.queryables)}",
                param_hint="--where")
        chosen[name] = value
    return features.parse_properties(target, chosen)


def _format_of(output: Path | None) -> str:
    """The format an output file's suffix names (`gaps.xlsx` → xlsx); GeoJSON otherwise."""
    suffix = output.suffix[1:].lower() if output is not None else ""
    return suffix if suffix in FORMATS else "geojson"


@click.command("export")
@click.argument("collection", type=click.Choice([*features.COLLECTIONS,
                                                gap_features.COLLECTION_ID]))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="geojson, gpkg, csv or xlsx (default: from the -o file's suffix, else geojson)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (GeoJSON goes to standard output when omitted)")
@click.option("--bbox", help="minlon,minlat,maxlon,maxlat (WGS84)")
@click.option("--datetime", "when", help="an instant or start/end, '..' open (issues only)")
@click.option("--where", multiple=True, help="NAME=VALUE on a queryable property; repeatable")
@click.option("--region", help="a township, village or grid code: only rows inside it")
@click.option("--rule", type=click.Choice(gap_features.KINDS),
              help="gaps only: the gaps of this coverage rule")
@click.option("--county", help="county code (default: the server's, GRIDMAP_COUNTY)")
@with_appcontext
def command(collection, fmt, output, bbox, when, where, region, rule, county):
    """Export a public collection of the county, or its coverage gaps, with the filters of /ogc."""
    if fmt is None:
        fmt = _format_of(output)
    if output is None and fmt != "geojson":
        raise click.UsageError(f"--format {fmt} needs -o FILE")
    if rule and collection != gap_features.COLLECTION_ID:
        raise click.UsageError("--rule is for `gridmap export gaps` only")
    county_code = county or current_app.config["GRIDMAP_COUNTY"]
    with transaction(FLAGS) as session:
        if collection == gap_features.COLLECTION_ID:
            target = gap_features.of_scope(session, Scope(county_code, region_code=county_code))
        else:
            target = features.collection(collection)
        start, end = features.parse_datetime(when)
        properties = _where(target, where)
        properties.update(gap_features.parse_kind(rule))
        query = features.Query(bbox=features.parse_bbox(bbox), start=start, end=end,
                               properties=properties, region=features.parse_region(region))
        connection = session.connection()
        if fmt == "geojson":
            texts = features.feature_texts(connection, target, county_code, query)
            if output is None:
                count = geo.write_geojson(texts, sys.stdout, name=target.id)
            else:
                with output.open("w", encoding="utf-8") as out:
                    count = geo.write_geojson(texts, out, name=target.id)
        elif fmt == "gpkg":
            output.unlink(missing_ok=True)
            count = geo.write_gpkg(features.records(connection, target, county_code, query),
                                   output, target.id, target.geometry_type,
                                   features.integer_properties(target))
        else:
            names = features.property_names(target)
            rows = [props for _wkb, props in
                    features.records(connection, target, county_code, query)]
            columns = [tabular.Column(n, n, kind="code" if n == "code" or n.endswith("_code")
                                      else "auto") for n in names]
            output.write_bytes(tabular.render(fmt, columns, rows))
            count = len(rows)
        geo.record_export(session, operator(), target.id, fmt, query, count,
                          county_code=county_code)
    click.echo(f"exported {count} {target.id}", err=True)
