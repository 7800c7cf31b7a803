"""Stored photos: content-checked, EXIF read then stripped, stored once by hash, within scope."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import text
from support import ISSUE_GRID, ISSUE_VILLAGE, photo_bytes, seed_issue_county, seed_user

from gridmap import files, issues, settings, visits
from gridmap.errors import BadInput, NotFound, TooLarge

pytestmark = pytest.mark.db
GRID = ISSUE_GRID
HERE = (102.4123, 25.5234)


@pytest.fixture
def county(connection, db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    household = connection.execute(text(
        "INSERT INTO household (county_code, code, grid_code, village_code, head_name, geom)"
        " VALUES ('532329', 'HF1', :g, :v, '张三', ST_SetSRID(ST_MakePoint(102.41, 25.52), 4326))"
        " RETURNING id"), {"g": GRID, "v": ISSUE_VILLAGE}).scalar()
    worker = seed_user(connection, "grid_worker", GRID)
    visit = visits.record(db, worker, {"household_id": household}).visit
    return {"worker": worker, "visit": visit, "household": household}


def test_a_photo_is_stored_by_the_hash_of_its_stripped_bytes_with_its_gps_kept_apart(
        db, county, tmp_path):
    raw = photo_bytes("JPEG", lonlat=HERE)
    assert b"PhoneMaker" in raw
    stored = files.attach(db, tmp_path, county["worker"], "visit", county["visit"].client_uuid, raw)
    path = files.path_of(tmp_path, stored)
    kept = path.read_bytes()
    assert path.name == f"{stored.sha256}.jpg" and path.is_relative_to(tmp_path)
    assert b"PhoneMaker" not in kept and b"Exif" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert not image.getexif() and "xmp" not in image.info and "icc_profile" not in image.info
        assert image.size == (64, 48) == (stored.width, stored.height)
    lon, lat = db.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM stored_file WHERE id = :id"),
                          {"id": stored.id}).one()
    assert (round(lon, 3), round(lat, 3)) == (round(HERE[0], 3), round(HERE[1], 3))
    assert stored.taken_at == datetime.fromisoformat("2026-11-20T10:15:00+08:00")
    assert files.path_of(tmp_path, stored, thumbnail=True).exists()


def test_the_same_photo_twice_is_one_file_and_one_link(db, county, tmp_path):
    raw = photo_bytes("PNG")
    first = files.attach(db, tmp_path, county["worker"], "visit", county["visit"].id, raw)
    again = files.attach(db, tmp_path, county["worker"], "visit", county["visit"].id, raw)
    assert first.id == again.id
    assert [p.id for p in files.photos_of(db, "visit", county["visit"].id)] == [first.id]
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2  # the photo, its thumbnail


@pytest.mark.parametrize("raw", [b"GIF89a" + b"\0" * 64, b"%PDF-1.4 not a photo", b"\xff\xd8\xff broken"])
def test_only_jpeg_png_and_webp_by_content_are_accepted(db, county, tmp_path, raw):
    with pytest.raises(BadInput) as refused:
        files.attach(db, tmp_path, county["worker"], "visit", county["visit"].id, raw)
    assert refused.value.status == 422 and refused.value.field == "photo"
    assert not any(tmp_path.rglob("*.*"))


def test_a_gif_named_jpeg_is_refused_and_webp_is_accepted(db, county, tmp_path):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    with pytest.raises(BadInput, match="GIF"):
        files.clean(gif.getvalue(), 10_000_000)
    assert files.clean(photo_bytes("WEBP"), 10_000_000).mime == "image/webp"


def test_a_photo_over_the_county_limit_is_refused_with_413(db, county, tmp_path):
    settings.set(db, "532329", "photo.max_megabytes", 1)
    big = photo_bytes("PNG", size=(1200, 1200)) + b"\0" * 1_100_000
    with pytest.raises(TooLarge) as refused:
        files.attach(db, tmp_path, county["worker"], "visit", county["visit"].id, big)
    assert refused.value.status == 413 and "1 MB" in str(refused.value)


def test_a_photo_is_readable_only_within_scope(db, connection, county, tmp_path):
    stored = files.attach(db, tmp_path, county["worker"], "visit", county["visit"].id,
                          photo_bytes())
    assert files.readable(db, county["worker"], stored.id).id == stored.id
    neighbour = seed_user(connection, "grid_worker", ISSUE_VILLAGE + "002")
    with pytest.raises(NotFound):
        files.readable(db, neighbour, stored.id)
    with pytest.raises(NotFound):
        files.attach(db, tmp_path, neighbour, "visit", county["visit"].id, photo_bytes())


def test_an_issue_photo_follows_the_issue_by_its_client_uuid(db, county, tmp_path):
    issue = visits.report_issue(db, county["worker"], county["visit"].id, {
        "title": "路灯坏了", "category": "drinking_water"})
    stored = files.attach(db, tmp_path, county["worker"], "issue", issue.client_uuid,
                          photo_bytes(colour="red"))
    assert [p.id for p in files.photos_of(db, "issue", issue.id)] == [stored.id]
    assert issues.get(db, county["worker"], issue.id).id == issue.id
