"""`gridmap demo load` as make run calls it: it must really commit, and only once."""

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gridmap.cli import main
from gridmap.db import make_engine
from gridmap.demo.load import DEMO_DIR


@pytest.fixture
def fresh_database(fresh_database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    return fresh_database_url


def counts(url):
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT (SELECT count(*) FROM region), (SELECT count(*) FROM household),"
            " (SELECT count(*) FROM app_user)")).one()
    engine.dispose()
    return tuple(row)


def rows_in(name):
    """Rows of a demo file: features of a GeoJSON (one a line), records of a CSV."""
    lines = (DEMO_DIR / name).read_text(encoding="utf-8").splitlines()
    return sum(line.startswith('{"type":"Feature"') for line in lines) if name.endswith(".geojson") \
        else len(lines) - 1


def test_demo_load_commit_if_empty_writes_once(fresh_database):
    runner = CliRunner()
    dry = runner.invoke(main, ["demo", "load"])
    assert dry.exit_code == 0, dry.output
    assert counts(fresh_database) == (0, 0, 0)

    first = runner.invoke(main, ["demo", "load", "--commit", "--if-empty"])
    assert first.exit_code == 0, first.output
    regions, households, users = counts(fresh_database)
    assert (regions, households, users) == (
        rows_in("regions.geojson"), rows_in("households.geojson"), rows_in("users.csv"))

    again = runner.invoke(main, ["demo", "load", "--commit", "--if-empty"])
    assert again.exit_code == 0 and "already has regions" in again.output
    assert counts(fresh_database) == (regions, households, users)
