"""Settings from the environment and var/, in one place. Read when the app is made, never at import."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from gridmap import devdb
from gridmap.db import CONNECT_TIMEOUT_SECONDS, STATEMENT_TIMEOUT_SECONDS
from gridmap.errors import ConfigurationError


class ConfigError(ConfigurationError):
    """The environment does not say enough to run (no database yet, say)."""


def _secret_key(var: Path) -> str:
    """A secret key kept in var/secret_key, generated on first run."""
    path = var / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes", "on")


def _whole_number(name: str, raw: str | None) -> int:
    if not (raw or "").strip():
        return 0
    if not raw.strip().isdigit():
        raise ConfigError(f"{name}={raw!r}: give a whole number (how many proxies are in front)")
    return int(raw)


def _bounded(name: str, raw: str | None, default: int, low: int, high: int, what: str) -> int:
    """The whole number setting `name` (`default` when unset), refused outside low..high with
    what it means."""
    if not (raw or "").strip():
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name}={raw!r}: give {what}")
    return int(raw)


def _threads(raw: str | None) -> int:
    return _bounded("GRIDMAP_THREADS", raw, 8, 1, 64, "the request threads per worker (1-64)")


def _connect_timeout(raw: str | None) -> int:
    return _bounded("GRIDMAP_DB_CONNECT_TIMEOUT", raw, CONNECT_TIMEOUT_SECONDS, 2, 60,
                    "the seconds a new database connection may take (2-60; below gunicorn's 30 s"
                    " worker timeout)")


def _statement_timeout(raw: str | None) -> int:
    return _bounded("GRIDMAP_STATEMENT_TIMEOUT", raw, STATEMENT_TIMEOUT_SECONDS, 1, 600,
                    "the seconds one database statement of a web request may run (1-600)")


@dataclass
class Config:
    """The settings the app runs with: database, secret key, county, basemap, locale."""
    database_url: str
    secret_key: str
    county_code: str = "532329"
    basemap: str = "none"
    basemap_attribution: str | None = None
    basemap_crs: str = "wgs84"  # the tiles' datum: wgs84 (also CGCS2000) or gcj02
    basemap_subdomains: str = "abc"  # what {s} in the URL stands for, one character each
    https: bool = False  # served over HTTPS (directly or behind a proxy): Secure cookies, HSTS
    proxy_hops: int = 0  # proxies in front whose X-Forwarded-* headers are trusted
    trusted_hosts: tuple[str, ...] = ()  # Host headers answered (empty: any)
    threads: int = 8  # request threads per process (gunicorn --threads): the pool's size
    db_connect_timeout: int = CONNECT_TIMEOUT_SECONDS  # seconds a new database connection may take (gridmap.db)
    statement_timeout: int = STATEMENT_TIMEOUT_SECONDS  # seconds a web request's statement may run (gridmap.db)
    default_locale: str = "zh_CN"
    extra: dict = field(default_factory=dict)

    @staticmethod
    def database_url_from_env() -> str:
        """The database URL in use: DATABASE_URL, else the private cluster's (the one way)."""
        url = devdb.app_url()
        if not url:
            raise ConfigError(
                "no database: set DATABASE_URL, or run `make run` once to create the private cluster"
            )
        return url

    @classmethod
    def from_env(cls) -> Config:
        """Settings from the environment and var/ (the secret key is generated there)."""
        return cls(
            database_url=cls.database_url_from_env(),
            secret_key=os.environ.get("GRIDMAP_SECRET_KEY") or _secret_key(devdb.var_dir()),
            county_code=os.environ.get("GRIDMAP_COUNTY", "532329"),
            basemap=os.environ.get("GRIDMAP_BASEMAP", "none"),
            basemap_attribution=os.environ.get("GRIDMAP_BASEMAP_ATTRIBUTION"),
            basemap_crs=os.environ.get("GRIDMAP_BASEMAP_CRS", "wgs84"),
            basemap_subdomains=os.environ.get("GRIDMAP_BASEMAP_SUBDOMAINS", "abc"),
            https=_flag(os.environ.get("GRIDMAP_HTTPS")),
            proxy_hops=_whole_number("GRIDMAP_PROXY_HOPS", os.environ.get("GRIDMAP_PROXY_HOPS")),
            trusted_hosts=tuple(h.strip() for h in os.environ.get(
                "GRIDMAP_TRUSTED_HOSTS", "").split(",") if h.strip()),
            threads=_threads(os.environ.get("GRIDMAP_THREADS")),
            db_connect_timeout=_connect_timeout(os.environ.get("GRIDMAP_DB_CONNECT_TIMEOUT")),
            statement_timeout=_statement_timeout(os.environ.get("GRIDMAP_STATEMENT_TIMEOUT")),
        )

    @property
    def ledger_warning(self) -> str | None:
        """Said at start-up when the app's own database role may own the ledgers."""
        if os.environ.get("DATABASE_URL") and not os.environ.get("GRIDMAP_OWNER_DATABASE_URL"):
            return ("DATABASE_URL is set without GRIDMAP_OWNER_DATABASE_URL: if the application's "
                    "role owns the tables, the append-only ledgers (issue events) are protected only "
                    "by the database administrator. Give the owner's URL in "
                    "GRIDMAP_OWNER_DATABASE_URL so migrations run as it and the app gets only the "
                    "privileges it needs.")
        return None

    def flask_settings(self) -> dict:
        """The Flask config keys these settings become."""
        from gridmap.backup import files_dir
        from gridmap.importers.uploads import uploads_dir

        return {
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "GRIDMAP_COUNTY": self.county_code,
            "GRIDMAP_BASEMAP": self.basemap,
            "GRIDMAP_BASEMAP_ATTRIBUTION": self.basemap_attribution,
            "GRIDMAP_BASEMAP_CRS": self.basemap_crs,
            "GRIDMAP_BASEMAP_SUBDOMAINS": self.basemap_subdomains,
            "GRIDMAP_HTTPS": self.https,
            "GRIDMAP_PROXY_HOPS": self.proxy_hops,
            "GRIDMAP_TRUSTED_HOSTS": self.trusted_hosts,
            "GRIDMAP_THREADS": self.threads,
            "GRIDMAP_DB_CONNECT_TIMEOUT": self.db_connect_timeout,
            "GRIDMAP_STATEMENT_TIMEOUT": self.statement_timeout,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            # Tablets stay signed in for a month: no forced periodic log-ins (基层减负).
            "REMEMBER_COOKIE_DURATION": timedelta(days=30),
            "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
            "GRIDMAP_FILES_DIR": str(files_dir()),  # stored photos (gridmap.files)
            "GRIDMAP_UPLOADS_DIR": str(uploads_dir()),  # files kept for an import (importers.uploads)
            **self.extra,
        }
