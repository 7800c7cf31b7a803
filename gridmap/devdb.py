"""The private PostGIS cluster `make run` and `make test` use when DATABASE_URL is unset.

The cluster lives under var/pgdata (or under /var/lib/gridmap/<checkout hash> when the
unprivileged `postgres` user cannot reach the checkout, e.g. under a 0700 home).
It listens on 127.0.0.1 only, on a free port chosen once, with password auth.
Two roles: the superuser (`postgres`), used only to create databases and extensions,
and `gridmap`, the non-superuser owner the application connects as.
Connection details are written to var/db.json (mode 0600).

Only the standard library and psycopg2 are used so this runs before anything else.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from gridmap.errors import ConfigurationError  # standard library only, like this module

APP_ROLE = "gridmap"  # the application: owns nothing, may not create databases
OWNER_ROLE = "gridmap_owner"  # owns the database and its tables: migrations run as it
APP_DB = "gridmap"
SUPERUSER = "postgres"


class DevDbError(ConfigurationError):
    """The private cluster could not be set up; the message says what to do."""


def checkout_root() -> Path:
    """The checkout's top directory (where the Makefile is), or $GRIDMAP_HOME."""
    return Path(os.environ.get("GRIDMAP_HOME", Path(__file__).resolve().parent.parent))


def var_dir() -> Path:
    """Where runtime state lives: var/ of the checkout ($GRIDMAP_HOME if set)."""
    return checkout_root() / "var"


def state_file() -> Path:
    """var/db.json: the private cluster's port, URLs and passwords (mode 0600)."""
    return var_dir() / "db.json"


def _pg_bindir() -> Path:
    """Newest installed PostgreSQL server that has PostGIS next to it."""
    candidates = []
    for bindir in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(bindir).parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists():
            candidates.append((int(version), Path(bindir)))
    if not candidates:
        raise DevDbError(
            "PostgreSQL with PostGIS is not installed. Run as root:\n"
            "  apt-get update && apt-get install -y postgresql-15-postgis-3\n"
            "or set DATABASE_URL to an existing PostGIS database."
        )
    return max(candidates)[1]


def _is_root() -> bool:
    return os.geteuid() == 0


def _run_as_owner(args: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a PostgreSQL server binary as the unprivileged owner (postgres refuses root)."""
    if _is_root():
        args = ["runuser", "-u", SUPERUSER, "--", *args]
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw)


def _postgres_can_reach(path: Path) -> bool:
    """True when the `postgres` user can traverse every directory down to `path`."""
    try:
        subprocess.run(
            ["runuser", "-u", SUPERUSER, "--", "test", "-x", str(path)],
            check=True, capture_output=True,
        )
        return True
    except subprocess.CalledProcessError:
        return False


def cluster_dir() -> Path:
    """Where the cluster's files live for this checkout."""
    local = var_dir() / "pgdata"
    if not _is_root():
        return local
    recorded = _read_state().get("cluster_dir")
    if recorded:
        return Path(recorded)
    var_dir().mkdir(parents=True, exist_ok=True)
    if _postgres_can_reach(var_dir()):
        return local
    digest = hashlib.sha1(str(checkout_root()).encode()).hexdigest()[:12]
    return Path("/var/lib/gridmap") / digest / "pgdata"


def _read_state() -> dict:
    try:
        return json.loads(state_file().read_text())
    except FileNotFoundError:
        return {}


def _write_state(state: dict) -> None:
    var_dir().mkdir(parents=True, exist_ok=True)
    tmp = state_file().with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    # Created 0600: the passwords are never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(state, indent=2))
    tmp.replace(state_file())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _url(user: str, password: str, port: int, dbname: str) -> str:
    return f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{port}/{dbname}"


def _initdb(pgdata: Path, bindir: Path, state: dict) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    pgdata.chmod(0o700)
    fd, pwfile = tempfile.mkstemp(prefix="gridmap-pw-")
    with os.fdopen(fd, "w") as f:
        f.write(state["superuser_password"] + "\n")
    if _is_root():
        shutil.chown(pgdata, SUPERUSER, SUPERUSER)
        shutil.chown(pwfile, SUPERUSER, SUPERUSER)
    try:
        _run_as_owner([
            str(bindir / "initdb"), "-D", str(pgdata), "-U", SUPERUSER,
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8",
        ])
    finally:
        os.unlink(pwfile)
    conf = (
        "\n# gridmap private cluster\n"
        f"port = {state['port']}\n"
        "listen_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{pgdata}'\n"
        "max_connections = 200\n"
        "shared_buffers = 256MB\n"
    )
    _run_as_owner(["sh", "-c", f"cat >> '{pgdata}/postgresql.conf'"], input=conf)


def _running(pgdata: Path, bindir: Path) -> bool:
    try:
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(pgdata), "status"])
        return True
    except subprocess.CalledProcessError:
        return False


def _start(pgdata: Path, bindir: Path) -> None:
    log = pgdata / "server.log"
    try:
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(log), "-w", "start"])
    except subprocess.CalledProcessError as exc:
        tail = log.read_text()[-2000:] if log.exists() else exc.stderr
        raise DevDbError(f"the private PostgreSQL cluster did not start:\n{tail}") from exc


