"""Run Alembic from code, and give the application's role its privileges.

`gridmap db upgrade`, `make run`/`make test` and the tests all take this one path: the
migrations run as the role that owns the tables; then `grant_app_role` gives the
application's role what it may do, and no more: read and write the working tables,
only read and append the ledgers (`models.LEDGER_TABLES`), never change the schema.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> AlembicConfig:
    """Alembic's configuration for gridmap/migrations, on `url` if given."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)


def heads() -> list[str]:
    """The migration heads (there must be exactly one)."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def grant_app_role(owner_url: str, app_role: str) -> None:
    """Give `app_role` its privileges on every table and sequence the owner has (idempotent)."""
    import psycopg2
    from psycopg2 import sql

    from gridmap.models import LEDGER_TABLES

    role = sql.Identifier(app_role)
    conn = psycopg2.connect(owner_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tableowner = current_user")
            for (table,) in cur.fetchall():
                if table in LEDGER_TABLES:
                    privileges = "SELECT, INSERT"
                elif table == "alembic_version":
                    privileges = "SELECT"
                else:
                    privileges = "SELECT, INSERT, UPDATE, DELETE"
                name = sql.Identifier(table)
                cur.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(name, role))
                cur.execute(sql.SQL(f"GRANT {privileges} ON {{}} TO {{}}").format(name, role))
            cur.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}")
                        .format(role))
    finally:
        conn.close()


def prepare(owner_url: str, app_url: str, revision: str = "head") -> None:
    """Migrate as the owner, then grant the application's role (when it is another role)."""
    upgrade(owner_url, revision)
    app_role = urlsplit(app_url).username
    if app_role and app_role != urlsplit(owner_url).username:
        grant_app_role(owner_url, app_role)
