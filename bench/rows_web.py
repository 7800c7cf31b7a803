"""Rows served over HTTP by gunicorn on 127.0.0.1: the grid layer, the leaders' map page,
and both under 8 concurrent clients. Between repeats one grid is renamed and every
response must show the new name, so no cache can answer for the server."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psycopg2
from sqlalchemy.orm import Session

from bench.data import connect
from bench.peers import peer, run_measured
from bench.plans import captured, explain
from bench.results import MIB, Line, duration, mib, ratio_line, seconds
from bench.server import PAGE_LAYERS, Server
from bench.sql import GRID_LAYER, GRIDS_FULL
from bench.timing import Sample, alternate, load_average, progress, timed
from gridmap.db import make_engine
from gridmap.maps.layers import grid_layer, region_layer
from gridmap.policy import Scope

CLIENTS = 8


class Renamer:
    """Renames one grid per repeat (`… bench-r3`) and says what a fresh answer must hold."""

    def __init__(self, url: str, county: str):
        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("SELECT code FROM grid WHERE county_code = %s AND valid_to IS NULL "
                        "ORDER BY code LIMIT 1", (county,))
            (self.code,) = cur.fetchone()

    def mark(self, repeat: int) -> bytes:
        return f"bench-r{repeat}".encode()

    def rename(self, repeat: int) -> None:
        with self.conn.cursor() as cur:
            cur.execute("UPDATE grid SET name = regexp_replace(name, ' bench-r[0-9]+$', '') "
                        "|| %s WHERE code = %s AND valid_to IS NULL",
                        (" " + self.mark(repeat).decode(), self.code))

    def check(self, body: bytes, repeat: int) -> None:
        if self.mark(repeat) not in body:
            raise AssertionError(f"repeat {repeat}: the renamed grid {self.code} did not show")

    def close(self) -> None:
        self.rename(-1)
        with self.conn.cursor() as cur:
            cur.execute("UPDATE grid SET name = regexp_replace(name, ' bench-r[0-9-]+$', '') "
                        "WHERE code = %s AND valid_to IS NULL", (self.code,))
        self.conn.close()


def _pg_dsn(url: str) -> str:
    """The URL as GDAL's PG: connection string."""
    parts = urlsplit(url)
    return (f"PG:host={parts.hostname} port={parts.port} dbname={parts.path[1:]} "
            f"user={parts.username} password={parts.password}")


def grid_geojson_rows(bench) -> list[Line]:
    """County grids → GeoJSON over HTTP vs ogr2ogr and GeoDataFrame.to_json."""
    import geopandas as gpd

    progress.start_row("grids → GeoJSON")
    url, county = bench.dbs.main(), bench.county
    renamer, engine = Renamer(url, county), make_engine(url)
    sql = GRIDS_FULL.format(county=county)
    ogr = ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", _pg_dsn(url), "-sql", sql]
    with Server(url) as server:
        client = server.client()

        def over_http(r):
            renamer.check(client.get("/map/grids.geojson"), r)

        def ogr2ogr(r):
            renamer.check(subprocess.run(ogr, capture_output=True, check=True).stdout, r)

        def to_json(r):
            text = gpd.read_postgis(sql, engine, geom_col="geom").to_json()
            renamer.check(text.encode(), r)

        def raw(r):
            with raw_conn.cursor() as cur:
                cur.execute(GRID_LAYER, {"county": county})
                renamer.check(cur.fetchone()[0].encode(), r)

        raw_conn = connect(url)
        contenders = {"gridmap": over_http, "raw": raw}
        if bench.scale == 1:  # at 10x only gridmap and the SQL baselines run
            contenders |= {"ogr2ogr": ogr2ogr, "to_json": to_json}
        samples = alternate(bench.repeats, contenders, before=renamer.rename)
        raw_conn.close()
    renamer.close()
    _explain_layers(bench, url)
    engine.dispose()
    label = "county grids → GeoJSON over HTTP (/map/grids.geojson)"
    lines = [ratio_line(label, "raw query (PostGIS builds the same GeoJSON), 1 client",
                        samples["gridmap"], samples["raw"], "reported", None)]
    if bench.scale == 10:
        return lines
    return lines + [ratio_line(label, "`ogr2ogr -f GeoJSON` (full detail)", samples["gridmap"],
                       samples["ogr2ogr"], "≥ 5x faster (≤ 0.2x)", 0.2),
            ratio_line(label, "`GeoDataFrame.to_json` (read_postgis, full detail)",
                       samples["gridmap"], samples["to_json"], "≥ 5x faster (≤ 0.2x)", 0.2)]


def _explain_layers(bench, url: str) -> None:
    engine = make_engine(url)
    scope = Scope(bench.county, region_code=bench.county)
    with Session(engine) as session:
        for name, action in (("layer-grids", lambda: grid_layer(session, scope)),
                             ("layer-villages", lambda: region_layer(session, scope, "village"))):
            explain(url, name, captured(engine, action))
    engine.dispose()
    explain(url, "layer-grids-raw", [(GRID_LAYER, {"county": bench.county})])


