"""OGC API – Features, Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0) at `/ogc`, public.

What it serves is `gridmap.features.COLLECTIONS` of the server's county, current
generation only, so QGIS, GDAL (`ogrinfo OAPIF:http://host/ogc`) and OWSLib read our
layers without code. JSON or HTML by `f=` or the Accept header; errors are OGC exception
objects (`{"code": …, "description": …}`) with 400 for a bad parameter and 404 for an
unknown collection or feature. Nothing here needs a sign-in: the collections carry no
personal data (see gridmap/features.py), which is why these endpoints are on the
public allow-list (gridmap/web/guard.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from gridmap import features, gap_features
from gridmap.errors import BadInput, _
from gridmap.policy import Scope, allowed
from gridmap.web.errors import answers_with, text_of
from gridmap.web.session import db_session

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
# Parameters each kind of request understands; anything else is a 400 (OGC API Features /req/core/query-param-unknown).
COMMON_PARAMETERS = frozenset({"f"})
ITEMS_PARAMETERS = frozenset({"f", "limit", "offset", "bbox", "datetime"})
_OGC_CODES = {400: "InvalidParameterValue", 404: "NotFound", 405: "MethodNotAllowed",
              413: "RequestTooLarge", 429: "TooManyRequests", 500: "ServerError"}


def render_ogc(status: int, code: str, message: str, field: str | None = None):
    """An OGC API exception object: `{"code", "description"}` (plus the parameter at fault).

    A bad parameter is 400 here (OGC API Features /req/core/query-param-invalid), where the
    rest of the app says 422."""
    status = 400 if status == 422 else status
    body = {"code": _OGC_CODES.get(status, code), "description": message}
    if field:
        body["parameter"] = field
    response = current_app.json.response(body)
    response.status_code = status
    return _public(response)


bp = answers_with(Blueprint("ogc", __name__, url_prefix="/ogc"), render_ogc)


def _public(response: Response) -> Response:
    # Open data for other systems' web clients; always revalidated, so no change is hidden.
    # What a token's account sees (its gaps) is its own: never kept by a shared cache.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = ("private, no-cache" if _token_reader()
                                         else "public, no-cache")
    response.vary.add("Authorization")
    return response


def _token_reader() -> bool:
    """Does this request come with an API token whose account may read coverage gaps?"""
    return bool(current_user.is_authenticated and getattr(current_user, "by_token", False)
                and allowed(current_user.role, "view_coverage"))


def _collections() -> list[features.Collection]:
    """The public collections, and `gaps` of the token's scope for a token that may read it."""
    public = list(features.COLLECTIONS.values())
    if not _token_reader():
        return public
    return public + [gap_features.of_scope(db_session(), Scope.of_user(current_user))]


def _collection(collection_id: str) -> features.Collection:
    """One collection by id; `gaps` exists only for a token that may read it (else NotFound,
    as for any unknown id: the public never learns it is there)."""
    for target in _collections():
        if target.id == collection_id:
            return target
    return features.collection(collection_id)  # raises NotFound naming the public ones


def _wants_html() -> bool:
    chosen = request.args.get("f")
    if chosen is not None:
        if chosen not in ("json", "html"):
            raise BadInput(_("f 应为 json 或 html，收到 %(value)s", value=chosen[:20]),
                           field="f")
        return chosen == "html"
    best = request.accept_mimetypes.best_match([JSON, GEOJSON, HTML], default=JSON)
    return best == HTML


def _check_parameters(allowed: frozenset[str], extra: tuple[str, ...] = ()) -> None:
    for name in request.args:
        if name not in allowed and name not in extra:
            raise BadInput(_("不认识的参数 %(name)s；可用：%(known)s", name=name[:40],
                                      known=", ".join(sorted(allowed | set(extra)))), field=name)


def _json(body: dict, media_type: str = JSON) -> Response:
    response = current_app.json.response(body)
    response.mimetype = media_type
    return _public(response)


