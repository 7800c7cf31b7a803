"""Issue categories and ownership, per county: what kind an issue is, its stage limits, who owns it.

    limits_of(session, "532329", "water")          # StageLimits from the category, else county defaults
    owner(session, "532329", "water", "532329104201", "township")  # the unit that handles it there

A category (`issue_category`) has an appeal type (咨询/求助/投诉/举报/建议) and its stage
limits: triage within hours (urgent or normal), handling within working days, feedback within
days. Ownership (`issue_ownership`) is the dispatch table: category × region → unit. The
region's level (county, township, village) is the handling level the rule is for, so
escalation asks the same table one level up. Where no rule applies, the level's own office (村委会, 乡镇人民政府) handles it.
Core: no Flask, no click.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from gridmap import audit, codes, settings
from gridmap.errors import BadInput, NotFound, _
from gridmap.models import APPEAL_TYPES, IssueCategory, IssueOwnership, Region, Unit

CATEGORY_CODE = r"[0-9A-Za-z_-]{1,32}"
NAME_LIMIT = 50  # as the import reads it (importers/specs.py)
APPEAL_LABELS = {"inquiry": _("咨询"), "help": _("求助"), "complaint": _("投诉"),
                 "tip_off": _("举报"), "suggestion": _("建议")}
LEVEL_LENGTH = codes.LENGTH  # a handling level's region code length
OFFICE_KIND = {"village": "village", "township": "township"}  # the level's own office


@dataclass(frozen=True)
class StageLimits:
    """How long each stage may take for one category."""

    triage_hours: int
    urgent_triage_hours: int
    handling_days: int  # working days
    feedback_days: int  # calendar days

    def triage(self, urgency: str) -> int:
        """Hours to triage an issue of `urgency`."""
        return self.urgent_triage_hours if urgency == "urgent" else self.triage_hours

    @classmethod
    def of(cls, category: IssueCategory) -> StageLimits:
        """The limits a category row holds."""
        return cls(category.triage_hours, category.urgent_triage_hours,
                   category.handling_days, category.feedback_days)


def county_defaults(session, county_code: str) -> StageLimits:
    """The county-wide defaults (settings) for a category that does not say."""
    values = settings.all(session, county_code)
    return StageLimits(values["issue.triage_hours.normal"], values["issue.triage_hours.urgent"],
                       values["issue.handling_days"], values["issue.feedback_days"])


def find(session, county_code: str, code: str) -> IssueCategory | None:
    """The county's category `code`, or None."""
    return session.execute(select(IssueCategory).where(
        IssueCategory.county_code == county_code, IssueCategory.code == code)).scalar_one_or_none()


def require(session, county_code: str, code: str) -> IssueCategory:
    """The county's category `code`, or BadInput naming the field."""
    category = find(session, county_code, code or "")
    if category is None:
        raise BadInput(_("没有事项类别 %(code)r；`gridmap categories list` 列出本县的类别",
                         code=code), field="category")
    return category


def limits_of(session, county_code: str, code: str) -> StageLimits:
    """The stage limits of category `code` (the county defaults when it is not in the table)."""
    category = find(session, county_code, code)
    if category is None:
        return county_defaults(session, county_code)
    return StageLimits.of(category)


def all_of(session, county_code: str) -> list[IssueCategory]:
    """The county's categories by code."""
    return list(session.execute(select(IssueCategory).where(
        IssueCategory.county_code == county_code).order_by(IssueCategory.code)).scalars())


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadInput(_("%(field)s 应是正整数，而不是 %(value)r", field=name, value=value),
                       field=name)
    return value


