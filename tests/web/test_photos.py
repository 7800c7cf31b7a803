"""Photos over HTTP: attached to a visit or an issue by id or client_uuid, served only in scope."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import text
from support import ISSUE_GRID, ISSUE_VILLAGE, photo_bytes, seed_issue_county

pytestmark = pytest.mark.db


@pytest.fixture
def visit(client, auth, connection, monkeypatch):
    """A grid worker signed in, with a visit to a household of their grid (by its client_uuid)."""
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    household = connection.execute(text(
        "INSERT INTO household (county_code, code, grid_code, village_code, head_name)"
        " VALUES ('532329', 'HP1', :g, :v, '张三') RETURNING id"),
        {"g": ISSUE_GRID, "v": ISSUE_VILLAGE}).scalar()
    auth.as_role("grid_worker", ISSUE_GRID)
    ref = str(uuid.uuid4())
    assert client.post("/api/visits", json={"household_id": household,
                                            "client_uuid": ref}).status_code == 201
    return ref


def upload(client, url, raw, name="photo.jpg"):
    return client.post(url, data={"photo": (io.BytesIO(raw), name)},
                       content_type="multipart/form-data")


def test_a_visit_photo_is_stored_and_served_without_its_exif(client, visit):
    response = upload(client, f"/api/visits/{visit}/photos", photo_bytes(lonlat=(102.4, 25.5)))
    assert response.status_code == 201, response.json
    photo = response.json["file"]
    served = client.get(photo["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"PhoneMaker" not in served.data and b"Exif" not in served.data
    assert "private" in served.headers["Cache-Control"]
    thumb = client.get(photo["thumb_url"])
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert max(image.size) <= 320


def test_a_file_that_is_not_a_photo_gets_422_whatever_its_name(client, visit):
    response = upload(client, f"/api/visits/{visit}/photos", b"<svg onload=alert(1)>", "x.jpg")
    assert response.status_code == 422
    assert response.json["error"] == "bad_input" and "JPEG" in response.json["message"]


def test_a_photo_over_the_limit_gets_413_saying_the_limit(client, visit):
    response = upload(client, f"/api/visits/{visit}/photos", b"\xff\xd8" + b"\0" * 11_000_000)
    assert response.status_code == 413 and "10 MB" in response.json["message"]


def test_an_issue_reported_on_a_visit_takes_a_photo_by_the_issues_client_uuid(client, visit):
    issue_ref = str(uuid.uuid4())
    reported = client.post(f"/api/visits/{visit}/issues", json={
        "title": "水管破裂", "category": "drinking_water", "client_uuid": issue_ref})
    assert reported.status_code == 201, reported.json
    response = upload(client, f"/api/issues/{issue_ref}/photos", photo_bytes("PNG"))
    assert response.status_code == 201
    assert client.get(response.json["file"]["url"]).mimetype == "image/png"


def test_a_photo_of_another_grid_is_not_found(client, auth, visit):
    photo = upload(client, f"/api/visits/{visit}/photos", photo_bytes()).json["file"]
    client.post("/sign-out")
    auth.as_role("grid_worker", ISSUE_VILLAGE + "002")
    assert client.get(photo["url"]).status_code == 404
    assert upload(client, f"/api/visits/{visit}/photos", photo_bytes()).status_code == 404


def test_the_household_page_shows_its_visits_photos_and_another_grid_gets_404(client, auth, visit):
    photo = upload(client, f"/api/visits/{visit}/photos", photo_bytes()).json["file"]
    household = client.get("/field").get_data(as_text=True)
    page_url = re.search(r'href="(/field/households/\d+)"', household).group(1)
    page = client.get(page_url).get_data(as_text=True)
    assert f'src="{photo["thumb_url"]}"' in page and f'href="{photo["url"]}"' in page
    assert client.get(photo["thumb_url"]).status_code == 200
    client.post("/sign-out")
    auth.as_role("grid_worker", ISSUE_VILLAGE + "002")
    assert client.get(photo["thumb_url"]).status_code == 404
    assert client.get(page_url).status_code == 404


def act(client, issue, action, photo=None, **fields):
    data = {"action": action, "version": str(issue["version"]), **fields}
    if photo is None:
        response = client.post(f"/api/issues/{issue['id']}/actions", json={**data, "version": issue["version"]})
    else:
        response = client.post(f"/api/issues/{issue['id']}/actions",
                               data={**data, "photo": (io.BytesIO(photo), "work.jpg")},
                               content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    return response.json["issue"]


def timeline_photos(client, issue):
    steps = client.get(f"/api/issues/{issue['id']}").json["timeline"]
    return [(step["action"], len(step["photos"])) for step in steps], steps


def test_photos_at_report_handling_and_close_show_at_their_events_within_scope(client, auth, visit):
    issue_ref = str(uuid.uuid4())
    issue = client.post(f"/api/visits/{visit}/issues", json={
        "title": "水管破裂", "category": "drinking_water", "client_uuid": issue_ref}).json["issue"]
    upload(client, f"/api/issues/{issue_ref}/photos", photo_bytes(size=(60, 40)))
    client.post("/sign-out")
    auth.as_role("township_staff", ISSUE_VILLAGE[:9])
    issue = act(client, client.get(f"/api/issues/{issue['id']}").json["issue"], "triage")
    client.post("/sign-out")
    auth.as_role("village_staff", ISSUE_VILLAGE)
    issue = act(client, issue, "acknowledge")
    refused = client.post(f"/api/issues/{issue['id']}/actions", data={
        "action": "escalate", "version": str(issue["version"]), "note": "x",
        "photo": (io.BytesIO(photo_bytes()), "p.jpg")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and refused.json["field"] == "photo"  # nothing written
    issue = act(client, issue, "handle", photo=photo_bytes(size=(50, 40)), note="已换管")
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="photo"' in page
    form = client.post(f"/issues/{issue['id']}/actions", data={
        "action": "close", "version": str(issue["version"]), "note": "反映人不愿回访",
        "photo": (io.BytesIO(photo_bytes(size=(40, 40))), "done.jpg")},
        content_type="multipart/form-data")
    assert form.status_code == 302
    counts, steps = timeline_photos(client, issue)
    assert counts == [("report", 1), ("triage", 0), ("acknowledge", 0), ("handle", 1), ("close", 1)]
    page = client.get(f"/issues/{issue['id']}").get_data(as_text=True)
    for step in steps:
        for photo in step["photos"]:
            assert f'src="{photo["thumb_url"]}"' in page
            assert client.get(photo["url"]).status_code == 200
    handled = steps[3]["photos"][0]
    client.post("/sign-out")
    auth.as_role("grid_worker", ISSUE_VILLAGE + "002")  # another grid: neither issue nor photo
    assert client.get(handled["url"]).status_code == 404
    assert client.get(handled["thumb_url"]).status_code == 404
    assert client.get(f"/api/issues/{issue['id']}").status_code == 404
