"""Open data rows: OGC API – Features items pages (gridmap's /ogc against pygeoapi serving the
same grids), and the county's grids exported as GeoJSON (/exports) against ogr2ogr.

Both run under gunicorn with two workers on loopback, over the same database: pygeoapi's
PostgreSQL provider reads a view of the county's current grids (the rows /ogc serves), and
both are asked for the first `limit` grids in code order. Between repeats one grid is
renamed and both answers must show it, so neither can answer from a cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from bench.data import BENCH_VAR, ROOT, _with_db
from bench.results import Line, ratio_line, seconds
from bench.rows_web import Renamer, _pg_dsn
from bench.server import LOOPBACK, Server, _free_port, stop, wait_until_up
from bench.sql import GRIDS_FULL
from bench.timing import alternate, progress
from gridmap import devdb

LIMITS = (100, 1000)
VIEW = "bench_ogc_grids"


def _view(owner_url: str, county: str) -> None:
    """The county's current grids as the view pygeoapi reads (owner role: it may create)."""
    with psycopg2.connect(owner_url) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE OR REPLACE VIEW {VIEW} AS SELECT code, name, kind, village_code, "
                    "left(village_code, 9) AS township_code, household_target, geom FROM grid "
                    f"WHERE county_code = '{county}' AND valid_to IS NULL AND geom IS NOT NULL")
        cur.execute(f"GRANT SELECT ON {VIEW} TO PUBLIC")


def _config(url: str, port: int, directory: Path) -> Path:
    parts = urlsplit(url)
    config = {
        "server": {"bind": {"host": LOOPBACK, "port": port}, "url": f"http://{LOOPBACK}:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
                   "languages": ["en-US"], "limits": {"default_items": 100, "max_items": 10000},
                   "map": {"url": f"http://{LOOPBACK}/none/{{z}}/{{x}}/{{y}}.png",
                           "attribution": "none"}},
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none",
                               "url": f"http://{LOOPBACK}"},
            "license": {"name": "none", "url": f"http://{LOOPBACK}"},
            "provider": {"name": "bench", "url": f"http://{LOOPBACK}"},
            "contact": {"name": "bench", "position": "bench", "address": "bench", "city": "bench",
                        "stateorprovince": "bench", "postalcode": "0", "country": "CN",
                        "phone": "0", "fax": "0", "email": "bench@localhost",
                        "url": f"http://{LOOPBACK}", "hours": "0", "instructions": "none",
                        "role": "pointOfContact"}},
        "resources": {"grids": {
            "type": "collection", "title": "grids", "description": "grids", "keywords": ["grids"],
            "extents": {"spatial": {"bbox": [73, 3, 136, 54],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{
                "type": "feature", "name": "PostgreSQL",
                "data": {"host": parts.hostname, "port": parts.port, "dbname": parts.path[1:],
                         "user": parts.username, "password": parts.password,
                         "search_path": ["public"]},
                "id_field": "code", "table": VIEW, "geom_field": "geom"}]}},
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pygeoapi.yml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


class Pygeoapi:
    """`with Pygeoapi(url) as base:` pygeoapi under gunicorn (2 workers) on a free port."""

    def __init__(self, url: str):
        self.url = url
        self.port = _free_port()
        self.directory = BENCH_VAR / "pygeoapi"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        config = _config(self.url, self.port, self.directory)
        openapi = self.directory / "openapi.yml"
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
        subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(config),
                        "--output-file", str(openapi)], env=env, check=True,
                       capture_output=True)
        log = (self.directory / "server.log").open("w")
        self.proc = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--workers", "2", "--bind", f"{LOOPBACK}:{self.port}",
             "pygeoapi.flask_app:APP"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        base = f"http://{LOOPBACK}:{self.port}"
        try:
            wait_until_up(self.proc, base + "/conformance?f=json", self.directory / "server.log")
        except RuntimeError:
            self.__exit__()
            raise
        return base

    def __exit__(self, *exc) -> None:
        stop(self.proc)


def _version() -> str:
    from importlib.metadata import version

    return version("pygeoapi")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as response:
        return response.read()


def ogc_rows(bench) -> list[Line]:
    """Items pages of limit 100 and 1000: /ogc vs pygeoapi on the same rows."""
    progress.start_row("OGC API items")
    url, county = bench.dbs.main(), bench.county
    _view(_with_db(devdb.owner_url() or devdb.app_url(), urlsplit(url).path[1:]), county)
    renamer = Renamer(url, county)
    lines = []
    # at 10x only gridmap runs (the peers are measured at 1x)
    peers = Pygeoapi(url) if bench.scale == 1 else nullcontext()
    with Server(url) as server, peers as theirs:
        for limit in LIMITS:
            ours_url = f"{server.base}/ogc/collections/grids/items?limit={limit}"
            theirs_url = f"{theirs}/collections/grids/items?f=json&limit={limit}&sortby=code"

            def ours(r, address=ours_url):
                renamer.check(_get(address), r)

            def pygeoapi(r, address=theirs_url):
                renamer.check(_get(address), r)

            contenders = {"gridmap": ours} | ({"pygeoapi": pygeoapi} if theirs else {})
            samples = alternate(bench.repeats, contenders, before=renamer.rename)
            label = f"OGC API items, limit {limit} (/ogc/collections/grids)"
            lines.append(ratio_line(label,
                                    f"pygeoapi {_version()} on the same rows (PostgreSQL provider)",
                                    samples["gridmap"], samples["pygeoapi"], "≤ 1x", 1.0)
                         if theirs else _reported(label, samples["gridmap"]))
    renamer.close()
    return lines


def export_rows(bench) -> list[Line]:
    """The county's grids as a GeoJSON export (/exports/grids.geojson: full detail, built by
    PostGIS and streamed) vs `ogr2ogr -f GeoJSON` reading the same rows, in the same run."""
    progress.start_row("grids → GeoJSON export")
    url, county = bench.dbs.main(), bench.county
    renamer = Renamer(url, county)
    ogr = ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", _pg_dsn(url), "-sql",
           GRIDS_FULL.format(county=county)]
    with Server(url) as server:
        export_url = f"{server.base}/exports/grids.geojson"

        def ours(r):
            renamer.check(_get(export_url), r)

        def ogr2ogr(r):
            renamer.check(subprocess.run(ogr, capture_output=True, check=True).stdout, r)

        for _worker in range(2):  # each worker's first answer (imports, connections) untimed
            _get(export_url)
        contenders = {"gridmap": ours} | ({"ogr2ogr": ogr2ogr} if bench.scale == 1 else {})
        samples = alternate(bench.repeats, contenders, before=renamer.rename)
    renamer.close()
    label = "county grids → GeoJSON export (/exports/grids.geojson, full detail)"
    if bench.scale == 10:  # at 10x only gridmap runs
        return [_reported(label, samples["gridmap"])]
    return [ratio_line(label, "`ogr2ogr -f GeoJSON` reading the same table", samples["gridmap"],
                       samples["ogr2ogr"], "≥ 5x faster (≤ 0.2x)", 0.2)]


def _reported(label: str, sample) -> Line:
    """gridmap's time alone (at 10x, where the peers do not run)."""
    return Line(label, "—", seconds(sample), "—", "—", "reported", None)