def page_rows(bench) -> list[Line]:
    """The leaders' map page (HTML + the layers of its first paint) vs naive Folium pages."""
    progress.start_row("leaders' map page")
    url, county = bench.dbs.main(), bench.county
    renamer = Renamer(url, county)
    folium_runs: dict[str, list] = {"naive": [], "simplified": []}
    page_bytes: list[int] = []  # as sent (gzip where the server compresses)
    decoded: list[int] = []  # the same responses decoded: what the Folium pages are weighed as
    with Server(url) as server:
        client = server.client()

        def page(r):
            responses = client.page()
            renamer.check(responses["grids"], r)
            page_bytes.append(client.wire)
            decoded.append(client.decoded)

        def folium(kind):
            def run(_r):
                folium_runs[kind].append(run_measured(peer("folium", url, county, kind)))
            return run

        contenders = {"gridmap": page}
        if bench.scale == 1:
            contenders |= {"naive": folium("naive"), "simplified": folium("simplified")}
        samples = alternate(bench.repeats, contenders, before=renamer.rename)
        server_peak = server.peak_rss()
        # The same page as an appeals map, on the same server (one start-up, not two).
        appeals = appeals_rows(bench, server)
    renamer.close()
    label = f"leaders' map page (`/`, its assets, {len(PAGE_LAYERS)} layers, gap counts)"
    if bench.scale == 10:
        return [Line(label, "—", seconds(samples["gridmap"]), "—", "—", "reported", None),
                Line(label + ": server peak RSS", "—", mib(server_peak), "—", "—",
                     "≤ 300 MiB", server_peak <= 300 * MIB), *appeals]
    naive, simple = (Sample([m.output["seconds"] for m in folium_runs[k]])
                     for k in ("naive", "simplified"))
    sizes = {k: folium_runs[k][-1].output["bytes"] for k in folium_runs}
    peaks = {k: max(m.peak_rss for m in folium_runs[k]) for k in folium_runs}
    mine = samples["gridmap"]
    return [
        ratio_line(label, "naive `folium.GeoJson`, full-detail grids", mine, naive,
                   "≥ 4x faster (≤ 0.25x)", 0.25),
        _bytes_line(label + ": bytes decoded", "naive Folium page", decoded[-1], sizes["naive"],
                    "≥ 5x smaller (≤ 0.2x)", 0.2),
        ratio_line(label, "Folium over `shapely.coverage_simplify`'d grids", mine, simple,
                   "≤ 0.6x", 0.6),
        _bytes_line(label + ": bytes sent (gzip)", "simplified Folium page", page_bytes[-1],
                    sizes["simplified"], "≤ 2 MB", None),
        Line(label + ": server peak RSS (VmHWM, largest worker)",
             "Folium process (naive / simplified)", mib(server_peak),
             f"{mib(peaks['naive'])} / {mib(peaks['simplified'])}", "—", "≤ 300 MiB",
             server_peak <= 300 * MIB),
        *appeals,
    ]


def appeals_rows(bench, server: Server) -> list[Line]:
    """The appeals map (the page's HTML + /map/issues.geojson, from `server`) vs Folium's
    MarkerCluster with a popup per issue and FastMarkerCluster over the same open issues."""
    progress.start_row("appeals map page")
    url, county = bench.dbs.main(), bench.county
    folium_runs: dict[str, list] = {"naive": [], "fast": []}
    page_bytes: list[int] = []
    decoded: list[int] = []
    client = server.client()

    def page(_r):
        client.appeals_page()
        page_bytes.append(client.wire)
        decoded.append(client.decoded)

    def folium(kind):
        def run(_r):
            folium_runs[kind].append(run_measured(peer("appeals", url, county, kind)))
        return run

    contenders = {"gridmap": page}
    if bench.scale == 1:
        contenders |= {"naive": folium("naive"), "fast": folium("fast")}
    samples = alternate(bench.repeats, contenders)
    issues = folium_runs["naive"][-1].output["issues"] if folium_runs["naive"] else "?"
    label = f"appeals map page (`/`, its assets, open issues; {issues} issues)"
    mine = samples["gridmap"]
    if bench.scale == 10:
        return [Line(label, "—", seconds(mine), "—", "—", "reported", None)]
    naive, fast = (Sample([m.output["seconds"] for m in folium_runs[k]]) for k in ("naive", "fast"))
    sizes = {k: folium_runs[k][-1].output["bytes"] for k in folium_runs}
    return [
        ratio_line(label, "Folium MarkerCluster, a marker and popup per issue", mine, naive,
                   "≥ 10x faster (≤ 0.1x)", 0.1),
        _bytes_line(label + ": bytes decoded", "Folium MarkerCluster page", decoded[-1],
                    sizes["naive"], "≥ 10x smaller (≤ 0.1x)", 0.1),
        ratio_line(label, "Folium FastMarkerCluster", mine, fast, "reported", None),
        _bytes_line(label + ": bytes sent (gzip)", "FastMarkerCluster page", page_bytes[-1],
                    sizes["fast"], "≤ 1.5 MB", None, absolute=1_500_000),
        _bytes_line(label + ": bytes decoded", "FastMarkerCluster page", decoded[-1],
                    sizes["fast"], "≤ 1.5 MB", None, absolute=1_500_000),
    ]


