"""The navigation, in one place: (endpoint, label, action) per entry, in order.

A later issue adds its line here when it adds a page; entries whose endpoint does not
exist yet are skipped, and each shows only to roles that may take its action.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from gridmap import issue_queries
from gridmap.web.guard import can
from gridmap.web.session import db_session

NAV_LINKS = [
    ("field.home", _l("走访"), "log_visit"),
    ("field.issues", _l("我报的事项"), "report_issue"),
    ("maps.map", _l("地图"), "view_map"),
    ("issues.mine", _l("我的待办"), "view_issues"),
    ("issues.queue", _l("事项"), "view_issues"),
    ("issues.new", _l("登记事项"), "report_issue"),
    ("controls.ledger", _l("挂账台账"), "view_case_ledger"),
    ("controls.codes", _l("反映二维码"), "print_public_codes"),
    ("metrics.table", _l("指标"), "view_metrics"),
    ("ledgers.dashboard", _l("通报"), "view_dashboard"),
    ("ledgers.targets", _l("挂牌销号"), "view_ledgers"),
    ("ledgers.meetings", _l("台账"), "keep_ledgers"),
    ("register.households", _l("户籍台账"), "edit_households"),
    ("register.cadres", _l("交接"), "manage_people"),
    ("imports.upload", _l("导入"), "import_data"),
    ("audit.log", _l("审计日志"), "read_audit"),
    ("categories.admin", _l("类别与职责"), "manage_categories"),
]


# Entries that show counts beside their label: endpoint → (open, unread) for the signed-in user.
COUNTS = {"issues.mine": lambda: issue_queries.task_counts(db_session(), current_user)}


def nav_links():
    """(href, label, active, count or None, unread or None) of the entries the signed-in user
    may use; an entry with a count is left out while the count is 0 and the page is not open."""
    links = []
    for endpoint, label, action in NAV_LINKS:
        if endpoint in current_app.view_functions and can(action):
            href = url_for(endpoint)
            counts = COUNTS[endpoint]() if endpoint in COUNTS else None
            count, unread = (counts.open, counts.unread) if counts else (None, None)
            if count == 0 and request.path != href:
                continue
            links.append((href, label, request.path == href, count, unread))
    return links


def init_app(app) -> None:
    """Make `nav_links` and `can` available to every template."""
    app.jinja_env.globals.update(can=can, nav_links=nav_links)
