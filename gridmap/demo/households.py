"""Households drawn as families, so that what the demo says about them hangs together.

A household is drawn member by member (who lives there, their ages, who is away working),
and its care flags, head, ID number, address and visit notes are read off that family:
低保 and 特困 exclude each other, 特困 is a person alone (or nearly), 留守儿童 needs a
child whose parents are both away and someone left to care for them, 空巢/独居 is one or
two old people. Shares are plausible for rural 楚雄, not statistics.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gridmap.demo import people

REFERENCE_YEAR = 2025  # ages are as of this year (ID numbers carry birth years)
# Registered household sizes (members, including those away working).
SIZES = (1, 2, 3, 4, 5, 6, 7)
SIZE_WEIGHTS = {"rural": (13, 24, 21, 20, 13, 6, 3), "community": (16, 28, 30, 17, 6, 2, 1)}
# Residence: rural villages lose people, they hardly gain any; a 社区 of the county seat does.
RESIDENCE = ("registered", "resident", "migrant")
RESIDENCE_WEIGHTS = {"rural": (95, 4, 1), "community": (72, 15, 13)}
# Where people registered elsewhere come from: nearby counties (楚雄市, 元谋, 禄劝, 昆明西山).
ELSEWHERE = ("532301", "532328", "530128", "530112")
AWAY_SHARE = {"rural": 0.38, "community": 0.12}  # working-age members 外出务工
STREETS = ("建设路", "解放路", "狮山大道", "文化路", "南街", "北街", "东风路", "人民路",
           "和平路", "新华街", "近城路", "环城路")


@dataclass
class Family:
    """Who is registered in the household: ages, and who of them is away working."""

    head_age: int
    head_male: bool
    ages: list[int]  # every member, head first
    away: int  # working-age members away (外出务工)
    both_parents_away: bool
    husband_away: bool

    @property
    def size(self) -> int:
        return len(self.ages)

    @property
    def elderly(self) -> int:
        return sum(a >= 60 for a in self.ages)

    @property
    def children(self) -> int:
        return sum(a < 16 for a in self.ages)

    @property
    def school_age(self) -> int:
        return sum(6 <= a < 16 for a in self.ages)

    @property
    def working_age_home(self) -> int:
        return sum(18 <= a < 60 for a in self.ages) - self.away


def draw_family(rnd: random.Random, setting: str) -> Family:
    """One household's members by the kind of household its size makes likely."""
    size = rnd.choices(SIZES, SIZE_WEIGHTS[setting])[0]
    if size == 1:
        if rnd.random() < 0.7:  # most people living alone are old, more of them widows
            age = rnd.randint(60, 92)
            return Family(age, rnd.random() < 0.45, [age], 0, False, False)
        age = rnd.randint(28, 59)
        return Family(age, rnd.random() < 0.75, [age], 0, False, False)
    if size == 2:
        kind = rnd.choices(("old couple", "couple", "grandparent", "parent"), (50, 25, 10, 15))[0]
        if kind == "old couple":
            age = rnd.randint(60, 85)
            return Family(age, True, [age, age - rnd.randint(0, 5)], 0, False, False)
        if kind == "couple":
            age = rnd.randint(40, 59)
            ages = [age, age - rnd.randint(0, 4)]
        elif kind == "grandparent":  # a grandparent with a grandchild whose parents are away
            age = rnd.randint(58, 78)
            return Family(age, rnd.random() < 0.5, [age, rnd.randint(4, 15)], 0, False, False)
        else:  # an adult with an old parent
            age = rnd.randint(35, 55)
            ages = [age, age + rnd.randint(22, 30)]
        away = int(rnd.random() < AWAY_SHARE[setting] * (0.6 if kind == "couple" else 0.4))
        return Family(age, rnd.random() < 0.85, ages, away, False, kind == "couple" and away == 1)
    age = rnd.randint(28, 56)
    ages = [age, age - rnd.randint(0, 4)]
    grandparents = min(size - 3, rnd.choices((0, 1, 2), (35, 30, 35))[0]) if size >= 4 else 0
    ages += [age + rnd.randint(22, 30) for _ in range(grandparents)]
    oldest_child = max(age - rnd.randint(20, 30), 1)
    ages += [max(oldest_child - 2 * i - rnd.randint(0, 2), 0) for i in range(size - 2 - grandparents)]
    share = AWAY_SHARE[setting]
    husband_away = age < 55 and rnd.random() < share
    wife_away = husband_away and grandparents > 0 and rnd.random() < 0.55
    grown_away = sum(18 <= a < 40 and rnd.random() < share for a in ages[2 + grandparents:])
    away = int(husband_away) + int(wife_away) + grown_away
    return Family(age, rnd.random() < 0.9, ages, away, husband_away and wife_away,
                  husband_away and not wife_away)


