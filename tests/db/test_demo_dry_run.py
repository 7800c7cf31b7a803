"""A dry run of the demo load counts everything and writes nothing.

Kept apart from test_demo_load.py, whose module-wide load holds the demo's keys
until that module ends.
"""

from datetime import UTC, datetime

from sqlalchemy import text

from gridmap.demo.load import DEMO_DIR, load_demo

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_dry_run_of_the_demo_writes_nothing(connection):
    report = load_demo(connection, commit=False, now=NOW)
    households = (DEMO_DIR / "households.geojson").read_text(encoding="utf-8").count('{"type":"Feature"')
    assert report.ok and not report.committed and report.counts("household").inserted == households
    assert connection.execute(text("SELECT count(*) FROM household")).scalar_one() == 0
