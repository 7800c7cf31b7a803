"""The application's database role owns nothing and cannot touch the ledgers' rules.

Migrations run as the owner role; the app role may read and write working tables, only read
and append ledgers (issue_event, audit_event), and can neither change the schema nor switch the
append-only trigger off. Every attack below is tried as the app role and must be refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg2
import pytest

from gridmap.models import LEDGER_TABLES

LEDGER_ATTACKS = [
    "UPDATE {ledger} SET county_code = '000000'",
    "DELETE FROM {ledger}",
    "TRUNCATE {ledger}",
    "ALTER TABLE {ledger} ADD COLUMN smuggled text",
    "DROP TABLE {ledger}",
    "ALTER TABLE {ledger} DISABLE TRIGGER {ledger}_append_only",
    "ALTER TABLE {ledger} DISABLE TRIGGER ALL",
    "DROP TRIGGER {ledger}_append_only ON {ledger}",
    "DROP TRIGGER {ledger}_no_truncate ON {ledger}",
    "ALTER TABLE {ledger} OWNER TO CURRENT_USER",
    "COPY {ledger} (county_code) FROM '/etc/hostname'",
]
ATTACKS = [attack.format(ledger=ledger) for ledger in LEDGER_TABLES for attack in LEDGER_ATTACKS] + [
    "UPDATE issue_event SET note = 'rewritten'",
    "UPDATE audit_event SET actor = 'someone else'",
    "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RETURN NEW; END $$",
    "SET session_replication_role = replica",
    "CREATE TABLE smuggled (id int)",
    "CREATE DATABASE smuggled",
    "UPDATE alembic_version SET version_num = '0001'",
]
LEDGER_ROWS = "SELECT (SELECT count(*) FROM issue_event), (SELECT min(note) FROM issue_event)," \
    " (SELECT count(*) FROM audit_event), (SELECT min(actor) FROM audit_event)"


@pytest.fixture
def as_app_role(fresh_database_url):
    """A psycopg2 connection to a fresh migrated database, as the application's role."""
    conn = psycopg2.connect(fresh_database_url)
    conn.autocommit = True
    with conn.cursor() as cur:  # one event to attack
        cur.execute("INSERT INTO issue (county_code, code, title, category, reported_at)"
                    " VALUES ('532329', 'X1', 't', 'c', now()) RETURNING id")
        issue_id = cur.fetchone()[0]
        cur.execute("INSERT INTO issue_event (county_code, issue_id, to_status, at)"
                    " VALUES ('532329', %s, 'reported', now())", (issue_id,))
        cur.execute("INSERT INTO audit_event (county_code, actor, action)"
                    " VALUES ('532329', 'inspector', 'sign_in')")
    yield conn
    conn.close()


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_app_role_cannot(as_app_role, attack):
    with as_app_role.cursor() as cur, pytest.raises(psycopg2.Error) as refused:
        cur.execute(attack)
    assert refused.value.pgcode in ("42501",), (attack, refused.value.pgcode, refused.value)
    with as_app_role.cursor() as cur:
        cur.execute(LEDGER_ROWS)
        assert cur.fetchone() == (1, None, 1, "inspector")


def test_the_app_role_reads_and_appends_the_ledger(as_app_role):
    with as_app_role.cursor() as cur:
        cur.execute("INSERT INTO issue_event (county_code, issue_id, to_status, at)"
                    " SELECT county_code, issue_id, 'triaged', now() FROM issue_event")
        cur.execute("SELECT count(*) FROM issue_event")
        assert cur.fetchone() == (2,)
        cur.execute("INSERT INTO audit_event (county_code, actor, action)"
                    " SELECT county_code, 'leader', 'sign_out' FROM audit_event")
        cur.execute("SELECT count(*) FROM audit_event")
        assert cur.fetchone() == (2,)


def test_the_app_role_owns_nothing_and_creates_no_databases(as_app_role):
    with as_app_role.cursor() as cur:
        cur.execute("SELECT rolcreatedb, rolsuper, rolcreaterole FROM pg_roles"
                    " WHERE rolname = current_user")
        assert cur.fetchone() == (False, False, False)
        cur.execute("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
                    " WHERE r.rolname = current_user")
        assert cur.fetchone() == (0,)
        cur.execute("SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba"
                    " WHERE r.rolname = current_user")
        assert cur.fetchone() == (0,)


def test_the_owner_is_stopped_by_the_trigger_too(test_databases, fresh_database_url):
    """Even the owner (migrations) cannot rewrite events without first dropping the trigger."""
    name = urlsplit(fresh_database_url).path.lstrip("/")
    conn = psycopg2.connect(test_databases.owner_url_of(name))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO issue (county_code, code, title, category, reported_at)"
                    " VALUES ('532329', 'X2', 't', 'c', now()) RETURNING id")
        issue_id = cur.fetchone()[0]
        cur.execute("INSERT INTO issue_event (county_code, issue_id, to_status, at)"
                    " VALUES ('532329', %s, 'reported', now())", (issue_id,))
        with pytest.raises(psycopg2.Error, match="append-only"):
            cur.execute("UPDATE issue_event SET note = 'x'")
        cur.execute("INSERT INTO audit_event (county_code, actor, action)"
                    " VALUES ('532329', 'admin', 'sign_in')")
        for attack in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event",
                       "TRUNCATE audit_event"):
            with pytest.raises(psycopg2.Error, match="append-only"):
                cur.execute(attack)
    conn.close()