def _bytes_line(operation, baseline, mine: int, theirs: int, target, limit,
                absolute: int = 2_000_000) -> Line:
    ratio = mine / theirs
    ok = mine <= absolute if limit is None else ratio <= limit
    return Line(operation, baseline, f"{mine / 1e6:.2f} MB", f"{theirs / 1e6:.2f} MB",
                f"{ratio:.2f}x", target, ok)


def _concurrently(clients: int, action) -> tuple[list[float], float]:
    """Run `action(client_index)` in `clients` threads; latencies of all calls, wall time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [x for chunk in pool.map(action, range(clients)) for x in chunk]
    return latencies, time.perf_counter() - started


def _own_cpu_seconds() -> float:
    """CPU time of this process so far (the bench's client threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def concurrency_rows(bench) -> list[Line]:
    """8 clients on the grid layer vs 8 on the raw query (p95); the page, 8 clients vs 1."""
    progress.start_row(f"{CLIENTS} concurrent clients")
    url, county = bench.dbs.main(), bench.county
    loops = max(bench.repeats, 3)  # each client's bounded loop
    renamer = Renamer(url, county)
    renamer.rename(99)
    with Server(url) as server:
        clients = [server.client() for _ in range(CLIENTS)]

        def layer_client(i):
            out = []
            for _ in range(loops):
                seconds_taken, body = timed(lambda: clients[i].get("/map/grids.geojson"))
                renamer.check(body, 99)
                out.append(seconds_taken)
                progress.tick()
            return out

        def raw_client(_i):
            conn, out = connect(url), []
            with conn.cursor() as cur:
                for _ in range(loops):
                    seconds_taken, _ = timed(lambda: (cur.execute(GRID_LAYER, {"county": county}),
                                                      cur.fetchone()))
                    out.append(seconds_taken)
                    progress.tick()
            conn.close()
            return out

        def page_client(i):
            out = []
            for _ in range(loops):
                seconds_taken, responses = timed(clients[i].page)
                renamer.check(responses["grids"], 99)
                out.append(seconds_taken)
                progress.tick()
            return out

        layer, _ = _concurrently(CLIENTS, layer_client)
        raw, _ = _concurrently(CLIENTS, raw_client)
        # How many cores the serving side keeps busy: a page one client fetches already runs
        # its queries in parallel (2 workers), so more clients add less than their number.
        cpu, load = server.cpu_seconds(), load_average()
        one_latencies, one_wall = _concurrently(1, page_client)
        one_cores = (server.cpu_seconds() - cpu) / one_wall
        cpu, mine = server.cpu_seconds(), _own_cpu_seconds()
        many_latencies, many_wall = _concurrently(CLIENTS, page_client)
        many_cpu = server.cpu_seconds() - cpu + _own_cpu_seconds() - mine
        many_cores, load = (server.cpu_seconds() - cpu) / many_wall, max(load, load_average())
    renamer.close()
    layer_p95, raw_p95 = Sample(layer).p95(), Sample(raw).p95()
    one_rate, many_rate = len(one_latencies) / one_wall, len(many_latencies) / many_wall
    # What 8 clients can reach here whatever a page costs: the machine's cores give at most
    # cores / (CPU a page takes: server, PostgreSQL and the clients' own HTTP) pages a second,
    # while one client gets one page per its wait. On loopback that wait is the same CPU spent
    # one step after another, so the ratio stays near the number of cores unless a lone
    # client's page waits on something other than the cores.
    page_cpu = many_cpu / len(many_latencies)
    ceiling = (os.cpu_count() or 1) / page_cpu / one_rate
    return [
        Line(f"/map/grids.geojson, {CLIENTS} clients × {loops} (p95)",
             f"raw query (PostGIS builds the same GeoJSON), {CLIENTS} connections",
             f"p95 {duration(layer_p95)}", f"p95 {duration(raw_p95)}",
             f"{layer_p95 / raw_p95:.2f}x", "p95 ≤ 2x", layer_p95 / raw_p95 <= 2),
        Line(f"leaders' map page, {CLIENTS} clients × {loops} (throughput; server and "
             f"PostgreSQL busy {many_cores:.1f} cores, machine load {load:.0f})",
             f"the same page, 1 client (server and PostgreSQL busy {one_cores:.1f} cores)",
             f"{many_rate:.2f} pages/s", f"{one_rate:.2f} pages/s",
             f"{many_rate / one_rate:.2f}x (ceiling here {ceiling:.1f}x: a page takes"
             f" {page_cpu * 1e3:.0f} ms of CPU, clients' included, and one client"
             f" {1e3 / one_rate:.0f} ms; {os.cpu_count()} cores)",
             "≥ 4x, 0 errors", many_rate / one_rate >= 4),
    ]
