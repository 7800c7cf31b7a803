"""The audit log: who did what, when. One call records, one query reads. Core: no web.

    audit.record(session, actor, "unmask", "household:H0001", {"kind": "phone", "reason": …})

`actor` is a signed-in account (anything with id, login, county_code), None for the system
(e.g. `gridmap escalate`), or a text naming who it was (the login typed at a failed sign-in,
`cli:root` for a command). Rows go to `audit_event`, a ledger: the application's database
role may only read and append it, and a trigger refuses UPDATE, DELETE and TRUNCATE to anyone
(tests/db/test_least_privilege.py). Inspectors read it, filtered and paged, on /audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text

from gridmap import clock
from gridmap.calendar import CHINA_TIME
from gridmap.errors import BadInput, Message, _
from gridmap.models import AuditEvent

# What is recorded: action → its label. An issue transition's lifecycle action is in `detail`.
ACTIONS: dict[str, Message] = {
    "sign_in": _("登录"),
    "sign_in_failed": _("登录失败"),
    "sign_out": _("退出登录"),
    "user_create": _("创建账号"),
    "user_disable": _("停用账号"),
    "user_enable": _("启用账号"),
    "user_set_role": _("更改角色"),
    "user_reset_password": _("重设密码"),
    "user_change_password": _("修改密码"),
    "unmask": _("查看个人信息"),
    "export": _("导出"),
    "import": _("导入"),
    "import_check": _("导入试运行"),
    "issue_transition": _("事项办理"),
    "token_issue": _("发放接口令牌"),
    "token_revoke": _("吊销接口令牌"),
    "target_change": _("挂牌销号"),
    "ledger_record": _("登记台账"),
    "household_change": _("修改户籍台账"),
    "handover": _("工作交接"),
    "grid_change": _("修改网格"),
    "audit_prune": _("清理过期审计日志"),
    "category_set": _("修改事项类别"),
    "ownership_set": _("修改职责分工"),
    "code_change": _("记录区划代码变更"),
    "cadre_change": _("修改干部信息"),
    "unit_change": _("修改单位信息"),
    "assignment_change": _("调整包保任务"),
    "setting_change": _("修改设置"),
}
SYSTEM = "system"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def actor_label(actor) -> str:
    """How the log names an actor: the account's login, the given text, or 'system'."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor[:64] or SYSTEM
    return actor.login


def record(session, actor, action: str, target: str | None = None, detail: dict | None = None,
           *, county_code: str | None = None, address: str | None = None) -> None:
    """Append one event (in the caller's transaction; works on a Session or a Connection).

    The county is the actor's unless given (it must be, for the system or a text actor).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to gridmap.audit.ACTIONS")
    county = county_code or getattr(actor, "county_code", None)
    if not county:
        raise ValueError("audit.record needs a county_code for a system or text actor")
    session.execute(insert(AuditEvent).values(
        county_code=county, at=clock.now(), actor=actor_label(actor),
        actor_id=getattr(actor, "id", None), action=action,
        target=(target or None) and target[:200], detail=detail or {},
        address=(address or None) and address[:64]))


@dataclass(frozen=True)
class Filters:
    """What the reader narrows the log to (every part optional)."""

    action: str | None = None
    actor: str | None = None  # a login, exactly (case-insensitive)
    target: str | None = None  # contained in the target, e.g. "household:" or an issue code
    since: date | None = None  # China dates, both ends included
    until: date | None = None


@dataclass(frozen=True)
class Page:
    """One page of events, newest first, and the cursor of the next (older) page."""

    events: list[AuditEvent]
    older: int | None  # pass as `before` for the next page; None when this is the last


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=CHINA_TIME)


def events(session, county_code: str, filters: Filters = Filters(), *, before: int | None = None,
           limit: int = PAGE_SIZE) -> Page:
    """The county's events matching `filters`, newest first, `limit` (≤ MAX_PAGE_SIZE) a page."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    query = select(AuditEvent).where(AuditEvent.county_code == county_code)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(func.lower(AuditEvent.actor) == filters.actor.strip().lower())
    if filters.target:
        query = query.where(AuditEvent.target.contains(filters.target, autoescape=True))
    if filters.since:
        query = query.where(AuditEvent.at >= _day_start(filters.since))
    if filters.until:
        query = query.where(AuditEvent.at < _day_start(filters.until + timedelta(days=1)))
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    return Page(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


EXPORT_LIMIT = 50_000  # rows in one download of the log; narrow the filters for more


def export_rows(session, county_code: str, filters: Filters = Filters(),
                limit: int = EXPORT_LIMIT) -> list[AuditEvent]:
    """The county's events matching `filters`, newest first, at most `limit` (for a download)."""
    rows: list[AuditEvent] = []
    before = None
    while len(rows) < limit:
        page = events(session, county_code, filters, before=before,
                      limit=min(MAX_PAGE_SIZE, limit - len(rows)))
        rows.extend(page.events)
        if page.older is None:
            break
        before = page.older
    return rows


# --- retention -------------------------------------------------------------------------------

LEGAL_MINIMUM_DAYS = 180  # 网络安全法 第二十一条: network logs are kept at least six months


@dataclass(frozen=True)
class Pruned:
    """What a prune removed (or, in a dry run, would remove)."""

    before: datetime
    rows: int
    committed: bool


def prune_cutoff(retention_days: int, before: date | None = None) -> datetime:
    """The cut-off of a prune: `before` (a China date), or now minus the retention. A cut-off
    younger than the retention (or than 180 days) is refused: the log keeps at least that."""
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) \
            or retention_days < LEGAL_MINIMUM_DAYS:
        raise BadInput(_("审计日志保留天数（audit.retention_days）至少 %(days)s 天，而不是 %(value)r",
                         days=LEGAL_MINIMUM_DAYS, value=retention_days), field="retention_days")
    latest = clock.now() - timedelta(days=retention_days)
    if before is None:
        return latest
    cutoff = _day_start(before)
    if cutoff > latest:
        raise BadInput(_("%(date)s 之后的日志还在保留期（%(days)s 天）内，不能清理；最晚可清理到 %(latest)s",
                         date=before.isoformat(), days=retention_days,
                         latest=latest.astimezone(CHINA_TIME).date().isoformat()), field="before")
    return cutoff


def prune(owner_connection, county_code: str, cutoff: datetime, actor, *,
          commit: bool = False) -> Pruned:
    """Delete the county's events older than `cutoff` (prune_cutoff), as the owner role: the
    application's role has no DELETE, and the table's trigger lets only such a prune through.
    A dry run counts. The prune itself is recorded (in the same transaction)."""
    rows = owner_connection.execute(select(func.count()).where(
        AuditEvent.county_code == county_code, AuditEvent.at < cutoff)).scalar_one()
    if commit and rows:
        owner_connection.execute(text("SELECT set_config('gridmap.audit_prune_before', :at, true)"),
                                 {"at": cutoff.isoformat()})
        owner_connection.execute(AuditEvent.__table__.delete().where(
            AuditEvent.county_code == county_code, AuditEvent.at < cutoff))
        owner_connection.execute(text("SELECT set_config('gridmap.audit_prune_before', '', true)"))
    if commit:
        record(owner_connection, actor, "audit_prune", f"audit:{county_code}",
               {"before": cutoff.isoformat(), "rows": rows}, county_code=county_code)
    return Pruned(cutoff, rows, commit)
