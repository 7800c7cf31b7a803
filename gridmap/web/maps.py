"""The map area: the county map page (`/`) and its layers as GeoJSON (`/map/<layer>.geojson`).

Two blueprints, because they answer differently: `maps` renders pages (and error pages),
`layers` answers JSON (and JSON errors) for map.js and other systems. Thin views over
gridmap.maps: a query, a build, a response.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from gridmap import clock, codes, coverage, geo, privacy
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Forbidden, NotFound
from gridmap.maps import rollup, trend
from gridmap.maps.appeals import AppealFilter, appeals_layer_json, filter_choices
from gridmap.maps.compact import compact_text
from gridmap.maps.county import (
    Basemap,
    appeals_legend,
    build_county_map,
    gap_legend,
    legend,
    map_config,
    render_parts,
    targets_legend,
)
from gridmap.maps.gaps import gap_layer_json
from gridmap.maps.heat import HEAT_KINDS, heat_cells
from gridmap.maps.layers import (
    Bounds,
    grid_household_counts,
    grid_layer_json,
    place_names,
    region_layer_json,
    region_name,
    scope_bounds,
)
from gridmap.maps.styles import count_classes
from gridmap.policy import Scope
from gridmap.web.compress import Compressed, gzipped
from gridmap.web.downloads import download
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import can, current_scope, requires
from gridmap.web.openapi import declare, error_response, json_response
from gridmap.web.session import db_session

bp = Blueprint("maps", __name__)
layers_bp = answers_with(Blueprint("layers", __name__), render_json)
LEVELS = ("township", "village", "grid")
GAP_KINDS = tuple(coverage.RULES)
# The route converter's list: any(...) needs them literally.
_GAP_ROUTE = "any(" + ", ".join(GAP_KINDS) + ")"
_HEAT_ROUTE = "any(" + ", ".join(HEAT_KINDS) + ")"
_FEATURES = {"type": "object", "required": ["type", "features"], "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]},
    "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry"],
                                            "properties": {"type": {"enum": ["Feature"]}}}}}}


def _layer_get(summary: str, parameter: dict | None = None) -> dict:
    operation = {"summary": summary, "responses": {
        "200": json_response("GeoJSON (RFC 7946, lon/lat)", _FEATURES, "application/geo+json"),
        "304": {"description": "the client's copy (If-None-Match) is current"}}}
    if parameter:
        operation["parameters"] = [{"in": "path", "required": True, **parameter}]
    return {"get": operation}


OPENAPI_PATHS = {
    "/map/{layer}.geojson": _layer_get("A map layer in the user's scope", {
        "name": "layer", "schema": {"type": "string", "enum": [
            "county", "townships", "villages", "grids"]}}),
    "/map/gaps/{kind}.geojson": _layer_get("The gaps of one coverage rule in the user's scope", {
        "name": "kind", "schema": {"type": "string", "enum": list(GAP_KINDS)}}),
    "/map/gaps.json": {"get": {"summary": "How many gaps of each rule the user's scope has",
                               "responses": {"200": json_response("counts per rule", {
                                   "type": "object", "required": ["counts"], "properties": {
                                       "counts": {"type": "object", "additionalProperties": {
                                           "type": "integer"}}}}),
                                   "304": {"description": "the client's copy is current"}}}},
    "/map/issues.geojson": _layer_get("Unresolved issues of the user's scope, with stage and light"),
    "/map/unvisited.geojson": _layer_get(
        "The grids of the user's scope longest unvisited (median days since their households'"
        " last visit), ranked, with days and rank"),
    "/map/rollup/{level}.json": {"get": {
        "summary": "One figure per township, village or grid of the scope, with the county's colour"
                   " classes for it (the choropleth's data)",
        "parameters": [
            {"name": "level", "in": "path", "required": True,
             "schema": {"type": "string", "enum": ["township", "village", "grid"]}},
            {"name": "measure", "in": "query", "schema": {"type": "string",
                                                          "enum": list(rollup.MEASURES)}}],
        "responses": {"200": json_response("the figures and classes", {
            "type": "object", "required": ["level", "measure", "classes", "values", "suppressed"],
            "properties": {"suppressed": {
                "type": "array", "items": {"type": "string"},
                "description": "codes whose care count (1–4) is withheld from this role"}}}),
            "304": {"description": "the client's copy is current"},
            "422": error_response("an unknown measure")}}},
    "/map/heat/{kind}.json": {"get": {
        "summary": "A heatmap's cells ([lat, lon, count]; cells under 5 left out) in the scope",
        "parameters": [{"name": "kind", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": list(HEAT_KINDS)}}],
        "responses": {"200": json_response("the cells", {
            "type": "object", "required": ["kind", "cells"], "properties": {
                "cells": {"type": "array", "items": {"type": "array"}}}}),
            "304": {"description": "the client's copy is current"}}}},
    "/map/trend.svg": {"get": {
        "summary": "The 三率 of the last 12 weeks, by week of report, of the scope or a region in it",
        "parameters": [{"name": "region", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "an SVG chart",
                              "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
                      "404": error_response("no such region")}}},
}
declare(layers_bp, OPENAPI_PATHS)
GZIP_FROM = 1024  # bytes; smaller answers gain nothing from compression
compacted = Compressed()  # layers in map.js's encoding by content hash (each call names its make)
# What map.js never reads of an open issue: the filters that use them run in SQL.
APPEAL_PROPERTIES_UNREAD = ("level", "category", "urgency")
PAGE_LIMIT, DOWNLOAD_LIMIT = 500, 200_000  # rows of a gap list shown, downloaded


def _display_crs() -> str:
    """The datum the page draws in: the basemap's (shapes are shifted for a GCJ-02 one)."""
    return Basemap.from_config(current_app.config).crs