def set_category(session, county_code: str, code: str, *, name: str | None = None,
                 appeal_type: str | None = None, actor=None, **limits) -> IssueCategory:
    """Create or change category `code`; limits not given keep their value (new: the defaults).

    Recorded in the audit log as done by `actor` (an account or a `cli:` text) with the values
    before and after."""
    if not isinstance(code, str) or not re.fullmatch(CATEGORY_CODE, code):
        raise BadInput(_("类别代码 %(code)r 只能用字母、数字、- 和 _（至多 32 位）", code=code),
                       field="code")
    existing = find(session, county_code, code)
    if existing is None and not (name and name.strip()):
        raise BadInput(_("新类别需要名称"), field="name")
    if appeal_type is not None and appeal_type not in APPEAL_TYPES:
        raise BadInput(_("诉求类型应是 %(choices)s 之一", choices=", ".join(APPEAL_TYPES)),
                       field="appeal_type")
    base = existing or county_defaults(session, county_code)
    values = {field: _positive(field, limits[field]) if limits.get(field) is not None
              else getattr(base, field) for field in StageLimits.__dataclass_fields__}
    values |= {"name": (name or "").strip() or existing.name,
               "appeal_type": appeal_type or (existing.appeal_type if existing else "help")}
    if len(values["name"]) > NAME_LIMIT:
        raise BadInput(_("类别名称至多 %(limit)s 字", limit=NAME_LIMIT), field="name")
    before = _category_values(existing) if existing is not None else None
    statement = insert(IssueCategory).values(county_code=county_code, code=code, **values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[IssueCategory.county_code, IssueCategory.code], set_=values))
    if before != values:
        audit.record(session, actor, "category_set", f"category:{code}",
                     {"before": before, "after": values}, county_code=county_code)
    session.expire_all()
    return find(session, county_code, code)


def _category_values(category: IssueCategory) -> dict:
    return {"name": category.name, "appeal_type": category.appeal_type,
            **{field: getattr(category, field) for field in StageLimits.__dataclass_fields__}}


def ownership_of(session, county_code: str) -> list[tuple[str, str, str, str]]:
    """(category, region code, unit code, unit name) of every dispatch rule of the county."""
    return [tuple(row) for row in session.execute(
        select(IssueOwnership.category_code, IssueOwnership.region_code, Unit.code, Unit.name)
        .join(Unit, Unit.id == IssueOwnership.unit_id)
        .where(IssueOwnership.county_code == county_code)
        .order_by(IssueOwnership.category_code, IssueOwnership.region_code))]


def set_owner(session, county_code: str, category_code: str, region_code: str,
              unit_code: str, *, actor=None) -> None:
    """Issues of `category_code` in `region_code` go to unit `unit_code` (replaces the old rule);
    recorded in the audit log as done by `actor` with the unit before and after."""
    require(session, county_code, category_code)
    region = session.execute(select(Region.code).where(
        Region.county_code == county_code, Region.code == str(region_code or ""),
        Region.current())).scalar()
    if region is None:
        raise NotFound(_("本县没有区划 %(code)r", code=region_code), field="region")
    unit_id = session.execute(select(Unit.id).where(
        Unit.county_code == county_code, Unit.code == str(unit_code or ""))).scalar()
    if unit_id is None:
        raise NotFound(_("本县没有单位 %(code)r", code=unit_code), field="unit")
    before = session.execute(select(Unit.code).join(
        IssueOwnership, IssueOwnership.unit_id == Unit.id).where(
        IssueOwnership.county_code == county_code, IssueOwnership.category_code == category_code,
        IssueOwnership.region_code == region_code)).scalar()
    statement = insert(IssueOwnership).values(
        county_code=county_code, category_code=category_code, region_code=region_code,
        unit_id=unit_id)
    session.execute(statement.on_conflict_do_update(
        index_elements=[IssueOwnership.county_code, IssueOwnership.category_code,
                        IssueOwnership.region_code], set_={"unit_id": unit_id}))
    if before != unit_code:
        audit.record(session, actor, "ownership_set", f"ownership:{category_code}@{region_code}",
                     {"before": before, "after": unit_code}, county_code=county_code)


def owner(session, county_code: str, category_code: str, village_code: str | None,
          level: str) -> Unit | None:
    """The unit that handles `category_code` at `level` for a place in `village_code`.

    The rule for the region of that level containing the village, else the level's own office
    (村委会 / 乡镇人民政府); None when there is neither (the county level has no office).
    """
    place = (village_code or county_code)[:LEVEL_LENGTH[level]]
    if len(place) < LEVEL_LENGTH[level]:
        return None
    rule = session.execute(
        select(Unit).join(IssueOwnership, IssueOwnership.unit_id == Unit.id).where(
            IssueOwnership.county_code == county_code,
            IssueOwnership.category_code == category_code,
            IssueOwnership.region_code == place)).scalar()
    if rule is not None or level not in OFFICE_KIND:
        return rule
    return session.execute(select(Unit).where(
        Unit.county_code == county_code, Unit.kind == OFFICE_KIND[level],
        Unit.region_code == place).order_by(Unit.code).limit(1)).scalar()
