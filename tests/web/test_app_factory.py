"""The app as `make run` builds it: create_app() with no arguments."""

from gridmap import create_app


def test_create_app_with_no_arguments_serves_healthz(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app()
    try:
        body = app.test_client().get("/healthz").get_json()
    finally:
        app.extensions["gridmap.engine"].dispose()
    assert body["database"] is True and body["postgis"]


def test_healthz_says_so_when_the_database_is_down(monkeypatch):
    app = create_app({"DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none", "SECRET_KEY": "t"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] is False
