"""Per-token throttling of the JSON, OGC, Open311 and export APIs: past the county's
`api.token_limit` a token's requests are refused with 429 and Retry-After, in each API's own
error form, until its window ends; another token, and the public, are not slowed by it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county, token_headers

from gridmap import settings

START = datetime.fromisoformat("2026-03-10T09:00:00+08:00")
# (url, the error body's test) for each API's error form
APIS = {
    "our JSON": ("/api/search?q=插甸", lambda body: body["error"] == "too_many_requests"),
    "OGC API": ("/ogc/collections", lambda body: body["code"] == "TooManyRequests"
                and "description" in body),
    "Open311": ("/open311/v2/services.json", lambda body: body[0]["code"] == 429
                and "description" in body[0]),
    "exports": ("/exports/grids.geojson", lambda body: body["error"] == "too_many_requests"),
}


@pytest.fixture
def limited(connection, db, monkeypatch):
    """The open-data county with a limit of 3 requests a minute per token."""
    monkeypatch.setenv("GRIDMAP_NOW", START.isoformat())
    seed_open_data_county(connection)
    settings.set(db, ISSUE_COUNTY, "api.token_limit.requests", 3)
    db.commit()


def at(monkeypatch, seconds: float) -> None:
    monkeypatch.setenv("GRIDMAP_NOW", (START + timedelta(seconds=seconds)).isoformat())


@pytest.mark.parametrize("api", list(APIS))
def test_past_its_limit_a_token_waits_for_the_next_window(api, client, limited, connection,
                                                          db, monkeypatch):
    url, is_error_form = APIS[api]
    headers = token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "gis")
    for second in range(3):
        at(monkeypatch, second)
        assert client.get(url, headers=headers).status_code == 200
    at(monkeypatch, 20)
    refused = client.get(url, headers=headers)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"  # the window began at 0 s and lasts 60 s
    assert is_error_form(refused.get_json())
    other = token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "other-gis")
    assert client.get(url, headers=other).status_code == 200
    at(monkeypatch, 60)
    assert client.get(url, headers=headers).status_code == 200


def test_the_public_and_a_county_without_a_limit_are_not_throttled(client, limited,
                                                                   connection, db):
    for _ in range(5):
        assert client.get("/ogc/collections").status_code == 200
    settings.set(db, ISSUE_COUNTY, "api.token_limit.requests", 0)
    db.commit()
    headers = token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "gis")
    for _ in range(5):
        assert client.get("/ogc/collections", headers=headers).status_code == 200


def test_an_open311_api_key_counts_against_its_token(client, limited, connection, db):
    headers = token_headers(connection, db, "township_staff", OPEN_TOWNSHIP, "hotline")
    key = headers["Authorization"].split()[1]
    for _ in range(3):
        assert client.get("/ogc/collections", headers=headers).status_code == 200
    refused = client.post("/open311/v2/requests.json",
                          data={"api_key": key, "service_code": "water", "lat": "25.52",
                                "long": "102.42", "description": "水管"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.get_json()[0]["code"] == 429
