"""latest.md is one table: a run measures its rows and keeps the others' last figures."""

import pytest

from bench.results import (
    Line,
    median_seconds,
    merged,
    read_table,
    replace_between,
    replace_table,
    scale_lines,
    table,
)


def line(row: str, operation: str, ok, measured: str = "2026-12-01 abc1234") -> Line:
    return Line(operation, "hand-written SQL", "1 / 2 ms", "1 / 1 ms", "2.00x", "≤ 1.5x", ok,
                row=row, measured=measured)


def test_a_table_reads_back_with_its_rows_verdicts_and_dates():
    written = table([line("households", "households of a township", False),
                     line("tablets", "50 tablets", True, "before the merges (stale)")])
    back = read_table("# title\n\n" + written + "\n\n- a note\n")
    assert [(x.row, x.operation, x.verdict, x.measured) for x in back] == [
        ("households", "households of a township", "**MISSED**", "2026-12-01 abc1234"),
        ("tablets", "50 tablets", "met", "before the merges (stale)")]


def test_a_kept_miss_is_shown_but_does_not_fail_this_run():
    (kept,) = read_table(table([line("households", "households of a township", False)]))
    assert kept.verdict == "**MISSED**" and not kept.fails_run


def test_rows_run_now_replace_their_lines_and_the_others_are_kept_in_row_order():
    kept = [line("geojson", "grids over HTTP", True, "old"), line("tablets", "50 tablets", False, "old"),
            line("tablets", "stored once", True, "old")]
    fresh = [line("tablets", "50 tablets", True, "new")]
    lines = merged(kept, fresh, ["geojson", "households", "tablets"])
    assert [(x.row, x.operation, x.measured) for x in lines] == [
        ("geojson", "grids over HTTP", "old"), ("tablets", "50 tablets", "new")]


def test_the_readme_table_is_replaced_between_its_markers_only():
    text = "intro\n<!-- a -->\nold table\n<!-- /a -->\nafter\n"
    assert replace_between(text, "<!-- a -->", "<!-- /a -->", "new") == (
        "intro\n<!-- a -->\nnew\n<!-- /a -->\nafter\n")
    with pytest.raises(ValueError):
        replace_between("no markers", "<!-- a -->", "<!-- /a -->", "new")


def timed_line(row: str, operation: str, figure: str, measured: str) -> Line:
    return Line(operation, "raw query", figure, "1 / 1 ms", "1.00x", "reported", None,
                row=row, measured=measured)


def test_each_operation_timed_at_both_scales_gets_its_growth_line():
    one = [timed_line("geojson", "grids over HTTP", "341 / 381 ms", "1x"),
           timed_line("geojson", "grids over HTTP", "341 / 381 ms", "1x"),  # second baseline
           timed_line("page", "the page: bytes", "1.15 MB", "1x"),
           timed_line("concurrency", "8 clients (p95)", "p95 3.04 s", "1x"),
           timed_line("coverage", "coverage `visit`, 10-county db", "1 / 2 ms", "1x")]
    ten = [timed_line("geojson", "grids over HTTP", "2.1 / 3.81 s", "10x"),
           timed_line("page", "the page: bytes", "1.15 MB", "10x"),
           timed_line("concurrency", "8 clients (p95)", "p95 3.04 s", "10x"),
           timed_line("coverage", "coverage `visit`, 10-county db", "1 / 2 ms", "10x"),
           timed_line("ogc", "items", "1 / 2 ms", "10x")]
    lines = scale_lines(one, ten)
    assert [(x.row, x.operation, x.ratio, x.verdict) for x in lines] == [
        ("scale", "grids over HTTP at 10x", "10.00x", "met"),
        ("scale", "8 clients (p95) at 10x", "1.00x", "met")]
    assert scale_lines(one, [timed_line("geojson", "grids over HTTP", "4 / 4.2 s", "10x")])[
        0].verdict == "**MISSED**"


def test_a_time_figure_reads_back_as_seconds_and_nothing_else_does():
    assert median_seconds("341 / 381 ms") == pytest.approx(0.381)
    assert median_seconds("1,030 / 1,100 s") == 1100
    assert median_seconds("p95 3.04 s") == 3.04
    assert median_seconds("164.2 MiB") is None and median_seconds("0.32 pages/s") is None


def test_the_results_table_is_replaced_and_the_text_around_it_kept():
    text = "# title\n\n" + table([line("households", "a", True)]) + "\n\n- a note\n"
    new = table([line("coverage", "b", True)])
    assert replace_table(text, new) == "# title\n\n" + new + "\n\n- a note\n"
