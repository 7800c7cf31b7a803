"""gunicorn's hooks (scripts/serve.sh passes `--config python:gridmap.web.serving`)."""

from __future__ import annotations

from gridmap.db import warm


def post_worker_init(worker) -> None:
    """Before a worker takes its first request, fill its database pool (one connection per
    request thread, PostGIS loaded): a restart's first burst then costs what any other does.
    A database not reachable yet is left to the requests, which report it: warming gives up
    at its first connection, within the connect timeout (GRIDMAP_DB_CONNECT_TIMEOUT), well
    before gunicorn would kill a worker that has not started (its 30 s timeout)."""
    app = worker.wsgi
    try:
        warm(app.extensions["gridmap.engine"], app.config.get("GRIDMAP_THREADS", 8))
    except Exception as unreachable:  # noqa: BLE001 - serving must start; requests report it
        worker.log.warning("database pool not warmed: %s", unreachable)
