"""gridmap: 民情地图 grid management for Chinese counties."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from gridmap.config import Config


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the Flask app. With no argument, settings come from the environment and var/."""
    from flask import Flask

    from gridmap.config import Config
    from gridmap.web import register

    if config is None:
        config = Config.from_env()
        # Read the data key now: under gunicorn --preload the master (root) reads var/'s 0600
        # file and the workers, run as an unprivileged user, inherit it (gridmap.datakey).
        from gridmap import datakey

        datakey.cipher()
    app = Flask(__name__, static_folder=None, template_folder="web/templates")
    if isinstance(config, Config):
        app.config.update(config.flask_settings())
    else:
        base = Config(database_url=config["DATABASE_URL"], secret_key=config.get("SECRET_KEY", "test"))
        app.config.update(base.flask_settings())
        app.config.update(config)
    register(app)
    if isinstance(config, Config) and config.ledger_warning:
        app.logger.warning(config.ledger_warning)
    return app
