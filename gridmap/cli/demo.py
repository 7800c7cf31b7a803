"""`gridmap demo …`: generate the demo county (seeded) and load it through the import core."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gridmap.cli.common import database_url, operator
from gridmap.demo.county import ROOT


@click.group("demo")
def group():
    """Demo data: generate (seeded) and load (through the import core)."""


@group.command("generate")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--scale", type=click.Choice(["demo", "county"]), default="demo", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="default: data/demo (demo) or data/county (county, not committed)")
def generate_command(seed, scale, out):
    """Write the demo county's files (same seed ⇒ byte-identical files)."""
    from gridmap.demo.generate import generate, write

    started = time.perf_counter()
    out = out or ROOT / "data" / ("demo" if scale == "demo" else "county")
    sizes = write(generate(seed, scale), out)
    for name, size in sizes.items():
        click.echo(f"{size / 1e6:8.2f} MB  {out / name}")
    click.echo(f"{sum(sizes.values()) / 1e6:8.2f} MB  in {time.perf_counter() - started:.1f} s")


@group.command("load")
@click.option("--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="default: data/demo")
@click.option("--commit", is_flag=True, help="write; without it this is a dry run")
@click.option("--if-empty", is_flag=True, help="do nothing when the county already has regions")
def load_command(directory, commit, if_empty):
    """Load the demo files through the import core (a dry run unless --commit)."""
    from gridmap.db import make_engine
    from gridmap.demo.load import DEMO_DIR, county_of, has_regions, load_demo

    directory = directory or DEMO_DIR
    engine = make_engine(database_url())
    try:
        # engine.begin(): the load's one transaction is ours to commit (a dry run leaves nothing)
        with engine.begin() as connection:
            county_code = county_of(directory)
            if if_empty and has_regions(connection, county_code):
                click.echo(f"county {county_code} already has regions: demo not loaded")
                return
            report = load_demo(connection, directory, commit=commit, actor=operator())
    finally:
        engine.dispose()
    click.echo(report.to_text())
    if not commit and report.ok:
        click.echo("dry run: add --commit to write")
    if not report.ok:
        raise SystemExit(1)
