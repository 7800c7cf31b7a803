"""Bulk loading: an import that adds at least as many households as the table held drops
`household`'s secondary indexes inside its own transaction and rebuilds them before it
commits, as pg_restore does (migration 0029: the functions, and a guard refusing a commit
without them).

Why: maintaining two trigram GINs, a GiST and the btrees row by row cost a county's first
load of 300,000 households about three times its inserts; one build over the loaded table
costs a fraction of that. The price: DROP INDEX takes an ACCESS EXCLUSIVE lock on
`household` until the import's transaction ends, so pages reading households wait for the
import (seconds, for a county's first load). That is acceptable only when the import is
most of the table, hence the rule in `BulkLoad.before`: never for a dry run (it would lock
readers for nothing it keeps), never for an import smaller than one batch, and only once
the rows coming reach the rows stored (an import into a table of other counties' millions
keeps the indexes, which are then the cheaper path).
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable

from sqlalchemy.engine import Connection

# Fewer rows than this never take the lock (one batch of the streamed import).
BULK_MIN_ROWS = 20_000
# Memory for each index build (transaction-local): a GIN build sorts in it.
REBUILD_MEMORY = "256MB"


class BulkLoad:
    """Decides, batch by batch, whether one import's households drop the indexes, and
    rebuilds them once its file is written."""

    def __init__(self, connection: Connection, commit: bool):
        self.connection = connection
        self.commit = commit
        self.stored: int | None = None  # households in the table before this import
        self.coming = 0  # rows this import has handed to the table so far
        self.dropped = False

    def before(self, rows: int) -> None:
        """Called before `rows` more households are written."""
        self.coming += rows
        if self.dropped or not self.commit or self.coming < BULK_MIN_ROWS:
            return
        if self.stored is None:
            self.stored = _rows_in_household(self.connection)
        if self.coming >= self.stored:
            self.connection.exec_driver_sql("SELECT household_indexes_drop()")
            self.dropped = True

    def finish(self) -> None:
        """Rebuild what `before` dropped (inside the same transaction, before any commit)."""
        if not self.dropped:
            return
        self.connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{REBUILD_MEMORY}'")
        self.connection.exec_driver_sql("SELECT household_indexes_rebuild()")
        self.dropped = False


def _rows_in_household(connection: Connection) -> int:
    """The planner's count of households (kept by VACUUM/ANALYZE), exact when it has none."""
    estimate = connection.exec_driver_sql(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = 'household'::regclass").scalar()
    if estimate is None or estimate < 0:
        return connection.exec_driver_sql("SELECT count(*) FROM household").scalar()
    return estimate


# Parsed rows are dicts, tuples and strings that form no reference cycles, yet every 700 new
# objects the collector walks the young ones and every few of those walks older generations
# too: about a third of parsing a county's households. While an import runs the first
# threshold is raised (process-wide, so counted across imports running in threads).
GC_FIRST_THRESHOLD = 100_000
_gc_lock = threading.Lock()
_gc_imports = 0
_gc_saved: tuple[int, int, int] | None = None


def fewer_collections(function: Callable) -> Callable:
    """Run `function` with the collector's first threshold raised (restored by the last
    import to finish)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global _gc_imports, _gc_saved
        with _gc_lock:
            if _gc_imports == 0:
                _gc_saved = gc.get_threshold()
                gc.set_threshold(max(_gc_saved[0], GC_FIRST_THRESHOLD), *_gc_saved[1:])
            _gc_imports += 1
        try:
            return function(*args, **kwargs)
        finally:
            with _gc_lock:
                _gc_imports -= 1
                if _gc_imports == 0:
                    gc.set_threshold(*_gc_saved)
    return wrapper
