"""The map area: the county map page (`/`) and its layers as GeoJSON (`/map/<layer>.geojson`).

Two blueprints, because they answer differently: `maps` renders pages (and error pages),
`layers` answers JSON (and JSON errors) for map.js and other systems. Thin views over
gridmap.maps: a query, a build, a response.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _

from gridmap.maps.county import Basemap, build_county_map, legend, map_config, render_parts
from gridmap.maps.layers import grid_household_counts, grid_layer, region_layer, scope_bounds
from gridmap.maps.styles import count_classes
from gridmap.web.errors import answers_with, render_json
from gridmap.web.guard import current_scope, requires
from gridmap.web.session import db_session

bp = Blueprint("maps", __name__)
layers_bp = answers_with(Blueprint("layers", __name__), render_json)
LEVELS = ("township", "village", "grid")


def _basemap(config) -> Basemap:
    return Basemap.from_setting(config.get("GRIDMAP_BASEMAP"),
                                config.get("GRIDMAP_BASEMAP_ATTRIBUTION"))


@bp.record_once
def _check_basemap(state) -> None:
    """A bad GRIDMAP_BASEMAP stops the app at start-up, not at every map request."""
    _basemap(state.app.config)


def _vendor_url(path: str) -> str:
    return url_for("static", filename="vendor/" + path)


def _private(response):
    # Scoped data: never kept by a shared cache, always revalidated by the tablet.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/", endpoint="map")
@requires("view_map")
def county_map():
    """The map page: a skeleton and its configuration; map.js fetches the layers."""
    session, scope = db_session(), current_scope()
    bounds = scope_bounds(session, scope)
    classes = count_classes(grid_household_counts(session, scope))
    layer_urls = {level: url_for("layers.layer", layer=level + "s") for level in LEVELS}
    center = None
    if bounds is not None:
        center = [(bounds.south + bounds.north) / 2, (bounds.west + bounds.east) / 2]
    folium_map = build_county_map(vendor_url=_vendor_url, basemap=_basemap(current_app.config),
                                  center_latlon=center)
    parts = render_parts(folium_map, legend_markup=legend(classes),
                         config=map_config(layer_urls, classes, bounds))
    empty = None if bounds else _("您的范围内还没有区划或网格数据。")
    page = render_template("maps/map.html", map=parts, title=_("地图"), empty_message=empty)
    return _private(current_app.make_response(page))


@layers_bp.route("/map/<any(townships, villages, grids):layer>.geojson", endpoint="layer")
@requires("view_map")
def layer_geojson(layer: str):
    """One layer of the map as GeoJSON (RFC 7946, lon/lat), limited to the user's scope."""
    session, scope = db_session(), current_scope()
    if layer == "grids":
        collection = grid_layer(session, scope)
    else:  # the route's converter admits only townships and villages besides
        collection = region_layer(session, scope, layer[:-1])
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return _private(response)
