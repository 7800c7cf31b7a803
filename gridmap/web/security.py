"""Response headers that close the browser's doors, and running behind an HTTPS proxy.

* A Content-Security-Policy: scripts only from this server, plus the page's own inline
  script carrying the request's nonce (`csp_nonce()` in templates). Folium's map script is
  placed in such a script by templates/maps/map.html; its header only links files under
  static/vendor/. Styles allow 'unsafe-inline': Folium writes `<style>` blocks and the
  legend's swatches carry their colour in a style attribute. Images may be data: URIs
  (Leaflet's) and, when a basemap is set, that tile server's.
* No framing (clickjacking), no MIME sniffing, referrers only to this site, geolocation
  and the camera only for this site (the tablet's visit form uses both).
* `GRIDMAP_HTTPS=1`: cookies marked Secure, HSTS, https URLs. `GRIDMAP_PROXY_HOPS=N`:
  trust N proxies' X-Forwarded-For/-Proto/-Host (werkzeug's ProxyFix), so throttling sees
  the real client address. `GRIDMAP_TRUSTED_HOSTS=a,b`: other Host headers get 400.
"""

from __future__ import annotations

import secrets

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix


def csp_nonce() -> str:
    """This request's script nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str, tile_hosts: list[str] | tuple[str, ...] = ()) -> str:
    """The policy for one response; images also from the configured basemap's tile hosts."""
    images = ["'self'", "data:", *tile_hosts]
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {' '.join(images)}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_app(app: Flask) -> None:
    """Security headers on every response; proxy, HTTPS and trusted-host settings."""
    https = bool(app.config.get("GRIDMAP_HTTPS"))
    if https:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True,
                          PREFERRED_URL_SCHEME="https")
    hops = int(app.config.get("GRIDMAP_PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config.get("GRIDMAP_TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["GRIDMAP_TRUSTED_HOSTS"])
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    from gridmap.maps.county import Basemap  # the one parser of the basemap settings

    tile_hosts = Basemap.from_config(app.config).hosts()

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy",
                           content_security_policy(csp_nonce(), tile_hosts))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