def _link(endpoint: str, rel: str, media_type: str, title: str | None = None, **values) -> dict:
    link = {"href": url_for(endpoint, _external=True, **values), "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def _county() -> str:
    return current_app.config["GRIDMAP_COUNTY"]


def _title() -> str:
    return gettext("民情地图开放数据（%(county)s）", county=_county())


@bp.route("", endpoint="landing", strict_slashes=False)
def landing():
    """The landing page: what this API is and where its parts are."""
    _check_parameters(COMMON_PARAMETERS)
    body = {
        "title": _title(),
        "description": gettext("本县网格、行政区划、各网格户数和公开诉求的开放数据（OGC API – Features）。"),
        "links": [
            _link("ogc.landing", "self", JSON, f="json"),
            _link("ogc.landing", "alternate", HTML, f="html"),
            _link("ogc.openapi", "service-desc", OPENAPI),
            _link("ogc.conformance", "conformance", JSON),
            _link("ogc.collections", "data", JSON),
        ],
    }
    if _wants_html():
        return _public(Response(render_template("ogc/landing.html", body=body)))
    return _json(body)


@bp.route("/conformance", endpoint="conformance")
def conformance():
    """The conformance classes this server implements."""
    _check_parameters(COMMON_PARAMETERS)
    body = {"conformsTo": CONFORMANCE}
    if _wants_html():
        return _public(Response(render_template("ogc/conformance.html", body=body)))
    return _json(body)


def _collection_body(target: features.Collection) -> dict:
    return {
        "id": target.id, "title": text_of(target.title),
        "description": text_of(target.description), "itemType": "feature",
        "crs": [features.CRS84], "storageCrs": features.CRS84,
        "extent": features.extent(db_session().connection(), target, _county()),
        "links": [
            _link("ogc.collection", "self", JSON, collection_id=target.id),
            _link("ogc.collection", "alternate", HTML, collection_id=target.id, f="html"),
            _link("ogc.items", "items", GEOJSON, collection_id=target.id),
            _link("ogc.items", "items", HTML, collection_id=target.id, f="html"),
        ],
    }


@bp.route("/collections", endpoint="collections")
def collections():
    """Every public collection with its extent."""
    _check_parameters(COMMON_PARAMETERS)
    body = {"links": [_link("ogc.collections", "self", JSON),
                      _link("ogc.collections", "alternate", HTML, f="html")],
            "collections": [_collection_body(c) for c in _collections()]}
    if _wants_html():
        return _public(Response(render_template("ogc/collections.html", body=body)))
    return _json(body)


@bp.route("/collections/<collection_id>", endpoint="collection")
def collection(collection_id: str):
    """One collection's description."""
    _check_parameters(COMMON_PARAMETERS)
    body = _collection_body(_collection(collection_id))
    if _wants_html():
        return _public(Response(render_template("ogc/collections.html",
                                                body={"collections": [body]})))
    return _json(body)


def _query(target: features.Collection) -> features.Query:
    _check_parameters(ITEMS_PARAMETERS, target.queryables)
    args = request.args
    start, end = features.parse_datetime(args.get("datetime"))
    if (start or end) and target.temporal is None:
        start = end = None  # a collection without time is not filtered by it
    return features.Query(
        bbox=features.parse_bbox(args.get("bbox")), start=start, end=end,
        properties=features.parse_properties(target, args),
        limit=features.parse_limit(args.get("limit")),
        offset=features.parse_offset(args.get("offset")))


def _page_links(target: features.Collection, query: features.Query,
                page: features.Page, html: bool) -> list[dict]:
    kept = {k: v for k, v in request.args.items() if k not in ("offset", "f")}
    links = [
        _link("ogc.items", "self", HTML if html else GEOJSON, collection_id=target.id,
              **kept, offset=query.offset, **({"f": "html"} if html else {})),
        _link("ogc.items", "alternate", GEOJSON if html else HTML, collection_id=target.id,
              **kept, offset=query.offset, **({} if html else {"f": "html"})),
        _link("ogc.collection", "collection", JSON, collection_id=target.id),
    ]
    fmt = {"f": "html"} if html else {}
    if query.offset + page.number_returned < page.number_matched:
        links.append(_link("ogc.items", "next", HTML if html else GEOJSON,
                           collection_id=target.id, **kept, offset=query.offset + query.limit,
                           **fmt))
    if query.offset > 0:
        links.append(_link("ogc.items", "prev", HTML if html else GEOJSON,
                           collection_id=target.id, **kept,
                           offset=max(0, query.offset - query.limit), **fmt))
    return links


@bp.route("/collections/<collection_id>/items", endpoint="items")
def items(collection_id: str):
    """A page of features: bbox, datetime, property filters, limit and offset."""
    target = _collection(collection_id)
    query = _query(target)
    html = _wants_html()
    page = features.page(db_session().connection(), target, _county(), query)
    links = _page_links(target, query, page, html)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if html:
        return _public(Response(render_template(
            "ogc/items.html", target=target, title=text_of(target.title),
            names=features.property_names(target), features=features.as_dict(page),
            page=page, links=links, query=query)))
    # The features arrive as JSON text built by PostGIS; only the envelope is written here.
    envelope = current_app.json.dumps({
        "type": "FeatureCollection", "numberMatched": page.number_matched,
        "numberReturned": page.number_returned, "timeStamp": stamp, "links": links})
    body = envelope[:-1] + ', "features": ' + page.features_json + "}"
    return _public(Response(body, mimetype=GEOJSON))


@bp.route("/collections/<collection_id>/items/<path:feature_id>", endpoint="item")
def item(collection_id: str, feature_id: str):
    """One feature by its id (a region, grid or issue code)."""
    _check_parameters(COMMON_PARAMETERS)
    target = _collection(collection_id)
    html = _wants_html()
    text = features.feature(db_session().connection(), target, _county(), feature_id)
    links = [
        _link("ogc.item", "self", GEOJSON, collection_id=target.id, feature_id=feature_id),
        _link("ogc.item", "alternate", HTML, collection_id=target.id, feature_id=feature_id,
              f="html"),
        _link("ogc.collection", "collection", JSON, collection_id=target.id),
    ]
    if html:
        return _public(Response(render_template(
            "ogc/items.html", target=target, title=text_of(target.title),
            names=features.property_names(target), features=[json.loads(text)],
            page=None, links=links, query=None)))
    body = text[:-1] + ', "links": ' + current_app.json.dumps(links) + "}"
    return _public(Response(body, mimetype=GEOJSON))


@bp.route("/api", endpoint="openapi")
def openapi():
    """The OpenAPI 3.0 document of this API."""
    _check_parameters(COMMON_PARAMETERS)
    return _json(_openapi_document(), OPENAPI)


def _parameter(name: str, description: str, schema: dict, style: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **(style or {})}


def _items_parameters(target: features.Collection) -> list[dict]:
    parameters = [
        _parameter("limit", "page size", {"type": "integer", "minimum": 1,
                                          "maximum": features.MAX_LIMIT,
                                          "default": features.DEFAULT_LIMIT}),
        _parameter("offset", "where the page starts", {"type": "integer", "minimum": 0,
                                                        "default": 0}),
        _parameter("bbox", "minlon,minlat,maxlon,maxlat (CRS84)",
                   {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                   {"style": "form", "explode": False}),
        _parameter("datetime", "RFC 3339 instant or interval (start/end, .. open)",
                   {"type": "string"}),
        _parameter("f", "json or html", {"type": "string", "enum": ["json", "html"]}),
    ]
    parameters += [_parameter(name, f"features whose {name} equals this", {"type": "string"})
                   for name in target.queryables]
    return parameters


def _openapi_document() -> dict:
    ok = {"description": "OK"}
    problem = {"description": "bad parameter or unknown id (OGC exception object)",
               "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}
    document_paths = {
        "/": {"get": {"summary": "landing page", "operationId": "getLandingPage",
                      "responses": {"200": ok}}},
        "/conformance": {"get": {"summary": "conformance classes",
                                 "operationId": "getConformance", "responses": {"200": ok}}},
        "/api": {"get": {"summary": "this document", "operationId": "getOpenAPI",
                         "responses": {"200": ok}}},
        "/collections": {"get": {"summary": "the collections", "operationId": "getCollections",
                                 "responses": {"200": ok}}},
    }
    for target in features.COLLECTIONS.values():
        base = f"/collections/{target.id}"
        document_paths[base] = {"get": {
            "summary": f"{target.id}: description", "operationId": f"describe_{target.id}",
            "responses": {"200": ok, "404": problem}}}
        document_paths[base + "/items"] = {"get": {
            "summary": f"{target.id}: features", "operationId": f"get_{target.id}_features",
            "parameters": _items_parameters(target),
            "responses": {"200": {"description": "a page of features",
                                  "content": {GEOJSON: {"schema": {"type": "object"}}}},
                          "400": problem}}}
        document_paths[base + "/items/{featureId}"] = {"get": {
            "summary": f"{target.id}: one feature", "operationId": f"get_{target.id}_feature",
            "parameters": [{"name": "featureId", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the feature",
                                  "content": {GEOJSON: {"schema": {"type": "object"}}}},
                          "404": problem}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": _title(), "version": "1.0.0",
                 "description": gettext("本县网格、行政区划、各网格户数和公开诉求的开放数据（OGC API – Features）。")},
        "servers": [{"url": url_for("ogc.landing", _external=True).rstrip("/")}],
        "paths": document_paths,
        "components": {"schemas": {"exception": {
            "type": "object", "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}}},
    }
