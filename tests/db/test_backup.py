"""Backup and restore: a round trip into an empty database gives the same rows (per-table
ordered-row checksums), the same stored files, the ledgers still append-only."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import psycopg2
import pytest
from support import load_demo_county

from gridmap import audit
from gridmap.backup import BackupError, restore_backup, table_checksums, write_backup
from gridmap.db import make_engine


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.fixture(scope="module")
def backed_up(test_databases, template_db, tmp_path_factory):
    """The demo county plus an audit event and two stored files, backed up."""
    url = test_databases.create(f"{test_databases.prefix}_backup_src", template=template_db)
    load_demo_county(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        audit.record(connection, "cli:tester", "import", "demo", {"note": "before backup"},
                     county_code="532329")
    engine.dispose()
    files = tmp_path_factory.mktemp("files")
    (files / "photos").mkdir()
    (files / "photos" / "visit-1.jpg").write_bytes(bytes(range(256)) * 40)
    (files / "readme.txt").write_text("走访照片\n")
    out = tmp_path_factory.mktemp("backups") / "b1"
    manifest = write_backup(test_databases.owner_url_of(_name(url)), out, files)
    return url, out, files, manifest


def test_a_backup_is_private_and_names_every_table(backed_up):
    url, out, _files, manifest = backed_up
    assert sorted(p.name for p in out.iterdir()) == ["database.dump", "files.tar", "manifest.json"]
    assert out.stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in out.iterdir())
    assert manifest["tables"]["household"]["rows"] == 5200
    assert manifest["tables"]["audit_event"]["rows"] >= 1
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert "data.key" in manifest["data_key"]


def test_a_round_trip_into_an_empty_database_gives_the_same_rows_and_files(
        backed_up, test_databases, tmp_path):
    url, out, files, manifest = backed_up
    target = f"{test_databases.prefix}_restored"
    app_url = test_databases.create(target)  # empty: PostGIS only
    owner_url = test_databases.owner_url_of(target)
    restored_files = tmp_path / "files"
    restore_backup(out, owner_url, urlsplit(app_url).username, restored_files)
    assert table_checksums(owner_url) == table_checksums(test_databases.owner_url_of(_name(url)))
    assert (restored_files / "photos" / "visit-1.jpg").read_bytes() == bytes(range(256)) * 40
    assert (restored_files / "readme.txt").read_text() == "走访照片\n"
    # The restored database works for the app's role, and the ledgers are still append-only.
    conn = psycopg2.connect(app_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM household WHERE id_number LIKE 'v1:%'")
        assert cur.fetchone()[0] > 0
        cur.execute("INSERT INTO audit_event (county_code, actor, action)"
                    " VALUES ('532329', 'inspector', 'sign_in')")
        for attack in ("DELETE FROM audit_event", "UPDATE issue_event SET note = 'x'"):
            with pytest.raises(psycopg2.Error):
                cur.execute(attack)
    conn.close()


def test_a_restore_refuses_a_database_that_is_not_empty(backed_up, test_databases, tmp_path):
    url, out, _files, _manifest = backed_up
    with pytest.raises(BackupError, match="already has tables"):
        restore_backup(out, test_databases.owner_url_of(_name(url)), None, tmp_path / "files")


def test_a_backup_goes_to_a_new_directory(backed_up, test_databases):
    url, out, files, _manifest = backed_up
    with pytest.raises(BackupError, match="not empty"):
        write_backup(test_databases.owner_url_of(_name(url)), out, files)


def test_the_commands_back_up_and_restore_the_database_in_use(backed_up, test_databases,
                                                              tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gridmap.cli.backup import backup_command, restore_command

    url, _out, files, _manifest = backed_up
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GRIDMAP_OWNER_DATABASE_URL", test_databases.owner_url_of(_name(url)))
    monkeypatch.setenv("GRIDMAP_FILES_DIR", str(files))
    made = CliRunner().invoke(backup_command, ["--out", str(tmp_path / "nightly")])
    assert made.exit_code == 0, made.output
    assert "backed up" in made.output and "data key is NOT in this backup" in made.output

    target = f"{test_databases.prefix}_restored_by_cli"
    app_url = test_databases.create(target)
    monkeypatch.setenv("DATABASE_URL", app_url)
    monkeypatch.setenv("GRIDMAP_OWNER_DATABASE_URL", test_databases.owner_url_of(target))
    monkeypatch.setenv("GRIDMAP_FILES_DIR", str(tmp_path / "restored-files"))
    restored = CliRunner().invoke(restore_command, [str(tmp_path / "nightly")])
    assert restored.exit_code == 0, restored.output
    assert "every checksum matches" in restored.output
    again = CliRunner().invoke(restore_command, [str(tmp_path / "nightly")])
    assert again.exit_code == 1 and "already has tables" in again.output