def for_display(body: str | bytes) -> str | bytes:
    """GeoJSON (text or UTF-8) of stored (WGS84) shapes, shifted when the basemap is GCJ-02."""
    crs = _display_crs()
    if crs == "wgs84":
        return body
    return json.dumps(geo.shift_geojson(json.loads(body), crs), separators=(",", ":"))


def _compact_wanted() -> bool:
    """map.js asks for its layers in the compact encoding (gridmap.maps.compact)."""
    return request.args.get("compact") == "1"


def _encode_in_sql() -> bool:
    """Whether PostGIS may encode a compact layer's shapes itself: only when they are drawn
    as stored (a GCJ-02 basemap shifts the GeoJSON in Python first)."""
    return _compact_wanted() and _display_crs() == "wgs84"


def _display_bounds(bounds: Bounds | None) -> Bounds | None:
    crs = _display_crs()
    if bounds is None or crs == "wgs84":
        return bounds
    west, south = geo.shift_lonlat(bounds.west, bounds.south, crs)
    east, north = geo.shift_lonlat(bounds.east, bounds.north, crs)
    return Bounds(west, south, east, north)


@bp.record_once
def _check_basemap(state) -> None:
    """A bad GRIDMAP_BASEMAP stops the app at start-up, not at every map request."""
    Basemap.from_config(state.app.config)


def _vendor_url(path: str) -> str:
    return url_for("static", filename="vendor/" + path)


def _private(response):
    # Scoped data: never kept by a shared cache, always revalidated by the tablet.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _county_scope(scope: Scope) -> Scope:
    """The whole county of `scope`: colour classes are made over it, so a grid has the same
    colour for every role that sees it."""
    return Scope(scope.county_code, region_code=scope.county_code)


