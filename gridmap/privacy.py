"""Personal data (names, phones, ID numbers) shown masked by default (PIPL Art. 28).

Who may see a value unmasked is the policy action `unmask_personal_data`
(gridmap.policy.ACTIONS). `reveal()` masks or not; `show()` is the explicit per-record
"show" a permitted role asks for with a reason: it is the one path that unmasks a stored
value, and it writes who, what, which record and why to the audit log (gridmap.audit).
Aggregates of care categories shown to leaders go through `suppress_small`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gridmap import audit, codes, policy
from gridmap.datakey import decrypt_id_number
from gridmap.errors import BadInput, Forbidden, NotFound, _
from gridmap.models import Household

# 复姓: compound surnames kept whole, so '欧阳娜娜' masks as '欧阳**', not '欧***'.
COMPOUND_SURNAMES = frozenset([
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "司空", "夏侯", "轩辕", "令狐", "端木", "西门", "独孤", "南宫", "百里", "呼延",
    "万俟", "澹台", "公冶", "太史", "申屠", "钟离", "闻人", "赫连", "拓跋",
])
NAME_SEPARATORS = "·• "  # e.g. 买买提·艾力: separators stay, letters are masked


def mask_phone(phone: str | None) -> str | None:
    """'13812345678' → '138****5678': first 3 and last 4 digits kept, short numbers fully masked."""
    if not phone:
        return phone
    digits = "".join(phone.split())
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str | None) -> str | None:
    """'532329199001011234' → '532329********1234': region (6) and last 4 kept."""
    if not id_number:
        return id_number
    value = id_number.strip()
    if len(value) < 11:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(name: str | None) -> str | None:
    """'张三' → '张*', '欧阳娜娜' → '欧阳**': the surname stays, every other letter is a '*'."""
    if not name:
        return name
    value = name.strip()
    letters = sum(c not in NAME_SEPARATORS for c in value)
    # A name that is only its surname (王, or 王· with a separator) shows nothing.
    keep = 2 if value[:2] in COMPOUND_SURNAMES and letters > 2 else 1 if letters > 1 else 0
    return value[:keep] + "".join(c if c in NAME_SEPARATORS else "*" for c in value[keep:])


MASKS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def may_unmask(role: str) -> bool:
    """May this role see personal data unmasked? (the policy table decides)."""
    return policy.allowed(role, "unmask_personal_data")


def reveal(kind: str, value: str | None, role: str, unmask: bool = False) -> str | None:
    """The value as `role` may see it: masked unless unmasking was asked for and is allowed.

    `kind` is one of MASKS ('name', 'phone', 'id_number').
    """
    try:
        mask = MASKS[kind]
    except KeyError:
        raise ValueError(f"unknown kind of personal data {kind!r}; use one of {sorted(MASKS)}") from None
    if unmask and may_unmask(role):
        return value
    return mask(value)


REASON_LIMITS = (2, 200)  # a reason says why, in a few words; not an essay


def show(session, actor, household_id: int, kind: str, reason: str, *,
         address: str | None = None) -> str | None:
    """One personal value of one household, unmasked for `actor`, logged with `reason`.

    Refused: a role that may not unmask (Forbidden), a household outside the actor's scope
    (NotFound: never say it exists), no reason. The caller commits (the log line with it).
    """
    if not may_unmask(actor.role):
        raise Forbidden(_("您的角色无权查看未遮盖的个人信息。"))
    if kind not in MASKS:
        raise BadInput(_("没有这种个人信息：%(kind)r", kind=kind), field="kind")
    reason = (reason or "").strip()
    low, high = REASON_LIMITS
    if not low <= len(reason) <= high:
        raise BadInput(_("请写明查看的原因（%(low)s–%(high)s 字）", low=low, high=high),
                       field="reason")
    household = session.execute(select(Household).where(
        Household.id == household_id, policy.Scope.of_user(actor).households())).scalar()
    if household is None:
        raise NotFound(_("没有这一户，或不在您的范围内。"))
    value = {"name": household.head_name, "phone": household.phone,
             "id_number": decrypt_id_number(household.id_number)}[kind]
    audit.record(session, actor, "unmask", f"household:{household.code}",
                 {"kind": kind, "reason": reason}, address=address)
    return reveal(kind, value, actor.role, unmask=True)


@dataclass(frozen=True)
class Reporter:
    """An issue's reporter as one reader may see them: masked, partly unmasked, or withheld."""

    name: str | None
    phone: str | None
    withheld: bool = False  # a 举报 reporter, hidden from the unit and village reported on
    unmasked: tuple[str, ...] = ()  # which values are shown in full ("name", "phone")


def in_village_of(user, issue) -> bool:
    """Is `user` (who can see `issue`) inside the issue's village: its village staff, the grid
    worker of its grid, a cadre paired with the reporting household? A township's staff are not."""
    if user.role == "cadre":
        return issue.household_id is not None
    scope = user.scope_code or ""
    return (user.role in ("village_staff", "grid_worker") and bool(issue.village_code)
            and len(scope) >= codes.LENGTH["village"]
            and (scope.startswith(issue.village_code) or scope == issue.grid_code))


def reporter_for(user, issue, appeal_type: str | None) -> Reporter:
    """The reporter of `issue` (already in the user's scope) as `user` may see them.

    * A 举报 (`tip_off`): withheld entirely from unit handlers and from everyone in the village
      (either may be what is reported on); masked for the township and county.
    * The handler of the unit the issue is dispatched to sees the phone (it must call back).
    * Roles that may unmask and work inside the reporter's village see name and phone.
    * Everyone else: masked (name 张*, phone 138****5678).
    """
    if appeal_type == "tip_off" and (user.role == "unit_handler" or in_village_of(user, issue)):
        return Reporter(None, None, withheld=True)
    name, phone = mask_name(issue.reporter_name), mask_phone(issue.reporter_phone)
    if appeal_type == "tip_off":
        return Reporter(name, phone)
    if (user.role == "unit_handler" and issue.responsible_unit_id is not None
            and user.unit_id == issue.responsible_unit_id and issue.reporter_phone):
        return Reporter(name, issue.reporter_phone, unmasked=("phone",))
    if may_unmask(user.role) and in_village_of(user, issue):
        shown = tuple(k for k, v in (("name", issue.reporter_name), ("phone", issue.reporter_phone))
                      if v)
        return Reporter(issue.reporter_name, issue.reporter_phone, unmasked=shown)
    return Reporter(name, phone)


def log_reporter_shown(session, user, issue, reporter: Reporter, *,
                       address: str | None = None) -> None:
    """A trace of each showing of an unmasked reporter value (who, which issue, which values)."""
    if reporter.unmasked:
        audit.record(session, user, "unmask", f"issue:{issue.code}",
                     {"kind": "reporter", "values": list(reporter.unmasked),
                      "reason": "承办回访" if user.role == "unit_handler" else "本村事项"},
                     address=address)


SMALL_COUNT = 5  # care-category counts below this are not shown to aggregate readers


def suppress_small(count: int | None, threshold: int = SMALL_COUNT) -> int | None:
    """A care-category count as an aggregate may show it: 1–4 become None (show "<5").

    Zero stays (it names nobody). A caller that also shows a total must make sure the total
    does not give a suppressed cell back (suppress a second cell, or round the total).
    """
    if count is not None and 0 < count < threshold:
        return None
    return count


def suppress_counts(counts: dict, threshold: int = SMALL_COUNT) -> dict:
    """`suppress_small` on every value of a {category: count} mapping."""
    return {key: suppress_small(value, threshold) for key, value in counts.items()}
