"""The navigation, in one place: (endpoint, label, action, menu) per entry, in order.

A later issue adds its line here when it adds a page; entries whose endpoint does not
exist yet are skipped, and each shows only to roles that may take its action. Entries with
a menu fold into it (台账, 管理) so a township's dozen pages fit one row on a tablet; a menu
holding a single entry for the signed-in user shows as that entry alone.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from gridmap import issue_queries
from gridmap.web.guard import can
from gridmap.web.session import db_session

MENUS = {"ledgers": _l("台账"), "admin": _l("管理")}

NAV_LINKS = [
    ("field.home", _l("走访"), "log_visit", None),
    ("field.issues", _l("我报的事项"), "log_visit", None),  # the field pages; offices use 事项
    ("maps.map", _l("地图"), "view_map", None),
    ("issues.mine", _l("我的待办"), "view_issues", None),
    ("issues.queue", _l("事项"), "view_issues", None),  # its page has the 登记事项 button
    ("ledgers.dashboard", _l("通报"), "view_dashboard", "ledgers"),
    ("metrics.table", _l("指标"), "view_metrics", "ledgers"),
    ("ledgers.targets", _l("挂牌销号"), "view_ledgers", "ledgers"),
    ("ledgers.meetings", _l("恳谈会与实事"), "keep_ledgers", "ledgers"),
    ("controls.ledger", _l("挂账台账"), "view_case_ledger", "ledgers"),
    ("register.households", _l("户籍台账"), "edit_households", "ledgers"),
    ("people.cadres", _l("干部与单位"), "manage_people", "admin"),
    ("grid_edits.editor", _l("网格划分"), "edit_grids", "admin"),
    ("imports.upload", _l("导入"), "import_data", "admin"),
    ("controls.codes", _l("反映二维码"), "print_public_codes", "admin"),
    ("categories.admin", _l("类别与职责"), "manage_categories", "admin"),
    ("audit.log", _l("审计日志"), "read_audit", "admin"),
    ("admin.users", _l("账号与角色"), "manage_users", "admin"),
    ("admin.settings", _l("设置"), "manage_settings", "admin"),
]


class NavLink(NamedTuple):
    """One entry: where it goes, its label, whether its page is open, its counts."""

    href: str
    label: str
    active: bool
    count: int | None
    unread: int | None


class NavMenu(NamedTuple):
    """A menu (台账, 管理) and the entries the user may use in it."""

    label: str
    links: list[NavLink]

    @property
    def active(self) -> bool:
        """Whether the open page is one of the menu's."""
        return any(link.active for link in self.links)


# Entries that show counts beside their label: endpoint → (open, unread) for the signed-in user.
COUNTS = {"issues.mine": lambda: issue_queries.task_counts(db_session(), current_user)}


def nav_links() -> list[NavLink | NavMenu]:
    """The entries the signed-in user may use, in order, each a NavLink or a NavMenu (at the
    place of its first entry). An entry with a count is left out while the count is 0 and its
    page is not open."""
    items: list[NavLink | NavMenu] = []
    menus: dict[str, NavMenu] = {}
    for endpoint, label, action, menu in NAV_LINKS:
        if endpoint not in current_app.view_functions or not can(action):
            continue
        href = url_for(endpoint)
        counts = COUNTS[endpoint]() if endpoint in COUNTS else None
        count, unread = (counts.open, counts.unread) if counts else (None, None)
        if count == 0 and request.path != href:
            continue
        link = NavLink(href, label, request.path == href, count, unread)
        if menu is None:
            items.append(link)
        elif menu in menus:
            menus[menu].links.append(link)
        else:
            menus[menu] = NavMenu(MENUS[menu], [link])
            items.append(menus[menu])
    return [item.links[0] if isinstance(item, NavMenu) and len(item.links) == 1 else item
            for item in items]


def init_app(app) -> None:
    """Make `nav_links` and `can` available to every template."""
    app.jinja_env.globals.update(can=can, nav_links=nav_links)
