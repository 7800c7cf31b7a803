"""People, units and single duties: every change audited with before and after, refusals
that name the field and write nothing, the importers' rule on who may hold what, coverage
gaps that open and close with the commit, and a search that never leaves the scope."""

import pytest
from sqlalchemy import select, text
from support import ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap import assignments, clock, coverage, people, search, settings
from gridmap.errors import BadInput, Conflict, Forbidden, GridmapError, NotFound
from gridmap.models import AppUser, Assignment, AuditEvent, Cadre, Unit
from gridmap.policy import Scope, allowed

VILLAGE = OPEN_TOWNSHIP + "201"
GRID = VILLAGE + "001"
OTHER_TOWNSHIP = ISSUE_COUNTY + "101"
OTHER_VILLAGE = OTHER_TOWNSHIP + "201"
OTHER_GRID = OTHER_VILLAGE + "001"


@pytest.fixture
def county(db, monkeypatch):
    """The open-data county (插甸镇) and 狮山镇 next door with one household of the same
    family name; a unit in each township and cadre C1 of 插甸 pairing with H0."""
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    connection = db.connection()
    seed_open_data_county(connection)
    run = lambda sql, **p: connection.execute(text(sql), {"c": ISSUE_COUNTY, **p})  # noqa: E731
    run("INSERT INTO region (county_code, code, level, name, parent_code) VALUES"
        " (:c, :t, 'township', '狮山镇', :c), (:c, :v, 'village', '狮山社区', :t)",
        t=OTHER_TOWNSHIP, v=OTHER_VILLAGE)
    run("INSERT INTO grid (county_code, code, village_code, name) VALUES (:c, :g, :v, '狮山第1网格')",
        g=OTHER_GRID, v=OTHER_VILLAGE)
    run("INSERT INTO household (county_code, code, grid_code, village_code, head_name, phone,"
        " address) VALUES (:c, 'S1', :g, :v, '张三丰', '13700005678', '狮山社区正街8号')",
        g=OTHER_GRID, v=OTHER_VILLAGE)
    run("UPDATE household SET address = '插甸村正街1号' WHERE code = 'H0'")
    units = {code: run("INSERT INTO unit (county_code, code, name, kind, region_code)"
                       " VALUES (:c, :code, :name, 'section', :r) RETURNING id",
                       code=code, name=name, r=region).scalar()
             for code, name, region in (("U-CD", "插甸镇农业服务中心", OPEN_TOWNSHIP),
                                        ("U-SS", "狮山镇司法所", OTHER_TOWNSHIP))}
    cadres = {code: run("INSERT INTO cadre (county_code, code, name, unit_id) VALUES"
                        " (:c, :code, :name, :u) RETURNING id", code=code, name=name,
                        u=units[unit]).scalar()
              for code, name, unit in (("C1", "赵干部", "U-CD"), ("C2", "钱干部", "U-CD"),
                                       ("C9", "孙干部", "U-SS"))}
    households = dict(connection.execute(text("SELECT code, id FROM household")).all())
    run("INSERT INTO assignment (county_code, kind, cadre_id, household_id, valid_from)"
        " VALUES (:c, 'household', :cadre, :h, '2026-01-01')", cadre=cadres["C1"],
        h=households["H0"])
    return {"units": units, "cadres": cadres, "households": households,
            "township": seed_user(connection, "township_staff", OPEN_TOWNSHIP),
            "other_township": seed_user(connection, "township_staff", OTHER_TOWNSHIP),
            "admin": seed_user(connection, "admin", ISSUE_COUNTY),
            "leader": seed_user(connection, "leader", ISSUE_COUNTY),
            "grid_worker": seed_user(connection, "grid_worker", GRID),
            "other_grid_worker": seed_user(connection, "grid_worker", OTHER_GRID)}


def audit_of(db, target):
    return [(e.action, e.detail) for e in db.execute(select(AuditEvent).where(
        AuditEvent.target == target).order_by(AuditEvent.id)).scalars()]


