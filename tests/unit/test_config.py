"""create_app() with no arguments reads the environment and var/ (a secret key made once)."""

import stat

import pytest

from gridmap.config import Config, ConfigError


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_HOME", str(tmp_path))
    for name in ("DATABASE_URL", "GRIDMAP_SECRET_KEY", "GRIDMAP_BASEMAP", "GRIDMAP_COUNTY",
                 "GRIDMAP_THREADS", "GRIDMAP_DB_CONNECT_TIMEOUT", "GRIDMAP_STATEMENT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_without_a_database_the_message_says_what_to_do(checkout):
    with pytest.raises(ConfigError, match="set DATABASE_URL, or run `make run`"):
        Config.from_env()


def test_secret_key_is_generated_once_and_kept_private(checkout, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    first = Config.from_env().secret_key
    key_file = checkout / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Config.from_env().secret_key == first and len(first) >= 64


def test_environment_overrides(checkout, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    monkeypatch.setenv("GRIDMAP_SECRET_KEY", "from-env")
    monkeypatch.setenv("GRIDMAP_COUNTY", "530681")
    config = Config.from_env()
    assert (config.secret_key, config.county_code) == ("from-env", "530681")
    assert not (checkout / "var" / "secret_key").exists()


def test_tablets_stay_signed_in_for_a_month(checkout, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    settings = Config.from_env().flask_settings()
    assert settings["REMEMBER_COOKIE_DURATION"].days >= 30


def test_the_database_pool_has_a_connection_for_every_request_thread(checkout, monkeypatch):
    from gridmap import create_app

    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    monkeypatch.setenv("GRIDMAP_THREADS", "12")
    config = Config.from_env()
    assert config.threads == 12
    app = create_app(config)
    assert app.extensions["gridmap.engine"].pool.size() == 12
    monkeypatch.setenv("GRIDMAP_THREADS", "many")
    with pytest.raises(ConfigError, match="GRIDMAP_THREADS"):
        Config.from_env()


def test_the_database_connect_timeout_is_a_setting_below_the_workers_timeout(checkout,
                                                                             monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    assert Config.from_env().flask_settings()["GRIDMAP_DB_CONNECT_TIMEOUT"] == 10
    monkeypatch.setenv("GRIDMAP_DB_CONNECT_TIMEOUT", "5")
    assert Config.from_env().db_connect_timeout == 5
    for wrong in ("0", "90", "soon"):  # 0 would wait for ever; 90 past gunicorn's 30 s
        monkeypatch.setenv("GRIDMAP_DB_CONNECT_TIMEOUT", wrong)
        with pytest.raises(ConfigError, match="GRIDMAP_DB_CONNECT_TIMEOUT"):
            Config.from_env()


def test_a_web_statement_timeout_is_a_setting_and_never_off(checkout, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    assert Config.from_env().flask_settings()["GRIDMAP_STATEMENT_TIMEOUT"] == 30
    monkeypatch.setenv("GRIDMAP_STATEMENT_TIMEOUT", "120")
    assert Config.from_env().statement_timeout == 120
    for wrong in ("0", "601", "-5", "soon"):  # 0 would be no limit at all
        monkeypatch.setenv("GRIDMAP_STATEMENT_TIMEOUT", wrong)
        with pytest.raises(ConfigError, match="GRIDMAP_STATEMENT_TIMEOUT"):
            Config.from_env()
