"""The ten-county bench copy copies the kept facts' tables with the triggers off
(bench.data): its list of them must be every table the triggers keep, and its check must
tell a county's kept rows from what the raw tables give."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from test_coverage_kept import COUNTY, county  # noqa: F401 (a fixture)

from bench.data import COPIED_TABLES
from bench.kept import KEPT, drift, kept_tables


def test_the_kept_tables_listed_are_those_the_triggers_on_the_copied_tables_write(connection):
    with connection.connection.driver_connection.cursor() as cur:
        assert kept_tables(cur, COPIED_TABLES) == set(KEPT)


@pytest.mark.parametrize("table", list(KEPT))
def test_the_check_finds_a_county_whose_kept_rows_are_gone(county, table):  # noqa: F811
    with county.connection.driver_connection.cursor() as cur:
        assert drift(cur, COUNTY) == dict.fromkeys(KEPT, 0)
        county.execute(text(f"DELETE FROM {table} WHERE county_code = :c"), {"c": COUNTY})
        assert drift(cur, COUNTY)[table] > 0
