"""Personal data (names, phones, ID numbers) shown masked by default (PIPL Art. 28).

Who may see a value unmasked is the policy action `unmask_personal_data`
(gridmap.policy.ACTIONS). Recording *who unmasked what, when* belongs to the audit
log that a later issue adds; `reveal()` is the single place that will call it.
"""

from __future__ import annotations

from gridmap import policy

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