def care_flags(rnd: random.Random, family: Family, setting: str) -> dict[str, object]:
    """The flags that follow from the family (and a little chance), consistent with each other."""
    flags: dict[str, object] = {}
    old_alone = family.elderly == family.size and family.size <= 2
    if rnd.random() < (0.10 if family.elderly else 0.05):
        flags["disability_category"] = rnd.choice(people.DISABILITY_CATEGORIES)
        flags["disability_grade"] = rnd.choices((1, 2, 3, 4), (15, 25, 30, 30))[0]
    no_one_to_work = family.working_age_home + family.away == 0 or (
        family.size == 1 and "disability_category" in flags)
    if family.size <= 2 and no_one_to_work and rnd.random() < 0.10:
        flags["extreme_poverty"] = True  # 特困: no ability to work, no one obliged to support
    else:
        odds = 0.05 + 0.06 * ("disability_category" in flags) + 0.04 * old_alone
        if rnd.random() < odds * (0.6 if setting == "community" else 1):
            flags["minimum_living"] = True  # 低保, never together with 特困
    lifted = 0.20 if setting == "rural" else 0.03
    if rnd.random() < (0.55 if "minimum_living" in flags else lifted):
        flags["lifted_from_poverty"] = True
    if rnd.random() < (0.08 if flags.get("lifted_from_poverty") else 0.008):
        flags["relapse_monitoring"] = True
    if family.both_parents_away and family.children and family.size >= 3:
        flags["left_behind_children"] = True
    if family.husband_away and setting == "rural" and family.children and rnd.random() < 0.5:
        flags["left_behind_women"] = True  # the registers list wives left with the children
    if family.elderly and family.away and family.working_age_home == 0:
        flags["left_behind_elderly"] = True
    if old_alone and rnd.random() < 0.7:
        flags["elderly_alone"] = True  # 空巢 (two old people) or 独居 (one)
    return {k: ("true" if v is True else v) for k, v in flags.items()}


def household_row(rnd: random.Random, *, code: str, village: dict, township_name: str,
                  village_name: str, grid_code: str, place: str, community: bool,
                  lonlat: tuple[float, float] | None) -> dict:
    """One household as its file row (plus `_family` and `_place` for what comes later)."""
    setting = "community" if community else "rural"
    family = draw_family(rnd, setting)
    ethnic = people.ethnicity(rnd, village["parent_code"])
    residence = rnd.choices(RESIDENCE, RESIDENCE_WEIGHTS[setting])[0]
    area = village["code"][:6] if residence == "registered" else rnd.choice(ELSEWHERE)
    if community:
        address = f"{township_name}{village_name}{place}{rnd.randint(1, 160)}号"
        if rnd.random() < 0.5:
            address += f"{rnd.randint(1, 12)}栋{rnd.randint(1, 3)}单元{rnd.randint(1, 6)}0{rnd.randint(1, 4)}室"
    else:
        address = f"{township_name}{village_name}委会{place}{rnd.randint(1, 80)}号"
    row = {"code": code, "grid_code": grid_code, "village_code": village["code"],
           "address": address, "head_name": people.person_name(rnd, family.head_male, ethnic),
           "phone": people.phone(rnd) if rnd.random() < (0.75 if family.head_age >= 70 else 0.93) else "",
           "id_number": people.id_number(rnd, area, family.head_male, REFERENCE_YEAR - family.head_age)
           if rnd.random() < 0.95 else "",
           "size": family.size, "residence_type": residence, "hamlet": place,
           "lonlat": lonlat, "_family": family}
    row.update(care_flags(rnd, family, setting))
    return row


def visit_note(rnd: random.Random, household: dict) -> str:
    """A note a cadre would write after visiting this household."""
    family: Family = household["_family"]
    notes = ["家中一切正常", "住房安全，饮水正常", "讲解惠民政策", "宣传森林防火和防溺水知识",
             "提醒做好雨季防汛准备", "协助办理医保缴费"]
    if family.elderly:
        notes += ["老人身体状况良好，已提醒按时服药", "了解老人看病就医情况，已联系村医上门"]
    if family.school_age:
        notes += ["了解到孩子上学路途较远", "询问孩子学习情况，督促按时上学"]
    if family.away:
        notes += [f"家庭收入稳定，外出务工 {family.away} 人"]
    if family.working_age_home and not household.get("extreme_poverty"):
        notes += ["帮助联系技能培训", "了解到家中劳动力想就近务工，已登记"]
    if household.get("minimum_living"):
        notes += ["低保金按月到账，核实家庭收入变化"]
    elif household.get("extreme_poverty"):
        notes += ["特困供养金按时发放，生活照料到位"]
    elif household.get("lifted_from_poverty"):
        notes += ["询问低保政策，已解释", "产业帮扶措施落实，收入稳定"]
    if household.get("disability_category"):
        notes += ["残疾人两项补贴已落实"]
    if household.get("relapse_monitoring"):
        notes += ["核实监测户帮扶措施落实情况"]
    if household.get("left_behind_children"):
        notes += ["留守儿童由祖辈照看，已与学校老师沟通"]
    return rnd.choice(notes)
