"""The grid editor over HTTP: the page and its JSON doors for a township's staff, previews that
write nothing, a save that lists the moves, scope (another township's grids are not found)
and CSRF on a cookie session."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from support import (
    HOSTILE_NAME,
    ISSUE_COUNTY,
    OPEN_TOWNSHIP,
    AuthActions,
    seed_open_data_county,
    seed_user,
)

from gridmap import create_app

VILLAGE = OPEN_TOWNSHIP + "201"
SOUTH, NORTH = VILLAGE + "001", VILLAGE + "002"
SPLIT = {"operation": "split", "grids": [SOUTH],
         "line": {"type": "LineString", "coordinates": [[102.43, 25.49], [102.43, 25.56]]}}


@pytest.fixture
def county(connection):
    seed_open_data_county(connection)
    connection.execute(text("UPDATE household SET geom = ST_SetSRID(ST_MakePoint(102.44, 25.52), 4326)"
                            " WHERE code = 'H6'"))


def count_grids(connection):
    return connection.execute(text("SELECT count(*) FROM grid")).scalar()


def test_a_township_previews_then_saves_a_split_and_sees_the_moves(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    page = client.get("/grids/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "vendor/geoman/leaflet-geoman.js" in html and f'data-village="{VILLAGE}"' in html
    assert HOSTILE_NAME not in html and "&lt;script&gt;" in html  # the second village's name, escaped
    shapes = client.get(f"/api/grid-edits/shapes?village={VILLAGE}").get_json()
    assert [f["properties"]["code"] for f in shapes["features"]] == [VILLAGE, SOUTH, NORTH]
    preview = client.post("/api/grid-edits/preview", json=SPLIT)
    assert preview.status_code == 200, preview.get_json()
    assert preview.get_json()["ok"] and not preview.get_json()["saved"]
    assert preview.get_json()["moved"] == [{"table": "household", "code": "H6", "before": SOUTH,
                                            "after": VILLAGE + "003"}]
    assert count_grids(connection) == 4
    saved = client.post("/api/grid-edits", json=SPLIT)
    assert saved.status_code == 200 and saved.get_json()["saved"]
    assert [f["properties"]["code"] for f in saved.get_json()["shapes"]["features"]] == [SOUTH, VILLAGE + "003"]
    assert count_grids(connection) == 6  # two current rows more, the old one kept as history


def test_the_shapes_answer_as_map_layers_do_with_a_validator(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    url = f"/api/grid-edits/shapes?village={VILLAGE}"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    assert first.mimetype == "application/geo+json" and first.headers.get("ETag")
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()
    connection.execute(text("UPDATE grid SET name = name || '（改）' WHERE code = :c"), {"c": SOUTH})
    renamed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert renamed.status_code == 200 and renamed.headers["ETag"] != first.headers["ETag"]
    assert "（改）" in renamed.get_data(as_text=True)


def test_a_merge_lists_the_group_unit_the_surviving_grid_takes_over(client, auth, county, connection):
    connection.execute(text("INSERT INTO unit (county_code, code, name, kind, region_code)"
                            " VALUES (:c, 'U-N', '北片农技站', 'section', :t)"),
                       {"c": ISSUE_COUNTY, "t": OPEN_TOWNSHIP})
    connection.execute(text("INSERT INTO assignment (county_code, kind, unit_id, grid_code, valid_from)"
                            " SELECT :c, 'group', id, :g, '2026-01-01' FROM unit WHERE code = 'U-N'"),
                       {"c": ISSUE_COUNTY, "g": NORTH})
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    saved = client.post("/api/grid-edits", json={"operation": "merge", "grids": [SOUTH, NORTH]})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["duties"] == [{"unit": "U-N", "name": "北片农技站", "before": NORTH,
                                           "after": SOUTH}]
    assert "包组单位" in client.get("/grids/edit").get_data(as_text=True)  # the editor can name them


def test_refusals_name_the_field_and_problems_come_back_drawn(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    crossing_nothing = client.post("/api/grid-edits/preview", json={
        **SPLIT, "line": {"type": "LineString", "coordinates": [[102.41, 25.52], [102.42, 25.53]]}})
    assert crossing_nothing.status_code == 422 and crossing_nothing.get_json()["field"] == "line"
    assert client.post("/api/grid-edits/preview", json={"operation": "fold"}).get_json()["field"] == "operation"
    overlapping = client.post("/api/grid-edits", json={
        "operation": "draw", "village_code": VILLAGE,
        "polygon": {"type": "Polygon", "coordinates": [[[102.41, 25.51], [102.42, 25.51], [102.42, 25.52],
                                                        [102.41, 25.51]]]}})
    assert overlapping.status_code == 409
    problem = overlapping.get_json()["problems"]["features"][0]
    assert problem["properties"]["kind"] == "overlap" and problem["geometry"]["type"] == "Polygon"
    assert count_grids(connection) == 4


def test_another_township_cannot_edit_or_see_the_grids_and_others_may_not_edit(client, auth, county, connection):
    auth.as_role("township_staff", ISSUE_COUNTY + "101")
    assert client.get(f"/api/grid-edits/shapes?village={VILLAGE}").status_code == 404
    assert client.post("/api/grid-edits", json=SPLIT).status_code == 404
    assert client.post("/api/grid-edits/preview", json={
        "operation": "merge", "grids": [SOUTH, NORTH]}).status_code == 404
    assert 'data-village=""' in client.get("/grids/edit").get_data(as_text=True)
    auth.sign_out()
    auth.as_role("village_staff", VILLAGE)
    assert client.get("/grids/edit").status_code == 403
    assert client.post("/api/grid-edits", json=SPLIT).status_code == 403
    assert count_grids(connection) == 4


@pytest.fixture
def csrf_app(database_url, connection):
    """The app with CSRF on, as served, its sessions in the test's rolled-back transaction."""
    flask_app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test"})
    flask_app.extensions["gridmap.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield flask_app
    flask_app.extensions["gridmap.engine"].dispose()


def test_a_save_from_a_cookie_session_needs_its_csrf_token(csrf_app, county, connection):
    seed_user(connection, "township_staff", OPEN_TOWNSHIP, login="chadian")
    client = csrf_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/sign-in", data={"login": "chadian", "csrf_token": token,
                                         "password": AuthActions.password}).status_code == 302
    refused = client.post("/api/grid-edits", json=SPLIT)
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"
    assert count_grids(connection) == 4
    editor = client.get("/grids/edit").get_data(as_text=True)
    token = editor.split('<meta name="csrf-token" content="')[1].split('"')[0]
    accepted = client.post("/api/grid-edits", json=SPLIT, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200, accepted.get_json()
