"""EXPLAIN (ANALYZE, BUFFERS) of the queries a row runs, written to bench/results/plans/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.data import connect

PLANS = Path(__file__).resolve().parent / "results" / "plans"


def explain(url: str, name: str, statements: list[tuple[str, object]]) -> None:
    """Write the plans of `statements` ((sql, params) pairs) to plans/<name>.txt."""
    PLANS.mkdir(parents=True, exist_ok=True)
    parts = []
    conn = connect(url)  # with gridmap's session settings, as the rows run
    try:
        with conn.cursor() as cur:
            for sql, params in statements:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cur.fetchall())
                parts.append(f"-- query\n{sql.strip()}\n-- params {params!r}\n\n{plan}\n")
        conn.rollback()
    finally:
        conn.close()
    (PLANS / f"{name}.txt").write_text("\n".join(parts))


def captured(engine: Engine, action: Callable[[], object]) -> list[tuple[str, object]]:
    """The SQL statements (and parameters) `action` sends through `engine`."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements
