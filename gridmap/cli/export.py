"""`gridmap export COLLECTION`: a public collection to GeoJSON, GeoPackage, CSV or XLSX.

The same collections, filters and rows as the OGC API at /ogc (gridmap.features), streamed
from PostGIS to the file, so a whole county is written without holding it in memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from gridmap import features
from gridmap.cli.common import operator, transaction
from gridmap.exports import geo, tabular

FLAGS = {"bbox": "--bbox", "datetime": "--datetime", "limit": "--limit", "offset": "--offset", "region": "--region",
         "f": "--format"}
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


@click.command("export")
@click.argument("collection", type=click.Choice(list(features.COLLECTIONS)))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="geojson",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (GeoJSON goes to standard output when omitted)")
@click.option("--bbox", help="minlon,minlat,maxlon,maxlat (WGS84)")
@click.option("--datetime", "when", help="an instant or start/end, '..' open (issues only)")
@click.option("--where", multiple=True, help="NAME=VALUE on a queryable property; repeatable")
@click.option("--region", help="a township, village or grid code: only rows inside it")
@click.option("--county", help="county code (default: the server's, GRIDMAP_COUNTY)")
@with_appcontext
def command(collection, fmt, output, bbox, when, where, region, county):
    """Export a public collection of the county, with the same filters as /ogc."""
    target = features.collection(collection)
    if output is None and fmt != "geojson":
        raise click.UsageError(f"--format {fmt} needs -o FILE")
    county_code = county or current_app.config["GRIDMAP_COUNTY"]
    with transaction(FLAGS) as session:
        start, end = features.parse_datetime(when)
        query = features.Query(bbox=features.parse_bbox(bbox), start=start, end=end,
                               properties=_where(target, where),
                               region=features.parse_region(region))
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
                                   output, target.id, target.geometry_type)
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
