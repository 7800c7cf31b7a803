"""`gridmap backup` / `gridmap restore` (core: gridmap.backup). Plain commands: they need the
database's URLs, not the app."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from gridmap import devdb
from gridmap.cli.common import database_url, refused

KEY_REMINDER = ("The data key is NOT in this backup. Without it the ID numbers cannot be read: "
                "keep a copy of var/data.key (or GRIDMAP_DATA_KEY) apart from the backups, "
                "e.g. printed and locked away, and restore it beside them.")


def _owner_url() -> str:
    return devdb.owner_url() or database_url()


@click.command("backup")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="a new directory (default: var/backups/<UTC time>)")
def backup_command(out):
    """Back up the database (pg_dump custom format, as the owner role) and var/files."""
    from gridmap.backup import BackupError, write_backup

    out = out or devdb.var_dir() / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        manifest = write_backup(_owner_url(), out)
    except BackupError as exc:
        raise refused(exc) from exc
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backed up {len(manifest['tables'])} tables ({rows} rows) and "
               f"{len(manifest['files'])} stored files to {out}")
    click.echo(KEY_REMINDER)


@click.command("restore")
@click.argument("backup", type=click.Path(file_okay=False, exists=True, path_type=Path))
def restore_command(backup):
    """Restore BACKUP into the (empty) database in use and var/files; checksums are checked."""
    from gridmap.backup import BackupError, restore_backup

    app_role = urlsplit(database_url()).username
    try:
        manifest = restore_backup(backup, _owner_url(), app_role)
    except BackupError as exc:
        raise refused(exc) from exc
    click.echo(f"restored {len(manifest['tables'])} tables and {len(manifest['files'])} stored "
               f"files from {backup}; every checksum matches the backup's")
    click.echo(KEY_REMINDER)