def _bootstrap_roles(state: dict) -> None:
    """Two roles and one database, converging an older cluster where the app owned it all.

    The owner role owns the database, its schema and tables and runs the migrations; the
    application's role owns nothing, cannot create databases, and gets the privileges
    `gridmap.migrate.grant_app_role` gives (no UPDATE/DELETE on the ledgers).
    """
    import psycopg2

    admin = psycopg2.connect(state["admin_url"])
    admin.autocommit = True
    with admin.cursor() as cur:
        for role, password in ((OWNER_ROLE, state["owner_password"]),
                               (APP_ROLE, state["app_password"])):
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                        "PASSWORD %s", (password,))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (APP_DB,))
        if not cur.fetchone():
            cur.execute(f"CREATE DATABASE {APP_DB} OWNER {OWNER_ROLE}")
        cur.execute(f"ALTER DATABASE {APP_DB} OWNER TO {OWNER_ROLE}")
    admin.close()
    database = psycopg2.connect(_with_database(state["admin_url"], APP_DB))
    database.autocommit = True
    with database.cursor() as cur:
        cur.execute(f"REASSIGN OWNED BY {APP_ROLE} TO {OWNER_ROLE}")
        cur.execute(f"ALTER SCHEMA public OWNER TO {OWNER_ROLE}")
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    database.close()
    ensure_postgis(_with_database(state["admin_url"], APP_DB))


def _with_database(url: str, dbname: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{dbname}"


def ensure_postgis(db_url: str) -> None:
    """Create the postgis extension in the database at `db_url` unless it is there already."""
    import psycopg2

    try:
        conn = psycopg2.connect(db_url)
    except psycopg2.OperationalError as exc:
        raise DevDbError(f"cannot connect to the database: {str(exc).strip()}\n"
                         "Check DATABASE_URL (host, port, user, password, database).") from exc
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg2.Error as exc:
        raise DevDbError(
            f"the postgis extension is not usable there ({str(exc).strip()}). Install PostGIS on "
            "that server and ask its owner to run CREATE EXTENSION postgis in the database.") from exc
    finally:
        conn.close()


def ensure() -> dict:
    """Bring the private cluster up (creating it on first use); return its state."""
    if os.environ.get("DATABASE_URL"):
        state = {"url": os.environ["DATABASE_URL"], "admin_url": admin_url()}
        ensure_postgis(state["url"])
        return state
    bindir = _pg_bindir()
    state = _read_state()
    pgdata = cluster_dir()
    if not (pgdata / "PG_VERSION").exists():
        state = {
            "cluster_dir": str(pgdata),
            "port": _free_port(),
            "superuser_password": secrets.token_urlsafe(24),
            "app_password": secrets.token_urlsafe(24),
        }
        port = state["port"]
        state["admin_url"] = _url(SUPERUSER, state["superuser_password"], port, "postgres")
        state["url"] = _url(APP_ROLE, state["app_password"], port, APP_DB)
        _write_state(state)
        _initdb(pgdata, bindir, state)
    if "owner_url" not in state:  # a cluster made before the owner role existed
        state["owner_password"] = secrets.token_urlsafe(24)
        state["owner_url"] = _url(OWNER_ROLE, state["owner_password"], state["port"], APP_DB)
        _write_state(state)
    if not _running(pgdata, bindir):
        _start(pgdata, bindir)
    _bootstrap_roles(state)
    return state


def stop() -> None:
    """Stop the private cluster (its data stays)."""
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set: that server is not ours to stop.")
        return
    pgdata = cluster_dir()
    if not (pgdata / "PG_VERSION").exists():
        print("no private cluster here.")
        return
    bindir = _pg_bindir()
    if _running(pgdata, bindir):
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"])
        print(f"stopped the private cluster in {pgdata}")
    else:
        print("the private cluster is not running.")


def destroy() -> None:
    """Stop and delete the private cluster and its state (make clean-db)."""
    stop()
    pgdata = cluster_dir()
    if pgdata.exists():
        shutil.rmtree(pgdata)
    if pgdata.parent.parent == Path("/var/lib/gridmap"):
        shutil.rmtree(pgdata.parent, ignore_errors=True)
    state_file().unlink(missing_ok=True)


def app_url() -> str | None:
    """The application's database URL: DATABASE_URL, else the private cluster's, else None."""
    return os.environ.get("DATABASE_URL") or _read_state().get("url")


def owner_url() -> str | None:
    """A URL of the role that owns the tables (migrations run as it).

    GRIDMAP_OWNER_DATABASE_URL, else the private cluster's owner; with only DATABASE_URL
    set, that URL (and then the ledgers' protection rests on its database administrator).
    """
    return (os.environ.get("GRIDMAP_OWNER_DATABASE_URL") or os.environ.get("DATABASE_URL")
            or _read_state().get("owner_url"))


def admin_url() -> str | None:
    """A URL with the right to create databases and the postgis extension."""
    return (os.environ.get("GRIDMAP_ADMIN_DATABASE_URL") or os.environ.get("DATABASE_URL")
            or _read_state().get("admin_url"))


def main(argv: list[str]) -> int:
    """`python -m gridmap.devdb ensure|stop|destroy` (works without the venv)."""
    command = argv[0] if argv else "ensure"
    try:
        if command == "ensure":
            started = time.monotonic()
            ensure()
            print(f"database ready ({time.monotonic() - started:.1f} s)")
        elif command == "stop":
            stop()
        elif command == "destroy":
            destroy()
        else:
            print(f"usage: python -m gridmap.devdb ensure|stop|destroy (got {command!r})")
            return 2
    except DevDbError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