@bp.route("/", endpoint="map")
@requires("view_map")
def county_map():
    """The map page: a skeleton and its configuration; map.js fetches the layers."""
    session, scope = db_session(), current_scope()
    bounds = _display_bounds(scope_bounds(session, scope))
    classes = count_classes(grid_household_counts(session, _county_scope(scope)))
    layer_urls = {level: url_for("layers.layer", layer=level + "s") for level in LEVELS}
    layer_urls["county"] = url_for("layers.layer", layer="county")
    gaps = None
    if can("view_coverage"):
        # The counts come from /map/gaps.json once the page is up: at county scale they take
        # longer than the page itself.
        gaps = [{"kind": kind, "label": rule_label(coverage.RULES[kind]),
                 "url": url_for("layers.gaps", kind=kind),
                 "list_url": url_for("maps.gaps", kind=kind)} for kind in GAP_KINDS]
    appeals_url = url_for("layers.appeals") if can("view_issues") else None
    measures = [{"key": m.key, "label": rule_label(m), "kind": m.kind, "levels": list(m.levels)}
                for m in rollup.MEASURES.values() if can(m.action)]
    heats = [{"kind": k.key, "label": rule_label(k), "url": url_for("layers.heat", kind=k.key)}
             for k in HEAT_KINDS.values() if can(k.action)]
    center = None
    if bounds is not None:
        center = [(bounds.south + bounds.north) / 2, (bounds.west + bounds.east) / 2]
    folium_map = build_county_map(vendor_url=_vendor_url, basemap=Basemap.from_config(current_app.config),
                                  center_latlon=center)
    config = map_config(layer_urls, classes, bounds, gaps=gaps, appeals_url=appeals_url,
                        gap_counts_url=url_for("layers.gap_counts") if gaps else None,
                        unvisited_url=url_for("layers.unvisited") if gaps else None,
                        issue_url=url_for("issues.detail", issue_id=0),
                        issue_api_url=url_for("issues_api.issue", issue_id=0),
                        measures=measures, heats=heats,
                        rollup_url=url_for("layers.rollup", level="township"),
                        search_url=url_for("search_api.search"),
                        trend_url=url_for("layers.trend") if can("view_metrics") else None,
                        targets_url=url_for("ledgers_api.layer") if can("view_ledgers") else None,
                        target_url=url_for("ledgers.target", target_id=0))
    parts = render_parts(folium_map, legend_markup=legend(classes), config=config)
    empty = None if bounds else _("您的范围内还没有区划或网格数据。")
    page = render_template("maps/map.html", map=parts, title=_("地图"), empty_message=empty,
                           places=place_names(session, scope),
                           gap_legend=gap_legend(gaps) if gaps is not None else None,
                           appeals_legend=appeals_legend(filter_choices(session, scope))
                           if appeals_url else None,
                           targets_legend=targets_legend() if can("view_ledgers") else None,
                           today=clock.now().astimezone(CHINA_TIME).date().isoformat())
    return _private(current_app.make_response(page))


def geojson_response(body: str | bytes, mimetype: str = "application/geo+json",
                     drop: tuple[str, ...] = ()):
    """GeoJSON text as a response: a validator (ETag of the content, so never stale),
    gzip when the client takes it, and a 304 when the client's copy is current. A layer
    asked for with `?compact=1` (map.js does) goes in the compact encoding, without the
    properties in `drop` (gridmap.maps.compact). Every layer map.js draws answers this way,
    the ledgers' 挂牌 layer too."""
    raw = body if isinstance(body, bytes) else body.encode()
    etag = hashlib.sha256(raw).hexdigest()[:32]
    compact = mimetype == "application/geo+json" and _compact_wanted()
    if compact:
        etag = etag + "-c" + hashlib.sha256(",".join(drop).encode()).hexdigest()[:8]
        mimetype = "application/json"
    response = current_app.response_class(mimetype=mimetype)
    response.set_etag(etag)
    response.vary.add("Accept-Encoding")
    _private(response)
    if request.if_none_match.contains(etag):
        response.status_code = 304
        return response
    if compact:
        raw = compacted(raw, etag, lambda geojson: compact_text(geojson, drop).encode())
    if len(raw) >= GZIP_FROM and "gzip" in request.accept_encodings:
        raw = gzipped(raw, etag)
        response.content_encoding = "gzip"
    response.set_data(raw)
    return response


