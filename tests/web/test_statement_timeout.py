"""A web request's statement that runs too long is stopped by PostgreSQL (gridmap.db's
statement timeout) and answered with what to do; an import, whichever connection it runs on,
is not held to it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from gridmap import create_app
from gridmap.importers.core import Source, import_files
from gridmap.web.session import db_session

COUNTY = "532329"
SQUARE = [[[102.3, 25.4], [102.5, 25.4], [102.5, 25.6], [102.3, 25.6], [102.3, 25.4]]]
REGIONS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": "532329", "name": "武定县", "level": "county"},
     "geometry": {"type": "Polygon", "coordinates": SQUARE}}]}


@pytest.fixture
def timed_app(database_url, tmp_path):
    """The app on its own engine (not the test's connection), statements stopped at 0.2 s."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "GRIDMAP_STATEMENT_TIMEOUT": 0.2,
                      "GRIDMAP_FILES_DIR": str(tmp_path / "files"),
                      "GRIDMAP_UPLOADS_DIR": str(tmp_path / "uploads")})

    @app.route("/slow")
    def slow():
        db_session().execute(text("SELECT pg_sleep(3)"))
        return "finished"

    yield app
    app.extensions["gridmap.engine"].dispose()


def test_a_request_whose_query_runs_too_long_is_stopped_and_told_what_to_do(timed_app, caplog):
    response = timed_app.test_client().get("/slow")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "超过 0.2 秒仍未完成，已停止" in body and "请稍后重试" in body and "缩小范围" in body
    assert "canceling statement" not in body  # the server's words stay in the log
    assert any("statement timeout on GET /slow" in r.getMessage() for r in caplog.records)


def test_an_import_on_the_web_engine_is_not_held_to_the_statement_timeout(timed_app):
    engine = timed_app.extensions["gridmap.engine"]
    slow_steps = []

    def progress(stage: str, name: str, rows: int) -> None:
        # told on the import's own connection and transaction: a statement past 0.2 s
        connection.execute(text("SELECT pg_sleep(0.4)"))
        slow_steps.append(stage)

    with engine.connect() as connection:
        with pytest.raises(OperationalError) as stopped, connection.begin():
            connection.execute(text("SELECT pg_sleep(0.4)"))  # any other statement: stopped
        assert stopped.value.orig.pgcode == "57014"
        with connection.begin() as transaction:
            report = import_files(connection, [Source("regions.geojson", json.dumps(REGIONS).encode())],
                                  COUNTY, progress=progress)
            assert report.ok, report.to_text()
            assert slow_steps  # each went through
            transaction.rollback()
        # …and the next transaction on the same pooled connection has the timeout again
        with pytest.raises(OperationalError), connection.begin():
            connection.execute(text("SELECT pg_sleep(0.4)"))
