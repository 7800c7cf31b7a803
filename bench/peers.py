"""Work measured as a whole process of its own, so its peak memory (VmHWM) is its own.

The parent side is `run_measured`; the child side is `python -m bench.peers KIND …`,
which does one piece of work and prints one JSON line (its own timing of the work, bytes).
Peers: naive Folium over full-detail grids, Folium over coverage-simplified grids, Folium
appeals maps (a MarkerCluster with a popup per issue, a FastMarkerCluster), and gridmap's own
household import (the import core, as `gridmap demo load` calls it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The checkout (as bench.data has it: importing that here would load the demo generator into
# every measured child, a tenth of a second of the import's time that no `gridmap import` pays).
ROOT = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.01
SIMPLIFY_TOLERANCE = 0.00005  # gridmap's grid-layer tolerance (gridmap.maps.layers)


@dataclass(frozen=True)
class Measured:
    """A finished process: wall seconds, its peak RSS in bytes, what it printed."""

    seconds: float
    peak_rss: int
    output: dict


def run_measured(args: list[str], timeout: float = 1800, env: dict | None = None) -> Measured:
    """Run `args` (in `env`), polling its VmHWM until it exits (the peak is monotonic, so the last
    reading is the peak up to the last poll); fail loudly on a non-zero exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            break
        if time.perf_counter() - started > timeout:
            proc.kill()
            raise TimeoutError(f"{args[:3]} ran longer than {timeout} s")
        time.sleep(POLL_SECONDS)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} … failed ({proc.returncode}):\n{err[-2000:]}")
    last = out.strip().splitlines()[-1] if out.strip() else "{}"
    return Measured(seconds, peak, json.loads(last) if last.startswith("{") else {})


def peer(kind: str, *args: str) -> list[str]:
    """The command line of a child of this module."""
    return [sys.executable, "-m", "bench.peers", kind, *args]


# --- the child side -------------------------------------------------------------------


def _grids(url: str, county: str):
    import geopandas as gpd

    from bench.sql import GRIDS_FULL
    from gridmap.db import make_engine

    engine = make_engine(url)
    try:
        return gpd.read_postgis(GRIDS_FULL.format(county=county), engine, geom_col="geom")
    finally:
        engine.dispose()


def _folium_page(grids) -> str:
    import folium

    west, south, east, north = grids.total_bounds
    county_map = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=11,
                            tiles=None)
    folium.GeoJson(grids, name="grids",
                   tooltip=folium.GeoJsonTooltip(fields=["code", "name"])).add_to(county_map)
    return county_map.get_root().render()


def folium_page(url: str, county: str, simplified: str) -> dict:
    """Naive Folium: read the grids, embed them all in the page (optionally simplified
    first, not timed: a display copy would be made once, at import)."""
    import shapely

    started = time.perf_counter()
    grids = _grids(url, county)
    untimed = 0.0
    if simplified == "simplified":
        simplify_started = time.perf_counter()
        grids["geom"] = shapely.coverage_simplify(grids.geometry.values, SIMPLIFY_TOLERANCE)
        grids = grids.set_geometry("geom")
        untimed = time.perf_counter() - simplify_started
    html = _folium_page(grids)
    return {"seconds": time.perf_counter() - started - untimed, "bytes": len(html.encode())}


def import_households(url: str, csv_path: str, county: str) -> dict:
    """The import core on one household CSV, committed (what a county's upload does)."""
    from gridmap.db import make_engine
    from gridmap.demo.load import COUNTY_LIMITS
    from gridmap.importers.core import import_files

    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        report = import_files(connection, [Path(csv_path)], county, commit=True,
                              limits=COUNTY_LIMITS)
    engine.dispose()
    if not report.ok:
        raise SystemExit(report.to_text())
    return {"seconds": time.perf_counter() - started,
            "rows": sum(t.inserted + t.updated + t.unchanged for t in report.tables)}


def appeals_page(url: str, county: str, kind: str) -> dict:
    """An appeals map the way Folium offers it: the open issues read and drawn as a
    MarkerCluster with a marker and popup each ("naive"), or a FastMarkerCluster of points."""
    import folium
    from folium import plugins
    from markupsafe import escape
    from sqlalchemy import text

    from bench.sql import APPEALS_OPEN
    from gridmap.db import make_engine

    started = time.perf_counter()
    engine = make_engine(url)
    with engine.connect() as connection:
        issues = connection.execute(text(APPEALS_OPEN.format(county=county))).all()
    engine.dispose()
    lats = [row.lat for row in issues] or [25.5]
    lons = [row.lon for row in issues] or [102.4]
    appeals_map = folium.Map(location=[sum(lats) / len(lats), sum(lons) / len(lons)],
                             zoom_start=11, tiles=None, maxZoom=18)
    if kind == "naive":
        cluster = plugins.MarkerCluster().add_to(appeals_map)
        for row in issues:
            folium.Marker([row.lat, row.lon], popup=folium.Popup(
                f"<b>{escape(row.code)}</b><br>{escape(row.title)}<br>{escape(row.status)}"),
                tooltip=str(row.code)).add_to(cluster)
    else:
        plugins.FastMarkerCluster([[row.lat, row.lon] for row in issues]).add_to(appeals_map)
    html = appeals_map.get_root().render()
    return {"seconds": time.perf_counter() - started, "bytes": len(html.encode()),
            "issues": len(issues)}


KINDS = {"folium": folium_page, "import": import_households, "appeals": appeals_page}

if __name__ == "__main__":
    print(json.dumps(KINDS[sys.argv[1]](*sys.argv[2:])))