@layers_bp.route("/map/<any(county, townships, villages, grids):layer>.geojson", endpoint="layer")
@requires("view_map")
def layer_geojson(layer: str):
    """One layer of the map as GeoJSON (RFC 7946, lon/lat), limited to the user's scope."""
    session, scope = db_session(), current_scope()
    if layer == "grids":
        return geojson_response(for_display(grid_layer_json(session, scope, _encode_in_sql())))
    # the route's converter admits only the county, townships and villages besides
    level = "county" if layer == "county" else layer[:-1]
    return geojson_response(for_display(region_layer_json(session, scope, level,
                                                          _encode_in_sql())))


@layers_bp.route(f"/map/gaps/<{_GAP_ROUTE}:kind>.geojson", endpoint="gaps")
@requires("view_coverage")
def gaps_geojson(kind: str):
    """The gaps of one coverage rule in the user's scope, as GeoJSON."""
    session, scope = db_session(), current_scope()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    return geojson_response(for_display(
        gap_layer_json(session, kind, scope, clock.now(), intervals)))


@layers_bp.route("/map/gaps.json", endpoint="gap_counts")
@requires("view_coverage")
def gap_counts_json():
    """How many gaps of each rule the user's scope has (the legend's numbers)."""
    session, scope = db_session(), current_scope()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    counts = coverage.gap_counts(session.connection(), scope, clock.now(), intervals)
    return geojson_response(json.dumps({"counts": counts}), "application/json")


@layers_bp.route("/map/issues.geojson", endpoint="appeals")
@requires("view_issues")
def appeals_geojson():
    """Unresolved issues of the user's scope with stage and traffic light, as GeoJSON."""
    only = AppealFilter.parse(request.args)
    return geojson_response(for_display(appeals_layer_json(db_session(), current_scope(), only,
                                                           _encode_in_sql())),
                            drop=APPEAL_PROPERTIES_UNREAD)


@layers_bp.route("/map/unvisited.geojson", endpoint="unvisited")
@requires("view_coverage")
def unvisited_geojson():
    """The grids of the user's scope whose households have waited longest for a visit."""
    session, scope = db_session(), current_scope()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    collection = rollup.longest_unvisited(session, scope, clock.now(), intervals)
    return geojson_response(for_display(json.dumps(collection, separators=(",", ":"))))


@layers_bp.route("/map/rollup/<any(township, village, grid):level>.json", endpoint="rollup")
@requires("view_map")
def rollup_json(level: str):
    """One figure (`measure`) per township, village or grid of the scope, with the county's
    colour classes for it (the choropleth's data)."""
    key = request.args.get("measure") or "households"
    measure = rollup.MEASURES.get(key)
    if measure is None:
        raise BadInput(_("measure 应是 %(choices)s 之一", choices=", ".join(rollup.MEASURES)),
                       field="measure")
    if not can(measure.action):
        raise Forbidden(_("您的角色无权查看“%(measure)s”。", measure=rule_label(measure)))
    session, scope, now = db_session(), current_scope(), clock.now()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    # Care counts reach a role without row-level access only as privacy allows (under 5 withheld).
    suppress = measure.care and not can("export_detail")
    classes = rollup.county_classes(session, scope, level, key, now, intervals)
    figures, withheld = rollup.values(session, scope, level, key, now, intervals), []
    if suppress:
        figures, withheld = rollup.suppressed(figures)
    body = {"level": level, "measure": key, "label": rule_label(measure), "kind": measure.kind,
            "classes": [{"lower": c.lower, "upper": c.upper, "color": c.color} for c in classes],
            "values": figures, "suppressed": withheld}
    return geojson_response(json.dumps(body, separators=(",", ":")), "application/json")


@layers_bp.route(f"/map/heat/<{_HEAT_ROUTE}:kind>.json", endpoint="heat")
@requires("view_map")
def heat_json(kind: str):
    """A heatmap's cells ([lat, lon, count], cells under 5 left out) in the user's scope."""
    heat = HEAT_KINDS[kind]
    if not can(heat.action):
        raise Forbidden(_("您的角色无权查看“%(measure)s”。", measure=rule_label(heat)))
    session, scope = db_session(), current_scope()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    cells = heat_cells(session, scope, kind, clock.now(), intervals)
    crs = _display_crs()
    if crs != "wgs84":
        cells = [[*reversed(geo.shift_lonlat(lon, lat, crs)), n] for lat, lon, n in cells]
    return geojson_response(json.dumps({"kind": kind, "cells": cells}, separators=(",", ":")),
                             "application/json")