def gaps(db, scope):
    return coverage.gap_counts(db.connection(), scope, clock.now(), kinds=("household",))["household"]


def test_a_cadre_is_added_edited_and_deactivated_with_before_and_after(db, county):
    township = county["township"]
    cadre = people.create_cadre(db, township, {"code": "C5", "name": "李新", "phone": "13900001111",
                                               "title": "副镇长", "unit_code": "U-CD"})
    people.edit_cadre(db, township, cadre.id, {"name": "李新", "phone": "13900002222",
                                               "title": "副镇长", "unit_code": "U-CD"})
    people.set_cadre_active(db, township, cadre.id, False)
    [(_, created), (_, edited), (_, stopped)] = audit_of(db, "cadre:C5")
    assert created["before"] is None and created["after"]["unit_code"] == "U-CD"
    assert edited["changed"] == ["phone"]
    assert (edited["before"]["phone"], edited["after"]["phone"]) == ("13900001111", "13900002222")
    assert stopped["changed"] == ["active"] and db.get(Cadre, cadre.id).active is False


def test_refusals_name_the_field_and_write_nothing(db, county):
    township = county["township"]
    for data, field in (({"code": "C1", "name": "重复"}, "code"),
                        ({"code": "C6", "name": "", "unit_code": "U-CD"}, "name"),
                        ({"code": "C6", "name": "王", "phone": "12", "unit_code": "U-CD"}, "phone"),
                        ({"code": "C6", "name": "王"}, "unit_code"),  # a township's cadre has a unit
                        ({"code": "C6", "name": "王", "unit_code": "U-SS"}, "unit_code")):
        with pytest.raises(GridmapError) as refused:
            people.create_cadre(db, township, data)
        assert refused.value.field == field
    assert db.execute(select(Cadre).where(Cadre.code == "C6")).scalar() is None
    assert audit_of(db, "cadre:C6") == []
    with pytest.raises(Conflict) as holding:  # 停用 only once everything is handed over
        people.set_cadre_active(db, township, county["cadres"]["C1"], False)
    assert holding.value.field == "active" and db.get(Cadre, county["cadres"]["C1"]).active


def test_a_township_manages_only_its_own_people_and_units(db, county):
    township, other = county["township"], county["other_township"]
    assert {c.code for c, _unit in people.cadres(db, township)} == {"C1", "C2"}
    assert {u.code for u in people.units(db, other)} == {"U-SS"}
    with pytest.raises(NotFound):
        people.edit_cadre(db, other, county["cadres"]["C1"], {"name": "改名"})
    with pytest.raises(NotFound):
        people.set_unit_active(db, township, county["units"]["U-SS"], False)
    with pytest.raises(Forbidden):
        people.cadres(db, county["leader"])
    assert {c.code for c, _unit in people.cadres(db, county["admin"])} == {"C1", "C2", "C9"}


def test_a_unit_is_added_and_deactivated_only_when_nothing_depends_on_it(db, county):
    township = county["township"]
    with pytest.raises(NotFound) as elsewhere:
        people.create_unit(db, township, {"code": "U-X", "name": "外乡单位", "kind": "section",
                                          "region_code": OTHER_VILLAGE})
    assert elsewhere.value.field == "region_code"
    unit = people.create_unit(db, township, {"code": "U-N", "name": "插甸村工作站", "kind": "village",
                                             "region_code": VILLAGE})
    people.edit_unit(db, township, unit.id, {"name": "插甸村便民服务站", "kind": "village",
                                             "region_code": VILLAGE})
    people.set_unit_active(db, township, unit.id, False)
    assert [detail["changed"] for _, detail in audit_of(db, "unit:U-N")][1:] == [["name"], ["active"]]
    with pytest.raises(Conflict) as staffed:
        people.set_unit_active(db, township, county["units"]["U-CD"], False)
    assert staffed.value.field == "active" and db.get(Unit, county["units"]["U-CD"]).active


