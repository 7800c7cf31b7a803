"""An independent Open311 GeoReport v2 client (PyPI `georeport`) against the served demo
county: it lists services, reads requests, and follows a posted request through our stages."""

from __future__ import annotations

import requests
from georeport import GeoReport
from sqlalchemy.orm import Session

from gridmap import issues, tokens
from gridmap.db import make_engine
from gridmap.models import AppUser, Issue
from gridmap.users import create_user

TOWNSHIP = "532329104"


def _hotline_key(url: str) -> str:
    """A key of a hotline account of 插甸镇 (committed: the served app must see it)."""
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        if session.query(AppUser).filter_by(login="hotline-client").first() is None:
            create_user(session, "hotline-client", "township_staff", TOWNSHIP, "Hotline-pass-1!")
        key = tokens.issue(session, "hotline-client", "12345 热线平台").secret
    engine.dispose()
    return key


def _act(url: str, code: str, action: str, **fields) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        issue = session.query(Issue).filter_by(code=code).one()
        staff = session.query(AppUser).filter_by(login="township_staff").one()
        issues.apply(session, issue.id, action, staff, expected_version=issue.version, **fields)
    engine.dispose()


def test_georeport_lists_services_in_json_and_xml(base_url):
    for fmt in ("json", "xml"):
        services = GeoReport(f"{base_url}/open311/v2", output_format=fmt).get_service_list()
        codes = {service["service_code"] for service in services}
        assert "drinking_water" in codes
        assert all(service["service_name"] for service in services)


def test_a_posted_request_is_read_back_through_its_stages(base_url, committed_db_url):
    key = _hotline_key(committed_db_url)
    posted = requests.post(f"{base_url}/open311/v2/requests.json", timeout=30, data={
        "api_key": key, "service_code": "drinking_water", "lat": "25.55", "long": "102.45",
        "description": "自来水停了三天", "last_name": "张", "first_name": "三",
        "phone": "13800001111"})
    assert posted.status_code == 200, posted.text
    code = posted.json()[0]["service_request_id"]
    client = GeoReport(f"{base_url}/open311/v2")
    first = client.get_service_request(code)
    assert (first["status"], first["service_code"]) == ("open", "drinking_water")
    assert first["status_notes"].startswith("已上报")
    assert "张三" not in str(first) and "自来水" not in str(first)
    _act(committed_db_url, code, "triage")
    triaged = client.get_service_request(code)
    assert triaged["status"] == "open" and triaged["status_notes"].startswith("已分拨")
    assert triaged["updated_datetime"] >= first["updated_datetime"]
    xml_client = GeoReport(f"{base_url}/open311/v2", output_format="xml")
    assert xml_client.get_service_request(code)["status"] == "open"
    listed = client.get_service_requests(service_request_id=code)
    assert [r["service_request_id"] for r in listed] == [code]
    _act(committed_db_url, code, "reject", note="已由自来水公司处理，重复反映")
    ended = client.get_service_request(code)
    assert ended["status"] == "closed" and ended["status_notes"].startswith("不予受理")
