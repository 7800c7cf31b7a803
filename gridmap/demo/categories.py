"""The demo county's issue categories and dispatch rules (category × region → unit).

Deterministic (no random draws), so adding them left the other demo files as they were.
Each category is owned in every township by the 站所 that handles it there (or the 乡镇人民政府
when the township has no such 站所) and in the county by its agency; at village level the
村委会 handles everything (gridmap.categories.owner), so no village rules are written.
"""

from __future__ import annotations

from gridmap.demo import people

COLUMNS = {
    "issue_categories": ("code", "name", "appeal_type", "triage_hours", "urgent_triage_hours",
                         "handling_days", "feedback_days"),
    "issue_ownership": ("category_code", "region_code", "unit_code"),
}
# name → (code, appeal type); the limits and owners are in people.ISSUE_CATEGORIES.
CODES = {
    "道路破损": ("road", "求助"), "饮水安全": ("drinking_water", "求助"),
    "邻里纠纷": ("neighbour_dispute", "求助"), "低保申请": ("minimum_living", "求助"),
    "环境卫生": ("sanitation", "投诉"), "路灯损坏": ("street_light", "求助"),
    "土地纠纷": ("land_dispute", "投诉"), "医疗救助": ("medical_aid", "求助"),
    "危房改造": ("unsafe_housing", "求助"), "就业求助": ("employment", "求助"),
    "农田灌溉": ("irrigation", "求助"), "治安隐患": ("public_security", "举报"),
    "教育助学": ("education_aid", "咨询"), "森林防火": ("forest_fire", "举报"),
    "地质灾害隐患": ("geohazard", "举报"),
}


def code_of(name: str) -> str:
    """The category code of a demo category name."""
    return CODES[name][0]


def build(county) -> None:
    """The categories table and the ownership table of the demo county."""
    units = {u["name"]: u["code"] for u in county.tables["units"]}
    townships = [r for r in county.regions if r["level"] == "township"]
    county_code = next(r["code"] for r in county.regions if r["level"] == "county")
    categories, ownership = [], []
    for name, (limit_days, agency, section, _titles) in people.ISSUE_CATEGORIES.items():
        code, appeal = CODES[name]
        fast = limit_days <= 3  # safety matters: triaged within a working morning
        categories.append({"code": code, "name": name, "appeal_type": appeal,
                           "triage_hours": 8 if fast else 24, "urgent_triage_hours": 1 if fast else 2,
                           "handling_days": limit_days, "feedback_days": 3})
        ownership.append({"category_code": code, "region_code": county_code,
                          "unit_code": units[agency]})
        ownership.extend(
            {"category_code": code, "region_code": t["code"],
             "unit_code": units.get(f"{t['name']}{section}", f"{t['code']}G")} for t in townships)
    county.tables["issue_categories"], county.tables["issue_ownership"] = categories, ownership
