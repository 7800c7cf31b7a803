"""Personal data: ID numbers encrypted at rest, the per-record "show" with a reason in the
audit log, scope on it, and small care-category counts suppressed."""

from __future__ import annotations

import base64

import psycopg2
import pytest
from sqlalchemy import select, text
from support import ONE_GRID, seed_one_grid, seed_user

from gridmap import datakey, privacy
from gridmap.errors import BadInput, Forbidden, NotFound
from gridmap.importers.core import import_files
from gridmap.importers.fields import id_check_digit
from gridmap.importers.sources import Source
from gridmap.models import AuditEvent, Household

VILLAGE = ONE_GRID[:12]


def id_number(serial: str) -> str:
    body = "532329199001" + serial
    return body + id_check_digit(body)


NUMBER = id_number("01123")


def households_csv(*rows: tuple[str, str]) -> Source:
    lines = ["code,head_name,phone,id_number,grid_code,village_code"]
    lines += [f"{code},张三,13812345678,{number},{ONE_GRID},{VILLAGE}" for code, number in rows]
    return Source("households.csv", data="\n".join(lines).encode())


@pytest.fixture
def household(db, connection) -> Household:
    seed_one_grid(db)
    report = import_files(connection, [households_csv(("H1", NUMBER))], "532329", commit=True)
    assert report.ok, report.problems
    return db.scalars(select(Household).where(Household.code == "H1")).one()


def test_the_import_stores_id_numbers_encrypted_and_re_imports_leave_them_unchanged(
        household, connection):
    stored = connection.execute(text("SELECT id_number FROM household WHERE code = 'H1'")).scalar()
    assert stored.startswith("v1:") and NUMBER not in stored and NUMBER[-4:] not in stored
    assert datakey.decrypt_id_number(stored) == NUMBER
    again = import_files(connection, [households_csv(("H1", NUMBER))], "532329", commit=True)
    assert [(t.table, t.inserted, t.updated, t.unchanged) for t in again.tables] == [
        ("household", 0, 0, 1)]


def test_the_database_refuses_a_plain_id_number_from_any_path(household, connection):
    with pytest.raises(Exception, match="ck_household_id_number_encrypted"):
        connection.execute(text("UPDATE household SET id_number = :n WHERE code = 'H1'"),
                           {"n": NUMBER})


def test_another_key_cannot_read_the_numbers_and_says_what_to_restore(household, monkeypatch):
    monkeypatch.setenv(datakey.KEY_ENV, base64.b64encode(bytes(64)).decode())
    with pytest.raises(datakey.DataKeyError, match="restore the key"):
        datakey.decrypt_id_number(household.id_number)


def test_a_malformed_key_is_refused_plainly(monkeypatch):
    monkeypatch.setenv(datakey.KEY_ENV, "too-short")
    with pytest.raises(datakey.DataKeyError, match="64 bytes"):
        datakey.encrypt_id_number(NUMBER)


def test_the_key_file_is_private_to_its_owner():
    datakey.cipher()
    assert datakey.key_path().stat().st_mode & 0o077 == 0


def test_a_permitted_role_sees_one_value_and_the_reason_is_logged(household, db, connection):
    worker = seed_user(connection, "grid_worker", ONE_GRID)
    assert privacy.show(db, worker, household.id, "id_number", "核对低保申请") == NUMBER
    assert privacy.show(db, worker, household.id, "phone", "回访联系") == "13812345678"
    logged = db.scalars(select(AuditEvent).where(AuditEvent.action == "unmask")
                        .order_by(AuditEvent.id)).all()
    assert [(e.actor, e.target, e.detail) for e in logged] == [
        (worker.login, "household:H1", {"kind": "id_number", "reason": "核对低保申请"}),
        (worker.login, "household:H1", {"kind": "phone", "reason": "回访联系"})]


@pytest.mark.parametrize(("role", "scope", "kind", "reason", "refusal"), [
    ("grid_worker", ONE_GRID, "id_number", "", BadInput),
    ("grid_worker", ONE_GRID, "id_number", " x ", BadInput),
    ("grid_worker", ONE_GRID, "password", "核对身份", BadInput),
    ("grid_worker", "532329104201002", "id_number", "核对身份", NotFound),  # another grid
    ("village_staff", "532329104202", "phone", "核对身份", NotFound),  # another village
    ("leader", "532329", "id_number", "核对身份", Forbidden),  # leaders see aggregates
    ("inspector", "532329", "name", "核对身份", Forbidden),
])
def test_show_is_refused_without_reason_scope_or_permission(household, db, connection, role,
                                                            scope, kind, reason, refusal):
    actor = seed_user(connection, role, scope)
    with pytest.raises(refusal):
        privacy.show(db, actor, household.id, kind, reason)
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "unmask")).all() == []


def test_the_show_endpoint_answers_the_value_and_refuses_other_scopes(household, client, auth,
                                                                      connection):
    auth.as_role("grid_worker", ONE_GRID)
    url = f"/api/households/{household.id}/show"
    response = client.post(url, json={"kind": "id_number", "reason": "核对身份"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"kind": "id_number", "value": NUMBER}
    assert response.headers["Cache-Control"] == "no-store"
    assert client.post(url, json={"kind": "id_number"}).status_code == 422
    assert client.post(f"/api/households/{household.id + 1000}/show",
                       json={"kind": "phone", "reason": "核对身份"}).status_code == 404
    auth.sign_out()
    auth.as_role("village_staff", "532329104202")  # a village next door
    assert client.post(url, json={"kind": "phone", "reason": "核对身份"}).status_code == 404
    auth.sign_out()
    auth.as_role("leader", "532329")
    assert client.post(url, json={"kind": "phone", "reason": "核对身份"}).status_code == 403


def test_the_migration_encrypts_numbers_already_stored(test_databases):
    from gridmap.migrate import upgrade

    name = f"{test_databases.prefix}_before_encryption"
    test_databases.create(name)  # empty, PostGIS only
    owner_url = test_databases.owner_url_of(name)
    upgrade(owner_url, "0006")  # before ID numbers were encrypted
    conn = psycopg2.connect(owner_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO household (county_code, code, head_name, id_number)"
                    " VALUES ('532329', 'H9', '李四', %s), ('532329', 'H10', '王五', NULL)",
                    (NUMBER,))
    upgrade(owner_url, "head")
    with conn.cursor() as cur:
        cur.execute("SELECT code, id_number FROM household ORDER BY code")
        rows = dict(cur.fetchall())
    conn.close()
    assert rows["H10"] is None
    assert rows["H9"].startswith("v1:") and datakey.decrypt_id_number(rows["H9"]) == NUMBER


@pytest.mark.parametrize(("counts", "shown"), [
    ({"低保": 12, "特困": 4, "残疾": 1, "留守儿童": 0, "空巢": 5},
     {"低保": 12, "特困": None, "残疾": None, "留守儿童": 0, "空巢": 5}),
])
def test_care_category_counts_under_five_are_suppressed(counts, shown):
    assert privacy.suppress_counts(counts) == shown
    assert privacy.suppress_small(None) is None
