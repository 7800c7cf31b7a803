"""Real OGC API – Features clients against the served demo county: GDAL's OAPIF driver
(`ogrinfo`, `ogr2ogr` from Debian's gdal-bin) and OWSLib. Counts are checked against SQL."""

from __future__ import annotations

import re
import shutil
import subprocess

import psycopg2
import pytest

from gridmap import features

COUNTY = "532329"


def sql_count(url: str, collection: str) -> int:
    """How many features the collection should hold, counted straight from the tables."""
    queries = {
        "regions": "SELECT count(*) FROM region WHERE county_code = %s AND valid_to IS NULL"
                   " AND geom IS NOT NULL",
        "grids": "SELECT count(*) FROM grid WHERE county_code = %s AND valid_to IS NULL"
                 " AND geom IS NOT NULL",
        "issues": "SELECT count(*) FROM issue i JOIN issue_category c ON c.county_code ="
                  " i.county_code AND c.code = i.category JOIN grid g ON g.county_code ="
                  " i.county_code AND g.code = i.grid_code AND g.valid_to IS NULL"
                  " WHERE i.county_code = %s AND c.appeal_type <> 'tip_off'"
                  " AND i.status <> 'voided' AND i.merged_into IS NULL",
    }
    queries["households_by_grid"] = queries["grids"]
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(queries[collection], (COUNTY,))
        return cur.fetchone()[0]


def gdal(*args: str) -> str:
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} missing: `make test` installs Debian's gdal-bin")
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_collection_with_the_sql_count(base_url, committed_db_url):
    listing = gdal("ogrinfo", "-ro", "-al", "-so", f"OAPIF:{base_url}/ogc")
    counts = dict(re.findall(r"Layer name: (\w+).*?Feature Count: (\d+)", listing, re.S))
    assert set(counts) == set(features.COLLECTIONS)
    for collection, count in counts.items():
        assert int(count) == sql_count(committed_db_url, collection), collection
    assert "Geometry: Multi Polygon" in listing and "Geometry: Point" in listing


def test_ogr2ogr_copies_a_collection_to_a_geopackage(base_url, committed_db_url, tmp_path):
    target = tmp_path / "grids.gpkg"
    # a page size below the count makes GDAL follow our `next` links
    gdal("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{base_url}/ogc", "grids",
         "-oo", "PAGE_SIZE=40")
    copied = gdal("ogrinfo", "-ro", "-al", "-so", str(target))
    count = int(re.search(r"Feature Count: (\d+)", copied).group(1))
    assert count == sql_count(committed_db_url, "grids")


def test_owslib_reads_collections_pages_and_features(base_url, committed_db_url):
    from owslib.ogcapi.features import Features

    api = Features(f"{base_url}/ogc")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in (
        api.conformance()["conformsTo"])
    assert [c["id"] for c in api.collections()["collections"]] == list(features.COLLECTIONS)
    page = api.collection_items("issues", limit=5)
    assert page["numberMatched"] == sql_count(committed_db_url, "issues")
    assert len(page["features"]) == 5
    first = page["features"][0]
    assert "title" not in first["properties"] and "reporter_name" not in first["properties"]
    one = api.collection_item("issues", first["id"])
    assert one["properties"] == first["properties"]
    queryables = api.collection_items("grids", bbox=[102.0, 25.0, 103.0, 26.0], limit=1000)
    assert queryables["numberReturned"] == sql_count(committed_db_url, "grids")
