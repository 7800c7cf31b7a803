"""The navigation, in one place: (endpoint, label, action) per entry, in order.

A later issue adds its line here when it adds a page; entries whose endpoint does not
exist yet are skipped, and each shows only to roles that may take its action.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from gridmap.web.guard import can

NAV_LINKS = [
    ("maps.map", _l("地图"), "view_map"),
    ("issues.queue", _l("事项"), "view_issues"),
    ("issues.new", _l("登记事项"), "report_issue"),
    ("metrics.table", _l("指标"), "view_metrics"),
]


def nav_links():
    """(href, label, active) of the navigation entries the signed-in user may use."""
    links = []
    for endpoint, label, action in NAV_LINKS:
        if endpoint in current_app.view_functions and can(action):
            href = url_for(endpoint)
            links.append((href, label, request.path == href))
    return links


def init_app(app) -> None:
    """Make `nav_links` and `can` available to every template."""
    app.jinja_env.globals.update(can=can, nav_links=nav_links)
