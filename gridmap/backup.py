"""Backup and restore: the database (pg_dump custom format, as the owner role) and the stored
files under var/files, with a manifest of per-table checksums. Core: no web, no click.

    write_backup(owner_url, Path("var/backups/2026-12-01"))       # → database.dump, files.tar,
                                                                   #   manifest.json
    restore_backup(Path("var/backups/2026-12-01"), owner_url, "gridmap")

A restore goes into an **empty** database (PostGIS installed, owned by the owner role), then
gives the application's role its privileges again and checks every table's checksum against
the manifest. The data key (var/data.key or GRIDMAP_DATA_KEY) is *not* in a backup: ID numbers
stay ciphertext without it, so keep the key apart from the backups (see the README).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gridmap.errors import ConfigurationError

DUMP = "database.dump"
FILES = "files.tar"
MANIFEST = "manifest.json"


class BackupError(ConfigurationError):
    """A backup or restore that cannot go on (no pg_dump, a database not empty, a mismatch)."""


FILES_ENV = "GRIDMAP_FILES_DIR"


def files_dir() -> Path:
    """Where stored files (photos, attachments) live: $GRIDMAP_FILES_DIR, else var/files."""
    from gridmap import devdb

    return Path(os.environ.get(FILES_ENV) or devdb.var_dir() / "files")


def _libpq_env(url: str) -> tuple[dict, str]:
    """The environment for pg_dump/pg_restore (password in PGPASSWORD, never on argv) and the
    database name."""
    parts = urlsplit(url.replace("postgresql+psycopg2://", "postgresql://"))
    env = {**os.environ, "PGHOST": parts.hostname or "localhost", "PGPORT": str(parts.port or 5432),
           "PGUSER": unquote(parts.username or "")}
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env, unquote(parts.path.lstrip("/"))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client-15)")
    return path


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")
    return done


def table_checksums(url: str) -> dict[str, dict]:
    """Every table of the public schema (PostGIS's own aside): rows and the md5 of its rows'
    text in order, so two databases with the same rows give the same figures."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            return checksums_of(cur)
    finally:
        conn.close()


def checksums_of(cur) -> dict[str, dict]:
    """`table_checksums` on an open DB-API cursor (it sees that connection's own transaction)."""
    from psycopg2 import sql

    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'spatial_ref_sys' ORDER BY tablename")
    tables = [name for (name,) in cur.fetchall()]
    sums = {}
    for table in tables:
        cur.execute(sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n'"
                            " ORDER BY t::text), '')) FROM {} AS t")
                    .format(sql.Identifier(table)))
        rows, digest = cur.fetchone()
        sums[table] = {"rows": rows, "md5": digest}
    return sums


def _file_digests(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def write_backup(owner_url: str, out: Path, stored_files: Path | None = None) -> dict:
    """Dump the database and pack the stored files into `out` (made 0700); returns the manifest."""
    stored_files = stored_files or files_dir()
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(out, 0o700)  # personal data: the owner alone reads a backup
    if any(out.iterdir()):
        raise BackupError(f"{out} is not empty: give a new directory for each backup")
    env, dbname = _libpq_env(owner_url)
    dump = out / DUMP
    # spatial_ref_sys belongs to PostGIS (it comes with the extension), not to gridmap
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
          "--exclude-table-data=spatial_ref_sys", f"--file={dump}", dbname], env)
    with tarfile.open(out / FILES, "w") as tar:
        if stored_files.is_dir():
            tar.add(stored_files, arcname=".")
    manifest = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": dbname,
        "tables": table_checksums(owner_url),
        "files": _file_digests(stored_files),
        "data_key": "not included: keep var/data.key (or GRIDMAP_DATA_KEY) apart from backups",
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    for path in out.iterdir():
        os.chmod(path, 0o600)
    return manifest


def _is_empty(url: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'spatial_ref_sys'")
            return cur.fetchone()[0] == 0
    finally:
        conn.close()


def _plain_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Regular files and directories inside the archive's root only (no links, devices,
    absolute paths or `..`): this Python's tarfile may predate extraction filters."""
    members = []
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if not (member.isfile() or member.isdir()) or member.name.startswith("/") or ".." in parts:
            raise BackupError(f"{FILES}: refusing {member.name!r} (only plain files are restored)")
        member.mode &= 0o750
        members.append(member)
    return members


# Extensions the dump needs that the database's owner may create itself (trusted since
# PostgreSQL 13); PostGIS is not one of them and is made with the database.
TRUSTED_EXTENSIONS = ("pg_trgm",)


def _create_trusted_extensions(owner_url: str, listing: str) -> None:
    """CREATE EXTENSION for each trusted extension the dump's table of contents names (its
    operator classes are used by indexes, e.g. search's trigram indexes)."""
    from sqlalchemy import text

    from gridmap.db import make_engine

    needed = [name for name in TRUSTED_EXTENSIONS
              if any(" EXTENSION " in line and line.split()[-1] == name for line in listing.splitlines())]
    if not needed:
        return
    engine = make_engine(owner_url)
    try:
        with engine.begin() as connection:
            for name in needed:
                connection.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
    finally:
        engine.dispose()


def restore_backup(backup: Path, owner_url: str, app_role: str | None,
                   stored_files: Path | None = None) -> dict:
    """Restore `backup` into the empty database at `owner_url` and the stored files; grant the
    app role; check the checksums. Returns the manifest. Raises BackupError on any mismatch."""
    from gridmap.migrate import grant_app_role

    stored_files = stored_files or files_dir()
    manifest = json.loads((backup / MANIFEST).read_text())
    if not _is_empty(owner_url):
        raise BackupError("the target database already has tables: restore into an empty one "
                          "(gridmap db ensure on a new cluster, or CREATE DATABASE … OWNER the owner)")
    if stored_files.is_dir() and any(stored_files.iterdir()):
        raise BackupError(f"{stored_files} is not empty: move it aside before restoring")
    env, dbname = _libpq_env(owner_url)
    # PostGIS is installed by whoever made the database (creating it needs a superuser), so the
    # dump's extension entries are left out; everything else goes in as the owner role.
    listing = _run([_tool("pg_restore"), "--list", str(backup / DUMP)], env).stdout
    wanted = "\n".join(line for line in listing.splitlines()
                        if " EXTENSION " not in line and " spatial_ref_sys " not in line)
    _create_trusted_extensions(owner_url, listing)
    toc = backup / ".restore.list"
    toc.write_text(wanted + "\n")
    try:
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--use-list={toc}", f"--dbname={dbname}",
              str(backup / DUMP)], env)
    finally:
        toc.unlink(missing_ok=True)
    if app_role and app_role != env["PGUSER"]:
        grant_app_role(owner_url, app_role)
    with tarfile.open(backup / FILES) as tar:
        stored_files.mkdir(parents=True, exist_ok=True)
        tar.extractall(stored_files, members=_plain_members(tar))
    differing = [table for table, sums in table_checksums(owner_url).items()
                 if manifest["tables"].get(table) != sums]
    differing += [f"file {name}" for name, digest in _file_digests(stored_files).items()
                  if manifest["files"].get(name) != digest]
    if differing or set(manifest["files"]) - set(_file_digests(stored_files)):
        raise BackupError(f"restored data differs from the backup's manifest: {differing}")
    return manifest
