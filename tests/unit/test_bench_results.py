"""latest.md is one table: a run measures its rows and keeps the others' last figures."""

import pytest

from bench.results import Line, merged, read_table, replace_between, table


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
