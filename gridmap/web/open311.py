"""Open311 GeoReport v2 at /open311/v2: services and service requests, JSON or XML.

Reading is public (what gridmap.open311 shows carries no personal data); posting a request
needs an `api_key` (a token of `gridmap tokens create`, acting as its account: the account's
role must allow reporting and the place must lie in its scope). The key is the only
credential that view accepts, never a session cookie, so it needs no CSRF token. Errors are the
specification's arrays (`[{"code": 404, "description": …}]`, `<errors><error>…`), in the
format the URL asked for. `jurisdiction_id`, when given, must be this server's county.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from flask import Blueprint, Response, current_app, request

from gridmap import open311, tokens
from gridmap.errors import Forbidden, NotFound, _
from gridmap.policy import allowed
from gridmap.web.auth import csrf_exempt
from gridmap.web.errors import answers_with, text_of
from gridmap.web.session import db_session

FORMATS = "any(json, xml)"
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}


def _format() -> str:
    chosen = (request.view_args or {}).get("fmt")
    if chosen in MEDIA_TYPES:
        return chosen
    return "xml" if request.path.endswith(".xml") else "json"


def render_open311(status: int, code: str, message: str, field: str | None = None):
    """The specification's error array, in the request's format."""
    status = 400 if status == 422 else status
    return _answer([{"code": status, "description": message}], "errors", "error",
                   status=status)


bp = answers_with(Blueprint("open311", __name__, url_prefix="/open311/v2"), render_open311)


def _xml_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _xml(items: list[dict], root: str, item: str) -> bytes:
    top = ET.Element(root)
    for entry in items:
        element = ET.SubElement(top, item)
        for key, value in entry.items():
            child = ET.SubElement(element, key)
            if value is not None:
                child.text = _xml_text(value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8",
                                                                       xml_declaration=False)


def _answer(items: list[dict], root: str, item: str, status: int = 200) -> Response:
    fmt = _format()
    body = _xml(items, root, item) if fmt == "xml" else json.dumps(items, ensure_ascii=False)
    response = Response(body, status=status, mimetype=MEDIA_TYPES[fmt])
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, no-cache"
    return response


def _county() -> str:
    county = current_app.config["GRIDMAP_COUNTY"]
    asked = request.values.get("jurisdiction_id")
    if asked and asked != county:
        raise NotFound(_("本服务只有辖区 %(county)s，没有 %(asked)s", county=county,
                         asked=asked[:40]))
    return county


@bp.route(f"/services.<{FORMATS}:fmt>", endpoint="services")
def services(fmt: str):
    """GET Service List: our categories that the public may know of."""
    found = open311.services(db_session(), _county(), text_of)
    return _answer([vars(service) for service in found], "services", "service")


@bp.route(f"/services/<service_code>.<{FORMATS}:fmt>", endpoint="service_definition")
def service_definition(service_code: str, fmt: str):
    """GET Service Definition: none of our services has extra attributes (metadata false)."""
    codes = {service.service_code for service in open311.services(db_session(), _county())}
    if service_code in codes:
        raise NotFound(_("服务 %(code)s 没有附加属性（metadata 为 false）", code=service_code[:40]))
    raise NotFound(_("没有服务 %(code)s", code=service_code[:40]))


@bp.route(f"/requests.<{FORMATS}:fmt>", endpoint="requests")
def requests_list(fmt: str):
    """GET Service Requests: by ids, or by service, dates (90 days at most) and status."""
    query = open311.RequestQuery.parse(request.args)
    found = open311.requests(db_session(), _county(), query, text_of)
    return _answer(found, "service_requests", "request")


@bp.route(f"/requests/<service_request_id>.<{FORMATS}:fmt>", endpoint="request")
def request_one(service_request_id: str, fmt: str):
    """GET Service Request: one, as a list of one (as the specification has it)."""
    found = open311.request(db_session(), _county(), service_request_id, text_of)
    return _answer([found], "service_requests", "request")


@bp.route(f"/requests.<{FORMATS}:fmt>", methods=["POST"], endpoint="create")
@csrf_exempt
def create_request(fmt: str):
    """POST Service Request: `api_key`, `service_code`, `lat`+`long` or `address_string`,
    optionally `description`, `first_name`, `last_name`, `phone` → the new request's id."""
    form = request.form
    _county()
    session = db_session()
    # the specification posts it in the form; some clients put it in the query string
    actor = tokens.authenticate(session, form.get("api_key") or request.args.get("api_key"))
    if actor is None:
        raise Forbidden(_("api_key 无效、已吊销或已过期；请向本县管理员申请（gridmap tokens create）"))
    if not allowed(actor.role, "report_issue"):
        raise Forbidden(_("此 api_key 的账号无权登记诉求"))
    issue = open311.create_request(session, actor, form)
    session.commit()
    notice = text_of(_("已登记，编号 %(code)s；可用 requests/%(code)s 查询进度", code=issue.code))
    return _answer([{"service_request_id": issue.code, "service_notice": notice,
                     "account_id": None}], "service_requests", "request")
