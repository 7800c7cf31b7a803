"""Folium without CDNs: every script, style, font and icon comes from static/vendor/.

Folium's classes point at CDNs (jsdelivr, cdnjs, code.jquery.com, netdna). A county
intranet tablet has no route there, and a page that loads Leaflet from outside is blank
offline. `use_local_assets` rewrites the links of one map's elements, per instance, when
the map is built at request time: nothing here changes Folium's classes, and nothing
runs at import. scripts/vendor.py copies the files named here out of node_modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from branca.element import Element
from folium.elements import JSCSSMixin

# Folium's resource name -> file under static/vendor/ (see scripts/vendor.py).
LOCAL_JS = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
    "leaflet-heat.js": "leaflet-heat/leaflet-heat.js",
}
LOCAL_CSS = {
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/css/bootstrap.min.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
}
# Not on npm. Icons use prefix="fa" (Font Awesome) instead of glyphicons, and no `angle=`.
DROPPED = frozenset({"glyphicons_css", "awesome_rotate_css"})

# The guard of SETUP-NOTES §5: a script or stylesheet that leaves the host.
OUTSIDE_LINK = re.compile(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", re.IGNORECASE)


class AssetError(RuntimeError):
    """A map element wants a file we do not serve locally: vendor it or drop the element."""


def referenced_vendor_files() -> list[str]:
    """Every file under static/vendor/ that a map page may link to."""
    return sorted(set(LOCAL_JS.values()) | set(LOCAL_CSS.values()))


def _elements(root: Element) -> Iterator[Element]:
    yield root
    for child in list(root._children.values()):
        yield from _elements(child)


def _localize(links: Iterable[tuple[str, str]], table: dict[str, str], owner: Element,
              vendor_url: Callable[[str], str], omit: frozenset[str]) -> list[tuple[str, str]]:
    local = []
    for name, url in links:
        if name in DROPPED or name in omit:
            continue
        if name not in table:
            raise AssetError(
                f"{type(owner).__name__} links {name!r} from {url}, which is not vendored: "
                "add it to package.json, scripts/vendor.py and gridmap/maps/assets.py")
        local.append((name, vendor_url(table[name])))
    return local


def use_local_assets(root: Element, vendor_url: Callable[[str], str],
                     omit: Iterable[str] = ()) -> None:
    """Point every Folium element under `root` at local copies; `omit` drops named links.

    `vendor_url` maps a path under static/vendor/ to a URL (in Flask:
    ``url_for("static", filename="vendor/" + path)``). Call it after the last element is
    added and before rendering.
    """
    omitted = frozenset(omit)
    for element in _elements(root.get_root()):
        if isinstance(element, JSCSSMixin):
            # Instance attributes: Folium's class lists stay untouched for everyone else.
            element.default_js = _localize(element.default_js, LOCAL_JS, element,
                                           vendor_url, omitted)
            element.default_css = _localize(element.default_css, LOCAL_CSS, element,
                                            vendor_url, omitted)


def assert_offline(html: str) -> str:
    """Return `html` unchanged, or raise if it still links a script or style from outside."""
    found = OUTSIDE_LINK.search(html)
    if found:
        start = found.start()
        raise AssetError(f"page would load from outside the server: {html[start:start + 160]!r}")
    return html
