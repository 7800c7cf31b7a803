"""`gridmap import TABLE FILE…` (or `gridmap import DIR`): a person's files through the import core.

A dry run unless --commit: it prints what would be created, updated, unchanged and
rejected; --commit writes everything in one transaction, or nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from gridmap.cli.common import gettext, operator, transaction

CRS_HELP = "auto (the file's own, else lon/lat), EPSG:xxxx (e.g. EPSG:4524), gcj02 or bd09"


def _mapping(pairs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise click.BadParameter(f"{pair!r}: write target=source, e.g. code=村代码", param_hint="--map")
        out.append((target.strip(), column.strip()))
    return tuple(out)


def _files(paths: tuple[Path, ...]) -> list[Path]:
    from gridmap.importers import readers

    files = []
    for path in paths:
        if path.is_dir():
            files += [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix[1:].lower() in readers.READERS]
        else:
            files.append(path)
    return files


class _Progress:
    """One line a stage on stderr, and a count every 10,000 rows on a long file."""

    def __call__(self, stage: str, name: str, rows: int) -> None:
        if stage == "read":
            click.echo(f"读取 {name} …" if rows == 0 else f"  {name}: {rows:,} 行", err=True)
        else:
            click.echo(f"写入 {rows:,} 行 ({name}) …", err=True)


@click.command("import")
@click.argument("table_or_dir")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--layer", help="the layer of a GeoPackage or KML with several")
@click.option("--crs", default="auto", show_default=True, help=CRS_HELP)
@click.option("--map", "mapping", multiple=True, metavar="TARGET=SOURCE",
              help="read the file's column SOURCE as field TARGET; repeatable")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the report here: .json (all of it), .csv or .xlsx (its problems)")
@click.option("--commit", is_flag=True, help="write; without it this is a dry run")
@click.option("--strict", is_flag=True, help="refuse invalid polygons instead of repairing them")
@click.option("--county", help="county code (default: the server's, GRIDMAP_COUNTY)")
@with_appcontext
def command(table_or_dir, files, layer, crs, mapping, report_path, commit, strict, county):
    """Import FILES into TABLE (region, grid, household, cadre, assignment …), or every
    table file of a directory (`gridmap import DIR`, files named after their table)."""
    from gridmap.importers.core import import_files
    from gridmap.importers.sources import Source
    from gridmap.importers.specs import SPEC_BY_TABLE

    directory = Path(table_or_dir)
    how = {"layer": layer, "crs": crs, "mapping": _mapping(mapping), "encoding": "auto"}
    if not files and directory.is_dir():
        sources = [Source.from_path(p, **how) for p in _files((directory,))
                   if p.name.split(".")[0].lower() in _stems()]
    else:
        if table_or_dir not in SPEC_BY_TABLE:
            raise click.BadParameter(f"{table_or_dir!r} is not a table; one of {', '.join(SPEC_BY_TABLE)}"
                                     " (or give a directory alone)", param_hint="TABLE")
        if not files:
            raise click.UsageError("give the file(s) to import after TABLE")
        sources = [Source.from_path(p, table=table_or_dir, **how) for p in _files(files)]
    if not sources:
        raise click.UsageError(f"no table files in {directory}")
    county_code = county or current_app.config["GRIDMAP_COUNTY"]
    language = gettext()
    with transaction() as session:
        report = import_files(session.connection(), sources, county_code, commit=commit,
                              actor=operator(), repair=not strict, progress=_Progress())
    click.echo(report.to_text(translate=language))
    rejected = len(report.problems) + report.problems_left_off
    click.echo(f"rejected {rejected}")
    if report_path is not None:
        _write_report(report.as_dict(language), report_path)
    if not commit and report.ok:
        click.echo("dry run: add --commit to write")
    if not report.ok:
        raise SystemExit(1)


PROBLEM_COLUMNS = (("source", "文件"), ("where", "位置"), ("field", "字段"), ("problem", "问题"), ("hint", "怎么改"))


def _write_report(report: dict, path: Path) -> None:
    """The report as JSON, or its problems as a CSV/XLSX table (cells that look like formulas
    are neutralised by gridmap.exports.tabular: a name in a file never runs in Excel)."""
    from gridmap.exports import tabular

    fmt = path.suffix[1:].lower()
    if fmt in tabular.WRITERS:
        columns = [tabular.Column(key, label, kind="text") for key, label in PROBLEM_COLUMNS]
        path.write_bytes(tabular.render(fmt, columns, report["problems"]))
    else:
        path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


def _stems() -> set[str]:
    from gridmap.importers.specs import SPEC_BY_STEM

    return set(SPEC_BY_STEM)