def test_an_account_is_linked_to_a_cadre_and_its_sessions_end(db, county):
    connection = db.connection()
    account = seed_user(connection, "cadre", OPEN_TOWNSHIP, cadre_id=county["cadres"]["C2"])
    before = db.get(AppUser, account.id).session_generation
    people.link_account(db, county["township"], county["cadres"]["C1"], {"login": account.login})
    user = db.get(AppUser, account.id)
    assert user.cadre_id == county["cadres"]["C1"] and user.session_generation == before + 1
    with pytest.raises(Conflict):  # a 包户干部 account is never left without its cadre
        people.link_account(db, county["township"], county["cadres"]["C1"],
                            {"login": account.login, "unlink": "1"})
    with pytest.raises(NotFound) as outside:
        people.link_account(db, county["other_township"], county["cadres"]["C9"],
                            {"login": account.login})
    assert outside.value.field == "login"
    assert audit_of(db, "cadre:C1")[-1][1]["account"] == account.login


def test_a_unit_cannot_pair_with_a_household_nor_a_cadre_hold_a_grid(db, county):
    township = county["township"]
    with pytest.raises(BadInput) as unit_pairs:
        assignments.assign(db, township, {"kind": "household", "unit_code": "U-CD", "target": "H1"})
    assert unit_pairs.value.field == "cadre_code"
    with pytest.raises(BadInput) as cadre_holds_grid:
        assignments.assign(db, township, {"kind": "group", "cadre_code": "C1", "target": GRID})
    assert cadre_holds_grid.value.field == "unit_code"
    with pytest.raises(NotFound) as elsewhere:
        assignments.assign(db, township, {"kind": "household", "cadre_code": "C1", "target": "S1"})
    assert elsewhere.value.field == "target"
    with pytest.raises(BadInput) as later:
        assignments.assign(db, township, {"kind": "household", "cadre_code": "C1",
                                          "target": "H1", "started_on": "2026-12-01"})
    assert later.value.field == "started_on"
    with pytest.raises(Conflict):
        assignments.assign(db, township, {"kind": "household", "cadre_code": "C1", "target": "H0"})
    assert db.execute(select(Assignment).where(Assignment.household_id == county["households"]["H1"])).first() is None


def test_ending_the_only_pairing_opens_a_gap_and_assigning_closes_it(db, county):
    township = county["township"]
    scope = Scope.of_user(township)
    before = gaps(db, scope)
    [duty] = assignments.duties(db, township, household_id=county["households"]["H0"])
    with pytest.raises(BadInput) as too_early:
        assignments.end(db, township, duty.assignment_id, {"ended_on": "2025-12-01"})
    assert too_early.value.field == "ended_on"
    assignments.end(db, township, duty.assignment_id, {"ended_on": "2026-11-23", "note": "调离"})
    assert gaps(db, scope) == before + 1
    assert "H0" in {row["code"] for row in coverage.gaps(db.connection(), "household", scope,
                                                         clock.now())}
    assignments.assign(db, township, {"kind": "household", "cadre_code": "C2", "target": "H0",
                                      "started_on": "2026-11-20"})
    assert gaps(db, scope) == before
    [(_, ended)] = audit_of(db, "cadre:C1")  # each holder's history has their duties
    assert ended["assignment"] == duty.assignment_id and ended["note"] == "调离"
    assert ended["before"]["to"] is None and ended["after"]["to"] == "2026-11-23"
    [(_, started)] = audit_of(db, "cadre:C2")
    assert started["before"] is None and started["after"] == {
        "holder": "C2", "target": "H0", "from": "2026-11-20", "to": None}
    with pytest.raises(NotFound):  # 狮山 cannot end 插甸's duties
        assignments.end(db, county["other_township"], duty.assignment_id, {})


