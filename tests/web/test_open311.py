"""Open311 GeoReport v2 at /open311/v2 on the real PostGIS: services, requests, errors as the
specification's arrays, JSON and XML, posting with an api_key, and what stays private."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text
from support import HOSTILE_NAME, OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import tokens
from gridmap.models import Issue

JANUARY_TO_MARCH = "start_date=2026-01-01T00:00:00Z&end_date=2026-03-31T00:00:00Z"
VILLAGE = OPEN_TOWNSHIP + "201"


@pytest.fixture
def county(connection):
    return seed_open_data_county(connection)


@pytest.fixture
def api_key(county, connection, db):
    """A key of a township office account (may report), the way `gridmap tokens create` issues it."""
    seed_user(connection, "township_staff", OPEN_TOWNSHIP, login="hotline")
    return tokens.issue(db, "hotline", "12345 热线平台").secret


def get_json(client, url):
    response = client.get(url)
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response.status_code, json.loads(response.get_data(as_text=True))


def test_services_are_the_categories_the_public_may_know(client, county):
    status, services = get_json(client, "/open311/v2/services.json")
    assert status == 200
    assert [s["service_code"] for s in services] == ["water"]  # not the tip-off category
    assert services[0] | {"description": ""} == {
        "service_code": "water", "service_name": "饮水安全", "description": "", "group": "求助",
        "metadata": False, "type": "realtime", "keywords": ""}
    root = ET.fromstring(client.get("/open311/v2/services.xml").data)
    assert root.tag == "services" and root.find("service/service_code").text == "water"
    status, errors = get_json(client, "/open311/v2/services/water.json")
    assert status == 404 and errors[0]["code"] == 404


def test_requests_map_stages_to_open_and_closed(client, county):
    status, found = get_json(client, f"/open311/v2/requests.json?{JANUARY_TO_MARCH}")
    assert status == 200
    by_id = {r["service_request_id"]: r for r in found}
    assert set(by_id) == {"Q1", "Q2"}  # not the voided Q3, not the tip-off Q4
    assert by_id["Q1"]["status"] == "open" and by_id["Q2"]["status"] == "closed"
    assert by_id["Q1"]["status_notes"] == "已上报（村级）"
    assert by_id["Q1"]["requested_datetime"] == "2026-03-01T16:00:00+08:00"
    assert set(by_id["Q1"]) == {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "agency_responsible", "requested_datetime", "updated_datetime", "expected_datetime",
        "lat", "long"}
    body = json.dumps(found, ensure_ascii=False)
    for secret in ("王五", "13900001111", "水管", "村长"):
        assert secret not in body
    _, closed = get_json(client, f"/open311/v2/requests.json?{JANUARY_TO_MARCH}&status=closed")
    assert [r["service_request_id"] for r in closed] == ["Q2"]
    _, by_ids = get_json(client, "/open311/v2/requests.json?service_request_id=Q2,Q4,Q3")
    assert [r["service_request_id"] for r in by_ids] == ["Q2"]
    _, one = get_json(client, "/open311/v2/requests/Q1.json")
    assert one == [by_id["Q1"]]
    for hidden in ("Q3", "Q4", "NOPE"):
        status, errors = get_json(client, f"/open311/v2/requests/{hidden}.json")
        assert status == 404 and errors[0]["code"] == 404


@pytest.mark.parametrize(("query", "status"), [
    ("start_date=yesterday", 400), ("end_date=2026-13-01", 400),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400),  # > 90 days
    ("status=pending", 400), ("service_request_id=" + ",".join(["Q1"] * 101), 400),
    ("service_code=water;drop", 400), ("jurisdiction_id=110000", 404),
])
def test_bad_requests_get_the_specification_error_array(client, county, query, status):
    for fmt in ("json", "xml"):
        response = client.get(f"/open311/v2/requests.{fmt}?{query}")
        assert response.status_code == status
        if fmt == "json":
            errors = json.loads(response.data)
            assert errors[0]["code"] == status and errors[0]["description"]
        else:
            root = ET.fromstring(response.data)
            assert root.tag == "errors" and root.find("error/code").text == str(status)


def test_xml_stays_well_formed_whatever_the_names(client, county, connection):
    connection.execute(text("UPDATE issue_category SET name = :n WHERE code = 'water'"),
                       {"n": HOSTILE_NAME + "\x01\x0b]]>"})
    response = client.get(f"/open311/v2/requests.xml?{JANUARY_TO_MARCH}")
    root = ET.fromstring(response.data)  # raises on ill-formed XML
    names = {r.find("service_name").text for r in root.findall("request")}
    assert names == {HOSTILE_NAME + "]]>"}


def post(client, fmt="json", **form):
    response = client.post(f"/open311/v2/requests.{fmt}", data=form)
    return response.status_code, response


def test_posting_with_a_key_reports_a_hotline_issue(client, county, api_key, db):
    status, response = post(client, api_key=api_key, service_code="water", lat="25.52",
                            long="102.43", description="自来水停了三天", last_name="张",
                            first_name="三", phone="13800001111")
    assert status == 200, response.data
    code = json.loads(response.data)[0]["service_request_id"]
    issue = db.query(Issue).filter_by(code=code).one()
    assert (issue.source, issue.grid_code, issue.status) == ("hotline", county, "reported")
    assert (issue.reporter_name, issue.real_name, issue.title) == ("张三", True, "自来水停了三天")
    _, read_back = get_json(client, f"/open311/v2/requests/{code}.json")
    assert read_back[0]["status"] == "open" and read_back[0]["service_code"] == "water"
    # by address: the village it names (no grid)
    status, response = post(client, "xml", api_key=api_key, service_code="water",
                            address_string="武定县插甸镇插甸村委会旁")
    assert status == 200
    code = ET.fromstring(response.data).find("request/service_request_id").text
    assert db.query(Issue).filter_by(code=code).one().village_code == VILLAGE


@pytest.mark.parametrize(("form", "field"), [
    ({"service_code": "water"}, "lat"),
    ({"service_code": "water", "lat": "north", "long": "102.43"}, "lat"),
    ({"service_code": "water", "lat": "39.9", "long": "116.4"}, "lat"),  # Beijing: not ours
    ({"service_code": "water", "address_string": "某地某处"}, "address_string"),
    ({"service_code": "", "lat": "25.52", "long": "102.43"}, "service_code"),
    ({"service_code": "nope", "lat": "25.52", "long": "102.43"}, "category"),
    ({"service_code": "water", "lat": "25.52", "long": "102.43", "description": "x" * 2001},
     "description"),
])
def test_a_bad_post_says_what_to_fix_and_writes_nothing(client, county, api_key, db, form,
                                                       field):
    before = db.query(Issue).count()
    status, response = post(client, api_key=api_key, **form)
    assert status == 400, response.data
    assert json.loads(response.data)[0]["description"]
    assert db.query(Issue).count() == before


def test_posting_needs_a_live_key_of_a_role_that_may_report(client, county, api_key, db,
                                                           connection):
    form = {"service_code": "water", "lat": "25.52", "long": "102.43"}
    for key in (None, "", "gm_short", "x" * 50, api_key.replace("gm_", "gm_x")):
        status, _ = post(client, **({"api_key": key} if key is not None else {}), **form)
        assert status == 403
    seed_user(connection, "leader", "532329", login="leader-key")
    leader_key = tokens.issue(db, "leader-key", "dashboard").secret
    assert post(client, api_key=leader_key, **form)[0] == 403
    # the account's sessions end (sign-out everywhere): so do its tokens
    connection.execute(text("UPDATE app_user SET session_generation = session_generation + 1"
                            " WHERE login = 'hotline'"))
    assert post(client, api_key=api_key, **form)[0] == 403


def test_a_cookie_session_cannot_post_without_a_key(client, county, auth):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    status, _ = post(client, service_code="water", lat="25.52", long="102.43")
    assert status == 403
