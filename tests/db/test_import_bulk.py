"""A large household import drops the table's secondary indexes in its own transaction and
rebuilds them before it commits (gridmap.importers.bulk, migration 0029)."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from test_coverage_kept import VISIT_STATE_KEPT, visit_state_from_households
from test_import_errors import REGIONS
from test_import_validation import COUNTY, VILLAGE, grid_file, run

from gridmap.importers import bulk
from gridmap.importers.core import Source, import_files

INDEXES = text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'household' ORDER BY indexname")
DROPPED = text("SELECT count(*) FROM pg_indexes WHERE tablename = 'household'")


def households(count: int, start: int = 0) -> Source:
    lines = ["code,head_name,address,lon,lat"]
    lines += [f"H{n:05d},住户{n},插甸镇{n}号,{102.30 + (n % 97) / 1000:.3f},{25.40 + (n % 89) / 1000:.3f}"
              for n in range(start, start + count)]
    return Source("households.csv", "\n".join(lines).encode())


@pytest.fixture
def village(connection):
    assert import_files(connection, [Source("regions.geojson", json.dumps(REGIONS).encode())], COUNTY,
                        commit=True).ok
    return connection


@pytest.fixture
def small_bulk(monkeypatch):
    """A bulk load from 50 rows on, so a test's file can be one."""
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 50)


def _dropped_during(connection, monkeypatch) -> list[bool]:
    """Whether the indexes were gone while each batch was written (seen from inside)."""
    seen = []
    before = bulk.BulkLoad.before

    def watching(self, rows):
        before(self, rows)
        seen.append(self.dropped)
    monkeypatch.setattr(bulk.BulkLoad, "before", watching)
    return seen


def test_a_first_load_of_households_rebuilds_every_index_before_it_commits(village, small_bulk, monkeypatch):
    assert run(village, grid_file(box(102.30, 25.40, 102.40, 25.50)), commit=True).ok
    indexes = village.execute(INDEXES).all()
    seen = _dropped_during(village, monkeypatch)
    report = run(village, households(120), commit=True)
    assert report.ok, report.to_text()
    assert seen == [True]
    assert village.execute(INDEXES).all() == indexes
    assert village.execute(text("SELECT count(*) FROM household WHERE grid_code = :g"),
                           {"g": f"{VILLAGE}001"}).scalar() == 120
    # the rebuilt indexes are used and hold every row
    assert village.execute(text("SELECT count(*) FROM household WHERE address LIKE '%镇11%'")).scalar() == 11
    again = run(village, households(120), commit=True)
    assert again.counts("household").unchanged == 120
    # the maps' kept count follows the bulk load (migration 0032)
    assert village.execute(text("SELECT households FROM household_count WHERE grid_code = :g"),
                           {"g": f"{VILLAGE}001"}).scalar() == 120
    # and so does what the `visit` rule reads of each household (migration 0034)
    kept = village.execute(text(VISIT_STATE_KEPT)).all()
    assert len(kept) == 120 and kept == visit_state_from_households(village)


def test_a_dry_run_and_a_small_import_keep_the_indexes(village, small_bulk, monkeypatch):
    seen = _dropped_during(village, monkeypatch)
    assert run(village, households(120)).ok  # dry run: would lock readers for nothing kept
    assert run(village, households(20), commit=True).ok  # under BULK_MIN_ROWS
    assert seen == [False, False]


def test_an_import_into_a_larger_table_keeps_the_indexes(village, small_bulk, monkeypatch):
    assert run(village, households(200), commit=True).ok
    village.exec_driver_sql("ANALYZE household")
    seen = _dropped_during(village, monkeypatch)
    assert run(village, households(60, start=1000), commit=True).ok
    assert seen == [False]


def test_no_transaction_commits_households_without_their_indexes(engine):
    with engine.connect() as connection:
        indexes = connection.execute(DROPPED).scalar()
        connection.rollback()
        connection.begin()
        assert connection.exec_driver_sql("SELECT household_indexes_drop()").scalar() == indexes - 2
        with pytest.raises(DBAPIError, match="dropped for a bulk load and not rebuilt"):
            connection.commit()
    with engine.connect() as connection:
        assert connection.execute(DROPPED).scalar() == indexes  # the refused commit rolled back


def test_the_app_cannot_reach_the_kept_definitions(connection):
    with pytest.raises(DBAPIError, match="permission denied"):
        connection.exec_driver_sql("INSERT INTO bulk_load.dropped_index VALUES ('household', 'x', 'SELECT 1')")