def test_a_grid_worker_never_finds_another_grids_household(db, county):
    for login, own in (("grid_worker", "H0"), ("other_grid_worker", "S1")):
        scope = Scope.of_user(county[login])
        found = search.search(db, scope, "张三", lambda action: allowed("grid_worker", action))
        assert {hit.code for hit in found if hit.kind == "household"} == (
            {"H0", "H1", "H2", "H3", "H4", "H5", "H6"} if own == "H0" else {"S1"})
        assert all(hit.name == "张**" for hit in found if hit.kind == "household")
    own_phone = search.search(db, Scope.of_user(county["grid_worker"]), "5678",
                              lambda action: True)
    assert "S1" not in {hit.code for hit in own_phone}


def test_a_township_never_finds_another_townships_rows(db, county):
    may = lambda action: allowed("township_staff", action)  # noqa: E731
    mine = search.search(db, Scope.of_user(county["township"]), "张三丰", may)
    assert {hit.code for hit in mine if hit.kind == "household"} >= {"H0"}
    assert "S1" not in {hit.code for hit in mine}
    theirs = search.search(db, Scope.of_user(county["other_township"]), "干部", may)
    assert {(hit.kind, hit.code) for hit in theirs} == {("cadre", "C9")}
    by_unit = search.search(db, Scope.of_user(county["township"]), "农业服务", may)
    assert {hit.code for hit in by_unit if hit.kind == "cadre"} == {"C1", "C2"}
    assert {hit.code for hit in search.search(db, Scope.of_user(county["other_township"]),
                                              "水管", may) if hit.kind == "issue"} == set()
    titled = search.search(db, Scope.of_user(county["township"]), "水管", may, kinds=("issue",))
    assert {hit.code for hit in titled} == {"Q1", "Q2", "Q3", "Q4"}


def test_an_address_is_searched_only_by_roles_that_visit(db, county):
    scope = Scope.of_user(county["grid_worker"])
    visits = search.search(db, scope, "正街", lambda action: allowed("grid_worker", action))
    assert {hit.code for hit in visits} == {"H0"}
    office = search.search(db, Scope.of_user(county["township"]), "正街",
                           lambda action: allowed("township_staff", action))
    assert office == []


def test_search_text_is_a_substring_never_a_pattern(db, county):
    scope = Scope.of_user(county["admin"])
    assert search.search(db, scope, "%", lambda action: True) == []
    assert search.search(db, scope, "_", lambda action: True) == []


def test_settings_change_together_or_not_at_all_and_are_audited(db, county):
    admin = county["admin"]
    with pytest.raises(BadInput) as bad:
        settings.change(db, ISSUE_COUNTY, {"visit.interval_days.default": "60",
                                           "visit.interval_days.minimum_living": "三十"}, admin)
    assert bad.value.field == "visit.interval_days.minimum_living"
    assert settings.get(db, ISSUE_COUNTY, "visit.interval_days.default") == 90
    with pytest.raises(BadInput) as zero:
        settings.change(db, ISSUE_COUNTY, {f"metrics.weights.{k}": "0" for k in
                                           ("responsiveness", "resolution", "satisfaction")}, admin)
    assert zero.value.field.startswith("metrics.weights.")
    with pytest.raises(BadInput) as day:
        settings.change(db, ISSUE_COUNTY, {"calendar.holidays": "2026-10-01\n2026-10-32"}, admin)
    assert day.value.field == "calendar.holidays"
    changed = settings.change(db, ISSUE_COUNTY, {"visit.interval_days.default": "60",
                                                 "visit.checklist.look": "住房\n\n饮水",
                                                 "metrics.weights.resolution": "50"}, admin)
    assert changed == {"visit.interval_days.default": [90, 60],
                       "visit.checklist.look": [["住房安全", "生活条件", "身体健康"], ["住房", "饮水"]]}
    assert audit_of(db, "setting:visit.interval_days.default") == [
        ("setting_change", {"before": 90, "after": 60})]
