"""Loading the demo county's files through the import core (the path users' files take)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

from gridmap.demo.county import ROOT
from gridmap.importers.core import import_directory
from gridmap.importers.report import ImportReport, Limits

DEMO_DIR = ROOT / "data" / "demo"
COUNTY_LIMITS = Limits(max_bytes=1024 * 1024 * 1024, max_rows=2_000_000)


def county_of(directory: Path) -> str:
    """The county code of a demo directory (its regions file's county feature)."""
    with (Path(directory) / "regions.geojson").open(encoding="utf-8") as f:
        for line in f:
            if '"level":"county"' in line:
                return json.loads(line.rstrip(",\n"))["properties"]["code"]
    raise ValueError(f"{directory}/regions.geojson has no county feature")


def has_regions(connection: Connection, county_code: str) -> bool:
    """Whether the county already has regions (the demo is loaded once)."""
    return connection.execute(text("SELECT EXISTS (SELECT 1 FROM region WHERE county_code = :c)"),
                              {"c": county_code}).scalar_one()


def load_demo(connection: Connection, directory: Path = DEMO_DIR, *, commit: bool = True,
              **kw) -> ImportReport:
    """Import every demo table in `directory` in one transaction (times are offsets from now)."""
    kw.setdefault("limits", COUNTY_LIMITS)
    return import_directory(connection, Path(directory), county_of(directory), commit=commit, **kw)