@layers_bp.route("/map/trend.svg", endpoint="trend")
@requires("view_metrics")
def trend_chart():
    """The 三率 of the last 12 weeks, by week of report, of the user's scope or of `region` in it,
    as an SVG drawn here (no chart library in the page)."""
    session, scope = db_session(), current_scope()
    code = request.args.get("region") or None
    if code is not None:
        inside = (scope.region_code is not None and scope.unit_id is None
                  and scope.grid_code is None and codes.is_within(code, scope.region_code))
        if not inside:
            raise Forbidden(_("区划 %(code)s 不在您的范围内。", code=code))
        scope = Scope(scope.county_code, region_code=code)
    name = region_name(session, scope.county_code, code or scope.region_code or scope.county_code)
    if name is None:
        raise NotFound(_("没有区划 %(code)s。", code=code), field="region")
    weeks = trend.last_weeks(clock.now().astimezone(CHINA_TIME).date())
    series = trend.weekly_rates(session, scope, weeks)
    svg = trend.trend_svg(_("%(name)s 近 %(n)s 周三率", name=name, n=len(weeks)), weeks, series,
                          {"response_rate": _("响应率"), "resolution_rate": _("解决率"),
                           "satisfaction_rate": _("满意率")}, _("没有有效回访"))
    return geojson_response(svg, "image/svg+xml")


def rule_label(rule) -> str:
    """A rule's, measure's or heatmap's name (label_zh, label_en) in the page's language."""
    if str(get_locale()).startswith("en"):
        return rule.label_en[:1].upper() + rule.label_en[1:]
    return rule.label_zh


def _gap_columns(detail: bool, household: bool):
    if detail:
        return [("code", _("编码")), ("name", _("户主") if household else _("名称")),
                ("village_code", _("村（社区）编码")), ("village", _("村（社区）"))]
    return [("village_code", _("村（社区）编码")), ("village", _("村（社区）")), ("count", _("数量"))]


@bp.route(f"/coverage/<{_GAP_ROUTE}:kind>", endpoint="gaps")
@requires("view_coverage")
def gap_list(kind: str):
    """The list behind a legend count: row by row for roles that may export detail
    (names masked), else per village; `?format=csv|xlsx` downloads it."""
    session, scope, now = db_session(), current_scope(), clock.now()
    rule = coverage.RULES[kind]
    household = rule.target == "household"
    fmt = request.args.get("format")
    if fmt not in (None, "csv", "xlsx"):
        raise BadInput(_("格式只能是 csv 或 xlsx"), field="format")
    detail = can("export_detail")
    connection = session.connection()
    intervals = coverage.VisitIntervals.of_county(session, scope.county_code)
    total = coverage.gap_counts(connection, scope, now, intervals, kinds=(kind,))[kind]
    if detail:
        limit = DOWNLOAD_LIMIT if fmt else PAGE_LIMIT
        rows = coverage.gap_rows(connection, kind, scope, now, intervals, limit=limit)
        if household:
            rows = [{**row, "name": privacy.reveal("name", row["name"], current_user.role)}
                    for row in rows]
    else:
        rows = coverage.gap_rollup(connection, kind, scope, now, intervals)
    columns = _gap_columns(detail, household)
    label = rule_label(rule)
    if fmt is not None:
        if not can("export_detail" if detail else "export_aggregate"):
            raise Forbidden(_("您的角色无权下载此清单。"))
        return download(fmt, label, columns, rows)
    page = render_template("maps/gaps.html", title=label, kind=kind, rows=rows, columns=columns,
                           total=total, detail=detail, shown=len(rows),
                           can_download=can("export_aggregate") or detail)
    return _private(current_app.make_response(page))
