"""The one clock: every "now" in gridmap comes from here.

Tests and operators pin it with GRIDMAP_NOW (ISO 8601, e.g. 2026-11-23T09:00:00+08:00).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


class ClockError(ValueError):
    """GRIDMAP_NOW is set but is not an ISO time with a zone."""
    pass


def now() -> datetime:
    """The current time, timezone-aware; GRIDMAP_NOW overrides the system clock."""
    pinned = os.environ.get("GRIDMAP_NOW")
    if not pinned:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(pinned)
    except ValueError as exc:
        raise ClockError(
            f"GRIDMAP_NOW={pinned!r} is not an ISO 8601 time; use e.g. 2026-11-23T09:00:00+08:00"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
