"""The demo county loaded through the import core into PostGIS."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from gridmap.demo.county import UNCOVERED_VILLAGE, VILLAGE_WITHOUT_LEADER
from gridmap.demo.load import load_demo
from gridmap.models import ISSUE_STATUSES
from gridmap.users import check_password

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def loaded(engine):
    """One load of the demo for the module, rolled back at its end."""
    with engine.connect() as connection:
        transaction = connection.begin()
        report = load_demo(connection, now=NOW)
        yield connection, report
        transaction.rollback()


def scalar(connection, sql, **params):
    return connection.execute(text(sql), params).scalar_one()


def test_demo_loads_with_the_counts_the_issue_asks(loaded):
    connection, report = loaded
    assert report.committed, report.to_text()
    assert report.seconds < 60
    assert scalar(connection, "SELECT count(*) FROM region WHERE level = 'township'") >= 3
    assert scalar(connection, "SELECT count(*) FROM region WHERE level = 'village'") >= 15
    assert scalar(connection, "SELECT count(*) FROM grid") >= 60
    assert scalar(connection, "SELECT count(*) FROM household") >= 5000
    assert 450 <= scalar(connection, "SELECT count(*) FROM issue") <= 550
    statuses = connection.execute(text("SELECT DISTINCT status FROM issue")).scalars().all()
    assert set(statuses) == set(ISSUE_STATUSES)
    assert scalar(connection, "SELECT count(DISTINCT kind) FROM assignment") == 7


def test_overdue_open_issues_are_overdue_at_load_time(loaded):
    connection, _ = loaded
    overdue = scalar(connection, "SELECT count(*) FROM issue WHERE status IN ('triaged', 'in_progress')"
                                 " AND handling_due < :now", now=NOW)
    on_time = scalar(connection, "SELECT count(*) FROM issue WHERE status IN ('triaged', 'in_progress')"
                                 " AND handling_due > :now", now=NOW)
    assert overdue >= 10 and on_time >= 10
    assert scalar(connection, "SELECT max(visited_at) FROM visit") <= NOW
    assert scalar(connection, "SELECT min(visited_at) FROM visit") >= NOW.replace(month=5)


def test_loading_the_demo_twice_changes_nothing(loaded):
    connection, _ = loaded
    events = scalar(connection, "SELECT count(*) FROM issue_event")
    again = load_demo(connection, now=NOW)
    assert again.committed, again.to_text()
    assert [(t.table, t.inserted, t.updated) for t in again.tables if t.inserted or t.updated] == []
    assert scalar(connection, "SELECT count(*) FROM issue_event") == events


def test_grids_tile_every_village_in_postgis_except_the_marked_gap(loaded):
    connection, _ = loaded
    uncovered = dict(connection.execute(text(
        "SELECT v.code, ST_Area(ST_Difference(v.geom, ST_Union(g.geom)))"
        " FROM region v JOIN grid g ON g.village_code = v.code GROUP BY v.code, v.geom")).all())
    assert {code for code, area in uncovered.items() if area > 0} == {UNCOVERED_VILLAGE}
    overlaps = scalar(connection, "SELECT count(*) FROM grid a JOIN grid b ON a.id < b.id"
                                  " AND ST_Relate(a.geom, b.geom, '2********')")
    assert overlaps == 0


def test_household_outside_every_grid_has_no_grid_code(loaded):
    connection, _ = loaded
    outside = connection.execute(text(
        "SELECT h.village_code, h.grid_code FROM household h WHERE h.geom IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM grid g WHERE ST_Intersects(g.geom, h.geom))")).all()
    assert outside and all(v == UNCOVERED_VILLAGE and g is None for v, g in outside)


def test_village_without_leader_has_no_village_assignment(loaded):
    connection, _ = loaded
    assert scalar(connection, "SELECT count(*) FROM assignment WHERE kind = 'village'"
                              " AND region_code = :v", v=VILLAGE_WITHOUT_LEADER) == 0


def test_demo_users_sign_in_with_demo_passwords(loaded):
    connection, _ = loaded
    users = connection.execute(text("SELECT login, password_hash FROM app_user")).all()
    assert len(users) == 9
    assert all(check_password(hashed, f"demo-{login}") for login, hashed in users[:2])

