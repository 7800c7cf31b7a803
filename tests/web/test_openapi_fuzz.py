"""schemathesis against /api/openapi.json on the live app and the real PostGIS: every
operation, with an API token and with a signed-in cookie session, answers valid requests
without a server error and within its declared schema, status codes and media types, and
answers invalid ones (negative mode) without a server error. Examples are capped so the two
runs stay well under two minutes."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, AuthActions, seed_open_data_county, seed_user

from gridmap import settings as county_settings
from gridmap import tokens

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}  # per operation
CHECKS = {GenerationMode.POSITIVE: [checks.not_a_server_error, checks.status_code_conformance,
                                    checks.content_type_conformance,
                                    checks.response_schema_conformance],
          GenerationMode.NEGATIVE: [checks.not_a_server_error]}


@pytest.fixture
def api_schema(app, connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-03-10T09:00:00+08:00")
    seed_open_data_county(connection)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def _run(operation, mode: GenerationMode, headers: dict) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS[mode], headers=headers)

    run()


def fuzz(schema, headers: dict) -> int:
    """Every operation of `schema` in both modes, examples capped; how many operations ran."""
    # The WSGI transport does not undo gzip, as every HTTP client does: ask for none.
    headers = {**headers, "Accept-Encoding": "identity"}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in EXAMPLES:
            _run(operation, mode, headers)
    return len(operations)


def test_fuzzing_with_an_api_token_finds_no_server_error_and_no_schema_break(
        api_schema, connection, db):
    seed_user(connection, "township_staff", OPEN_TOWNSHIP, login="gis")
    issued = tokens.issue(db, "gis", "县自然资源局 GIS")
    # the clock stands still here, so the token's window never ends: no limit for the fuzz
    # (tests/web/test_token_throttle.py tests the limit)
    county_settings.set(db, ISSUE_COUNTY, "api.token_limit.requests", 0)
    db.commit()
    assert fuzz(api_schema, {"Authorization": f"Bearer {issued.secret}"}) >= 10


def test_fuzzing_signed_in_finds_no_server_error_and_no_schema_break(api_schema, app,
                                                                     connection):
    seed_user(connection, "leader", "532329", login="county-leader")
    client = app.test_client()
    assert AuthActions(client, connection).sign_in("county-leader").status_code == 302
    cookie = client.get_cookie("session")
    assert fuzz(api_schema, {"Cookie": f"session={cookie.value}"}) >= 10
