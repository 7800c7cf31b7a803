"""Downloads of the public collections (gridmap.features): GeoJSON streamed as PostGIS builds
it (`application/geo+json`, RFC 7946) and GeoPackage, with the filters of /ogc plus `region`
(a township, village or grid code). The same rows as `gridmap export`; every download is in
the audit log (gridmap.exports.geo.record_export), named by its token's account when it
came with one, else as `public` with its address.

Coverage gaps (`/exports/gaps.*`, gridmap.gap_features) are never public: only an API token
whose account may read coverage gets them, in that account's scope (401 without a token,
403 for a role that may not), as the `gaps` collection of /ogc.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_login import current_user

from gridmap import features, gap_features
from gridmap.errors import BadInput, _
from gridmap.exports import geo
from gridmap.exports.tabular import content_disposition
from gridmap.policy import Scope
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import Unauthorized, requires
from gridmap.web.openapi import declare, error_response, json_response
from gridmap.web.session import db_session

GPKG = "application/geopackage+sqlite3"
FORMATS = {"geojson": geo.GEOJSON_MEDIA_TYPE, "gpkg": GPKG}
KNOWN = ("f", "bbox", "datetime", "region")
_COLLECTION_ROUTE = "any(" + ", ".join(features.COLLECTIONS) + ")"

bp = answers_with(Blueprint("exports", __name__), render_json)


def _parameters(queryables: list[str], path: bool = True) -> list[dict]:
    query = [
        {"name": "region", "in": "query", "description": "a county, township, village or grid "
         "code: rows inside it", "schema": {"type": "string", "pattern": "^[0-9]{6,20}$"}},
        {"name": "bbox", "in": "query", "description": "minlon,minlat,maxlon,maxlat (WGS84)",
         "schema": {"type": "string"}},
        {"name": "datetime", "in": "query", "description": "an instant or start/end, '..' open "
         "(issues: when reported)", "schema": {"type": "string"}},
    ] + [{"name": name, "in": "query", "description": f"rows whose {name} equals this "
          "(`status` is an issue's stage; `kind` a gap's rule)", "schema": {"type": "string"}}
        for name in queryables]
    if not path:
        return query
    return [{"name": "collection_id", "in": "path", "required": True,
             "schema": {"type": "string", "enum": list(features.COLLECTIONS)}}] + query


_PUBLIC_QUERYABLES = sorted({name for c in features.COLLECTIONS.values() for name in c.queryables})


def _download(media_type: str, description: str) -> dict:
    return {"get": {"summary": description, "security": [{}, {"bearer": []}],
                    "parameters": _parameters(_PUBLIC_QUERYABLES),
                    "responses": {"200": json_response("the file", {}, media_type),
                                  "422": error_response("a bad filter, named in `field`")}}}


def _gaps_download(media_type: str, description: str) -> dict:
    return {"get": {"summary": description, "security": [{"bearer": []}],
                    "parameters": _parameters(list(gap_features.QUERYABLES), path=False),
                    "responses": {"200": json_response("the file", {}, media_type),
                                  "401": error_response("no API token, or one that no longer works"),
                                  "403": error_response("the token's account may not read coverage"),
                                  "422": error_response("a bad filter, named in `field`")}}}


OPENAPI_PATHS = {
    "/exports/{collection_id}.geojson": _download(
        geo.GEOJSON_MEDIA_TYPE, "A public collection as GeoJSON (RFC 7946), streamed"),
    "/exports/{collection_id}.gpkg": _download(GPKG, "A public collection as a GeoPackage"),
    "/exports/gaps.geojson": _gaps_download(
        geo.GEOJSON_MEDIA_TYPE, "Coverage gaps of the token's scope as GeoJSON, streamed"),
    "/exports/gaps.gpkg": _gaps_download(GPKG, "Coverage gaps of the token's scope as a GeoPackage"),
}
declare(bp, OPENAPI_PATHS)


def _query(target: features.Collection) -> features.Query:
    args = request.args
    for name in args:
        if name not in KNOWN and name not in target.queryables:
            raise BadInput(_("不认识的参数 %(name)s；可用：%(known)s", name=name[:40],
                             known=", ".join(KNOWN[1:] + target.queryables)), field=name)
    start, end = features.parse_datetime(args.get("datetime"))
    if target.temporal is None:
        start = end = None  # a collection without time is not filtered by it
    if target.id == gap_features.COLLECTION_ID:
        gap_features.parse_kind(args.get("kind"))  # an unknown rule is named, not empty
    return features.Query(bbox=features.parse_bbox(args.get("bbox")), start=start, end=end,
                          properties=features.parse_properties(target, args),
                          region=features.parse_region(args.get("region")))


def _record(target: features.Collection, fmt: str, query: features.Query, rows: int) -> None:
    actor = current_user if current_user.is_authenticated else "public"
    session = db_session()
    geo.record_export(session, actor, target.id, fmt, query, rows,
                      county_code=current_app.config["GRIDMAP_COUNTY"],
                      address=request.remote_addr)
    session.commit()


def _attachment(response: Response, target: features.Collection, fmt: str) -> Response:
    name = f"{current_app.config['GRIDMAP_COUNTY']}_{target.id}.{fmt}"
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "no-store"  # every download is counted and fresh
    return response


def _send_geojson(target: features.Collection) -> Response:
    """`target` as one GeoJSON FeatureCollection, written as PostGIS streams it."""
    query, county = _query(target), current_app.config["GRIDMAP_COUNTY"]

    def chunks():
        # Recorded once the last feature has left (or the client went away: with what it
        # got), so the export costs no second pass over the rows to count them.
        written = [0]

        def counted(texts):
            for text in texts:
                written[0] += 1
                yield text

        try:
            texts = features.feature_texts(db_session().connection(), target, county, query)
            for chunk in geo.geojson_chunks(counted(texts), name=target.id):
                yield chunk.encode()
        finally:
            db_session().rollback()  # ends the read (its server-side cursor) first
            _record(target, "geojson", query, written[0])

    response = Response(stream_with_context(chunks()), mimetype=geo.GEOJSON_MEDIA_TYPE)
    return _attachment(response, target, "geojson")


def _send_gpkg(target: features.Collection) -> Response:
    """`target` as a GeoPackage (one layer named as the collection)."""
    query, county = _query(target), current_app.config["GRIDMAP_COUNTY"]
    with tempfile.TemporaryDirectory(prefix="gridmap-export-") as folder:
        path = Path(folder) / f"{target.id}.gpkg"
        rows = geo.write_gpkg(features.records(db_session().connection(), target, county, query),
                              path, target.id, target.geometry_type,
                              features.integer_properties(target))
        body = path.read_bytes()
    _record(target, "gpkg", query, rows)
    return _attachment(Response(body, mimetype=GPKG), target, "gpkg")


@bp.route(f"/exports/<{_COLLECTION_ROUTE}:collection_id>.geojson", endpoint="geojson")
def geojson(collection_id: str):
    """A public collection as one GeoJSON FeatureCollection, streamed."""
    return _send_geojson(features.collection(collection_id))


@bp.route(f"/exports/<{_COLLECTION_ROUTE}:collection_id>.gpkg", endpoint="gpkg")
def gpkg(collection_id: str):
    """A public collection as a GeoPackage."""
    return _send_gpkg(features.collection(collection_id))


def _gaps() -> features.Collection:
    """The gaps of the token's scope; a signed-in browser session is not a token (401)."""
    if not current_user.by_token:
        raise Unauthorized(_("空白点下载需要 API 令牌（Authorization: Bearer …）；"
                             "请向本县管理员申请（gridmap tokens create）"))
    return gap_features.of_scope(db_session(), Scope.of_user(current_user))


@bp.route("/exports/gaps.geojson", endpoint="gaps_geojson")
@requires("view_coverage")
def gaps_geojson():
    """Coverage gaps of the token's scope as GeoJSON, streamed (never public)."""
    return _send_geojson(_gaps())


@bp.route("/exports/gaps.gpkg", endpoint="gaps_gpkg")
@requires("view_coverage")
def gaps_gpkg():
    """Coverage gaps of the token's scope as a GeoPackage (never public)."""
    return _send_gpkg(_gaps())
