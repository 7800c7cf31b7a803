"""Keeping the register true: every change with who/when/what, moved-out households out of
every active count, splits that add up, and a handover that leaves no gap."""

import pytest
from sqlalchemy import select, text
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import clock, coverage, handover, register
from gridmap.errors import BadInput, Conflict, Forbidden, NotFound
from gridmap.importers.fields import id_check_digit
from gridmap.models import Assignment, Cadre, Household, HouseholdChange
from gridmap.policy import Scope

VILLAGE = OPEN_TOWNSHIP + "201"
GRID = VILLAGE + "001"
OTHER_VILLAGE = OPEN_TOWNSHIP + "202"


@pytest.fixture
def people(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    connection = db.connection()
    seed_open_data_county(connection)
    run = lambda sql, **p: connection.execute(text(sql), {"c": ISSUE_COUNTY, **p})  # noqa: E731
    households = dict(connection.execute(text("SELECT code, id FROM household")).all())
    cadres = {code: run("INSERT INTO cadre (county_code, code, name) VALUES (:c, :code, :name)"
                        " RETURNING id", code=code, name=name).scalar()
              for code, name in (("C1", "赵干部"), ("C2", "钱干部"), ("C3", "孙干部"))}
    for household in ("H0", "H1", "J0"):
        run("INSERT INTO assignment (county_code, kind, cadre_id, household_id, valid_from)"
            " VALUES (:c, 'household', :cadre, :h, '2026-01-01')", cadre=cadres["C1"], h=households[household])
    run("INSERT INTO assignment (county_code, kind, cadre_id, grid_code, valid_from)"
        " VALUES (:c, 'group', :cadre, :g, '2026-01-01')",
        cadre=cadres["C1"], g=GRID)
    run("INSERT INTO assignment (county_code, kind, cadre_id, region_code, valid_from)"
        " VALUES (:c, 'village', :cadre, :v, '2026-01-01')",
        cadre=cadres["C1"], v=VILLAGE)
    run("INSERT INTO assignment (county_code, kind, cadre_id, household_id, valid_from)"
        " VALUES (:c, 'household', :cadre, :h, '2026-01-01')", cadre=cadres["C2"], h=households["H1"])
    return {"households": households, "cadres": cadres,
            "village": seed_user(connection, "village_staff", VILLAGE),
            "other_village": seed_user(connection, "village_staff", OTHER_VILLAGE),
            "township": seed_user(connection, "township_staff", OPEN_TOWNSHIP),
            "leader": seed_user(connection, "leader", ISSUE_COUNTY)}


def changes(db, household_id):
    return [(c.action, c.changes) for c in db.execute(select(HouseholdChange).where(
        HouseholdChange.household_id == household_id).order_by(HouseholdChange.id)).scalars()]


def test_an_edit_keeps_who_when_what_and_leaves_untyped_personal_fields_alone(db, people):
    h0 = people["households"]["H0"]
    done = register.edit(db, people["village"], h0, {
        "head_name": "", "phone": "13900002222", "address": "插甸村委会高河边12号", "size": "4",
        "id_number": "", "care": "1", "minimum_living": "true",
        "elderly_alone": "true"})
    assert done == {"phone": ["13812345678", "13900002222"], "address": [None, "插甸村委会高河边12号"],
                    "size": [3, 4], "elderly_alone": [False, True]}
    household = db.get(Household, h0)
    assert household.head_name == "张三丰"  # left empty: unchanged
    [(action, recorded)] = changes(db, h0)
    assert action == "edit" and recorded == done
    with pytest.raises(NotFound):
        register.edit(db, people["other_village"], h0, {"address": "x"})
    with pytest.raises(Forbidden):
        register.edit(db, people["leader"], h0, {"address": "x"})
    with pytest.raises(BadInput) as bad_phone:
        register.edit(db, people["village"], h0, {"phone": "12345"})
    assert bad_phone.value.field == "phone"
    with pytest.raises(BadInput) as bad_id:
        register.edit(db, people["village"], h0, {"id_number": "532329199001011235"})
    assert bad_id.value.field == "id_number"
    other_id = "53232919850505123" + id_check_digit("53232919850505123")
    register.edit(db, people["village"], h0, {"id_number": other_id})
    assert changes(db, h0)[-1] == ("edit", {"id_number": ["***", "***"]})  # never the number


def test_a_household_moved_out_leaves_every_active_count_but_keeps_its_history(db, people):
    h1 = people["households"]["H1"]
    scope = Scope.of_user(people["township"])
    before = coverage.gap_counts(db.connection(), scope, clock.now(), kinds=("visit",))
    with pytest.raises(BadInput) as needs_note:
        register.mark_left(db, people["village"], h1, {"status": "moved_out"})
    assert needs_note.value.field == "note"
    register.mark_left(db, people["village"], h1, {"status": "moved_out", "note": "举家迁往昆明"})
    after = coverage.gap_counts(db.connection(), scope, clock.now(), kinds=("visit",))
    assert after["visit"] == before["visit"] - 1
    assert db.execute(select(Household.id).where(scope.households(), Household.id == h1)).first() is None
    assert db.execute(select(Assignment.id).where(Assignment.household_id == h1,
                                                  Assignment.current())).first() is None
    household = register.get(db, people["village"], h1)  # still found, with its history
    assert (household.status, str(household.left_on)) == ("moved_out", "2026-11-23")
    with pytest.raises(Conflict):
        register.edit(db, people["village"], h1, {"address": "x"})
    register.reactivate(db, people["village"], h1, {"note": "误操作"})
    assert [a for a, _c in changes(db, h1)] == ["moved_out", "reactivate"]


def test_a_split_family_adds_up_and_both_histories_say_so(db, people):
    h0 = people["households"]["H0"]
    with pytest.raises(BadInput):
        register.split(db, people["village"], h0, {"head_name": "张小丰", "size": "3"})
    new = register.split(db, people["village"], h0, {"head_name": "张小丰", "size": "1"})
    old = db.get(Household, h0)
    assert (old.size, new.size, new.grid_code, new.village_code) == (2, 1, GRID, VILLAGE)
    assert new.code == VILLAGE + "N0001"
    assert [a for a, _c in changes(db, new.id)] == ["create", "split"]
    assert changes(db, h0)[-1] == ("split", {"size": [3, 2]})


def test_moving_by_position_finds_the_covering_grid(db, people):
    h0 = people["households"]["H0"]
    done = register.move(db, people["township"], h0, {"lon": "102.4025", "lat": "25.5725"})
    assert done["grid_code"] == [GRID, VILLAGE + "002"] and done["position"][1] == "POINT(102.4025 25.5725)"
    with pytest.raises(NotFound):
        register.move(db, people["village"], h0, {"grid_code": OTHER_VILLAGE + "001"})


def test_a_new_household_is_placed_in_the_scope_and_due_a_visit_at_once(db, people):
    scope = Scope.of_user(people["village"])
    before = coverage.gap_counts(db.connection(), scope, clock.now(), kinds=("visit",))["visit"]
    household = register.create(db, people["village"], {"head_name": "王新", "grid_code": GRID,
                                                        "size": "2"})
    assert household.village_code == VILLAGE and household.status == "active"
    after = coverage.gap_counts(db.connection(), scope, clock.now(), kinds=("visit",))["visit"]
    assert after == before + 1
    with pytest.raises(NotFound):
        register.create(db, people["other_village"], {"head_name": "x", "grid_code": GRID})
    with pytest.raises(Conflict):
        register.create(db, people["village"], {"head_name": "x", "code": "H0", "grid_code": GRID})


def test_a_handover_moves_every_duty_in_one_go_and_leaves_no_gap(db, people):
    township, c1 = people["township"], people["cadres"]["C1"]
    scope = Scope.of_user(township)
    gaps = coverage.gap_counts(db.connection(), scope, clock.now())
    cadre = db.get(Cadre, c1)
    held = handover.holdings(db, township, cadre)
    assert sorted(d.kind for d in held) == ["group", "household", "household", "household", "village"]
    h1_duty = next(d for d in held if d.kind == "household" and d.target == "H1")
    with pytest.raises(BadInput):
        handover.hand_over(db, township, c1, {})
    done = handover.hand_over(db, township, c1, {"to": "C2", f"to_{h1_duty.assignment_id}": "C3",
                                                "deactivate": "on"})
    assert done == {"handed": 5, "already_held": 0, "left": 0, "deactivated": True}
    assert coverage.gap_counts(db.connection(), scope, clock.now()) == gaps
    assert handover.holdings(db, township, cadre) == []
    held_by = dict(db.execute(text(
        "SELECT c.code, count(*) FROM assignment a JOIN cadre c ON c.id = a.cadre_id"
        " WHERE a.valid_to IS NULL GROUP BY c.code")).all())
    assert held_by == {"C2": 5, "C3": 1}  # C2 already held H1: C3 took C1's share of it
    ended = db.execute(text("SELECT count(*) FROM assignment WHERE cadre_id = :c"
                            " AND valid_to IS NOT NULL"), {"c": c1}).scalar()
    assert ended == 5  # kept as history
    with pytest.raises(Forbidden):
        handover.hand_over(db, people["village"], c1, {"to": "C2"})
