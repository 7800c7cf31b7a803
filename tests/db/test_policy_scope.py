"""Each role's Scope filters against a few real rows: one county, two townships, and a
neighbouring county whose rows nobody here may see."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from gridmap.models import Assignment, Cadre, Grid, Household, Issue, Region, Unit
from gridmap.policy import Scope

NOW = datetime(2026, 11, 23, tzinfo=UTC)
WUDING, SHUIFU = "532329", "530681"
CHADIAN, GAOQIAO = "532329104", "532329105"      # two townships of 武定县
V1, V2, V3 = "532329104201", "532329104202", "532329105201"
G1, G2, G3, G4 = V1 + "001", V1 + "002", V2 + "001", V3 + "001"
FOREIGN_GRID = "530681100201001"


@pytest.fixture
def county(db):
    """Regions, grids, one household per grid (plus one of unknown place), an issue per household."""
    regions = [(WUDING, "county", None), (CHADIAN, "township", WUDING),
               (GAOQIAO, "township", WUDING), (V1, "village", CHADIAN),
               (V2, "village", CHADIAN), (V3, "village", GAOQIAO),
               (SHUIFU, "county", None), ("530681100", "township", SHUIFU),
               ("530681100201", "village", "530681100")]
    db.add_all(Region(county_code=code[:6], code=code, level=level, name=code, parent_code=parent)
               for code, level, parent in regions)
    db.add_all(Grid(county_code=code[:6], code=code, village_code=code[:12], name=code)
               for code in (G1, G2, G3, G4, FOREIGN_GRID))
    households = {code: Household(county_code=code[:6], code="H" + code, grid_code=code,
                                  village_code=code[:12], head_name="张三")
                  for code in (G1, G2, G3, G4, FOREIGN_GRID)}
    households["nowhere"] = Household(county_code=WUDING, code="H-nowhere", head_name="李四")
    db.add_all(households.values())
    unit = Unit(county_code=WUDING, code="U1", name="县水务局", kind="agency")
    db.add(unit)
    db.flush()
    cadre = Cadre(county_code=WUDING, code="C1", name="王五", unit_id=unit.id)
    db.add(cadre)
    db.flush()
    for code in (G1, G3):  # the cadre is paired with a household in each of two villages
        db.add(Assignment(county_code=WUDING, kind="household", cadre_id=cadre.id,
                          household_id=households[code].id))
    db.add(Assignment(county_code=WUDING, kind="household", cadre_id=cadre.id,
                      household_id=households[G4].id, valid_from=datetime(2025, 1, 1, tzinfo=UTC),
                      valid_to=datetime(2026, 1, 1, tzinfo=UTC)))  # an ended pairing
    for key, household in households.items():
        db.add(Issue(county_code=household.county_code, code="I" + key, title="路灯坏了",
                     category="infrastructure", grid_code=household.grid_code,
                     village_code=household.village_code, household_id=household.id,
                     responsible_unit_id=unit.id if key == G4 else None,
                     reported_at=NOW, status_changed_at=NOW))
    db.flush()
    return {"cadre_id": cadre.id, "unit_id": unit.id}


def visible(db, scope: Scope):
    return {
        "regions": set(db.scalars(select(Region.code).where(scope.regions()))),
        "grids": set(db.scalars(select(Grid.code).where(scope.grids()))),
        "households": set(db.scalars(select(Household.code).where(scope.households()))),
        "issues": set(db.scalars(select(Issue.code).where(scope.issues()))),
    }


def test_a_grid_worker_sees_only_their_grid(db, county):
    seen = visible(db, Scope(WUDING, region_code=G1))
    assert seen["grids"] == {G1}
    assert seen["households"] == {"H" + G1}
    assert seen["issues"] == {"I" + G1}
    assert seen["regions"] == {WUDING, CHADIAN, V1}  # context above the grid


def test_village_staff_see_their_village(db, county):
    seen = visible(db, Scope(WUDING, region_code=V1))
    assert seen["grids"] == {G1, G2}
    assert seen["households"] == {"H" + G1, "H" + G2}


def test_township_staff_see_their_township(db, county):
    seen = visible(db, Scope(WUDING, region_code=CHADIAN))
    assert seen["grids"] == {G1, G2, G3}
    assert seen["households"] == {"H" + G1, "H" + G2, "H" + G3}
    assert seen["issues"] == {"I" + G1, "I" + G2, "I" + G3}
    assert GAOQIAO not in seen["regions"] and V3 not in seen["regions"]


def test_a_cadre_sees_only_their_current_paired_households(db, county):
    seen = visible(db, Scope(WUDING, cadre_id=county["cadre_id"]))
    assert seen["households"] == {"H" + G1, "H" + G3}
    assert seen["grids"] == {G1, G3}
    assert seen["issues"] == {"I" + G1, "I" + G3}
    assert seen["regions"] == {WUDING, V1, V2}


def test_a_unit_handler_sees_the_issues_of_their_unit(db, county):
    seen = visible(db, Scope(WUDING, unit_id=county["unit_id"], region_code=WUDING))
    assert seen["issues"] == {"I" + G4}


def test_a_unit_handler_s_region_is_bounded_by_their_unit_s(db, county):
    """A township office's handler created with the county's code sees that township only."""
    office = Unit(county_code=WUDING, code="U-CHADIAN", name="插甸镇水务站", kind="section",
                  region_code=CHADIAN)
    db.add(office)
    db.flush()
    seen = visible(db, Scope(WUDING, unit_id=office.id, region_code=WUDING))
    assert seen["grids"] == {G1, G2, G3}
    assert GAOQIAO not in seen["regions"] and V3 not in seen["regions"]
    assert seen["households"] == {"H" + G1, "H" + G2, "H" + G3}  # were the policy to allow it
    county_agency = visible(db, Scope(WUDING, unit_id=county["unit_id"], region_code=WUDING))
    assert county_agency["grids"] == {G1, G2, G3, G4}  # a county agency without a region: county


def test_a_leader_sees_the_whole_county_and_nothing_beyond(db, county):
    seen = visible(db, Scope(WUDING, region_code=WUDING))
    assert seen["grids"] == {G1, G2, G3, G4}
    assert seen["households"] == {"H" + g for g in (G1, G2, G3, G4)} | {"H-nowhere"}
    assert seen["issues"] == {"I" + g for g in (G1, G2, G3, G4)} | {"Inowhere"}
    assert not any(code.startswith(SHUIFU) for code in seen["regions"])


@pytest.mark.parametrize("scope", [
    Scope(WUDING, region_code=WUDING), Scope(WUDING, region_code=CHADIAN),
    Scope(WUDING, region_code=G1), Scope(WUDING, cadre_id=1),
    Scope(WUDING, region_code=SHUIFU),  # a scope code of another county is not a way in
    Scope(WUDING),
])
def test_nobody_sees_another_county(db, county, scope):
    seen = visible(db, scope)
    for kind in ("grids", "households", "issues"):
        assert not any(SHUIFU in code for code in seen[kind]), kind
    assert not any(code.startswith(SHUIFU) for code in seen["regions"])


def test_a_user_without_a_scope_sees_no_rows(db, county):
    seen = visible(db, Scope(WUDING))
    assert seen["grids"] == seen["households"] == seen["issues"] == set()
    assert seen["regions"] == {WUDING}
