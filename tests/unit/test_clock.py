from datetime import UTC, datetime

import pytest

from gridmap import clock


def test_now_is_pinned_by_gridmap_now(monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    assert clock.now() == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_naive_pin_is_read_as_utc(monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00")
    assert clock.now().tzinfo is UTC


def test_bad_pin_names_the_variable(monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "yesterday")
    with pytest.raises(clock.ClockError, match="GRIDMAP_NOW"):
        clock.now()


def test_unpinned_clock_is_aware(monkeypatch):
    monkeypatch.delenv("GRIDMAP_NOW", raising=False)
    assert clock.now().tzinfo is not None
