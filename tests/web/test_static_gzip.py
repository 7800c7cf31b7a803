"""Static assets go gzipped to browsers that take it, still answer 304 to their validator,
and go as they are to clients that do not; pages are never compressed (BREACH)."""

from __future__ import annotations

import gzip

from gridmap.web import STATIC_ROOT


def test_static_scripts_are_gzipped_and_still_revalidate(client):
    response = client.get("/static/map.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.status_code == 200 and response.content_encoding == "gzip"
    assert "Accept-Encoding" in response.vary
    body = gzip.decompress(response.get_data())
    assert body == (STATIC_ROOT / "map.js").read_bytes()
    assert len(response.get_data()) < len(body) / 2
    etag = response.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get("/static/map.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_static_files_go_plain_without_gzip_and_pages_never_compressed(client):
    response = client.get("/static/map.css")
    assert response.status_code == 200 and response.content_encoding is None
    assert response.get_data() == (STATIC_ROOT / "map.css").read_bytes()
    page = client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.content_encoding is None
