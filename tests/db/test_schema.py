"""The database itself refuses what must never be stored."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

BOWTIE = "MULTIPOLYGON(((0 0,1 1,1 0,0 1,0 0)))"
SQUARE = "MULTIPOLYGON(((102 25,102.01 25,102.01 25.01,102 25.01,102 25)))"


def insert_grid(connection, wkt, srid=4326, code="532329104001001"):
    connection.execute(text(
        "INSERT INTO grid (county_code, code, village_code, name, geom)"
        " VALUES ('532329', :code, '532329104001', '一网格', ST_GeomFromText(:wkt, :srid))"),
        {"wkt": wkt, "srid": srid, "code": code})


def test_invalid_polygon_is_refused_by_the_database(connection):
    with pytest.raises(IntegrityError, match="ck_grid_geom_valid"):
        insert_grid(connection, BOWTIE)


def test_valid_polygon_is_stored(connection):
    insert_grid(connection, SQUARE)
    assert connection.execute(text("SELECT count(*) FROM grid")).scalar_one() == 1


def test_other_srid_is_refused(connection):
    with pytest.raises(DBAPIError):
        insert_grid(connection, SQUARE, srid=4490)


def test_region_code_must_match_its_level(connection):
    with pytest.raises(IntegrityError, match="level_matches_code"):
        connection.execute(text(
            "INSERT INTO region (county_code, code, level, name)"
            " VALUES ('532329', '532329104', 'village', '插甸镇')"))


def test_region_code_is_text_with_leading_digits_kept(connection):
    connection.execute(text(
        "INSERT INTO region (county_code, code, level, name) VALUES ('010101', '010101', 'county', 'x')"))
    assert connection.execute(text("SELECT code FROM region")).scalar_one() == "010101"


def test_only_one_current_boundary_per_code(connection):
    sql = text("INSERT INTO region (county_code, code, level, name) VALUES ('532329', '532329', 'county', '武定县')")
    connection.execute(sql)
    with pytest.raises(IntegrityError, match="uq_region_current_code"):
        connection.execute(sql)


def test_every_geometry_column_has_a_gist_index(connection):
    rows = connection.execute(text(
        "SELECT c.table_name FROM information_schema.columns c"
        " WHERE c.udt_name = 'geometry' AND c.table_schema = 'public'"
        " AND NOT EXISTS (SELECT 1 FROM pg_indexes i WHERE i.tablename = c.table_name"
        "   AND i.indexdef ILIKE '%USING gist (' || c.column_name || ')%')")).scalars().all()
    assert rows == []


def test_every_table_carries_county_code(connection):
    rows = connection.execute(text(
        "SELECT t.table_name FROM information_schema.tables t"
        " WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        " AND t.table_name NOT IN ('spatial_ref_sys', 'alembic_version')"
        " AND NOT EXISTS (SELECT 1 FROM information_schema.columns c"
        "   WHERE c.table_name = t.table_name AND c.column_name = 'county_code')")).scalars().all()
    assert rows == []


def test_the_application_role_is_not_a_superuser(connection):
    assert connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one() is False


def _issue(connection):
    return connection.execute(text(
        "INSERT INTO issue (county_code, code, title, category, reported_at, status_changed_at)"
        " VALUES ('532329', 'T1', '路灯坏了', 'infrastructure', now(), now()) RETURNING id")).scalar_one()


def test_issue_events_cannot_be_rewritten(connection):
    issue_id = _issue(connection)
    connection.execute(text(
        "INSERT INTO issue_event (county_code, issue_id, to_status, at) VALUES ('532329', :i, 'reported', now())"),
        {"i": issue_id})
    with pytest.raises(DBAPIError, match="append-only|permission denied"), connection.begin_nested():
        connection.execute(text("UPDATE issue_event SET note = 'rewritten'"))
    with pytest.raises(DBAPIError, match="append-only|permission denied"), connection.begin_nested():
        connection.execute(text("DELETE FROM issue_event"))


def test_assignment_target_must_match_its_kind(connection):
    connection.execute(text("INSERT INTO cadre (county_code, code, name) VALUES ('532329', 'C1', '张三')"))
    with pytest.raises(IntegrityError, match="target_matches_kind"):
        connection.execute(text(
            "INSERT INTO assignment (county_code, kind, cadre_id, grid_code)"
            " SELECT '532329', 'household', id, '532329104001001' FROM cadre"))


def test_the_same_duty_is_held_once(connection):
    connection.execute(text("INSERT INTO cadre (county_code, code, name) VALUES ('532329', 'C1', '张三')"))
    sql = text("INSERT INTO assignment (county_code, kind, cadre_id, region_code)"
               " SELECT '532329', 'village', id, '532329104201' FROM cadre")
    connection.execute(sql)
    with pytest.raises(IntegrityError, match="uq_assignment_current"):
        connection.execute(sql)
