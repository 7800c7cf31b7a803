"""People, units, duties and administration through the pages: errors beside the field (422,
nothing written), history on the page, the search endpoint within scope, admin only for
accounts and settings."""

import pytest
from sqlalchemy import text
from support import HOSTILE_NAME, ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county

from gridmap import clock, coverage
from gridmap.policy import Scope

VILLAGE = OPEN_TOWNSHIP + "201"
GRID = VILLAGE + "001"


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_open_data_county(connection)
    run = lambda sql, **p: connection.execute(text(sql), {"c": ISSUE_COUNTY, **p})  # noqa: E731
    unit = run("INSERT INTO unit (county_code, code, name, kind, region_code) VALUES"
               " (:c, 'U-CD', '插甸镇农业服务中心', 'section', :t) RETURNING id", t=OPEN_TOWNSHIP).scalar()
    cadre = run("INSERT INTO cadre (county_code, code, name, unit_id) VALUES (:c, 'C1', '赵干部', :u)"
                " RETURNING id", u=unit).scalar()
    households = dict(connection.execute(text("SELECT code, id FROM household")).all())
    run("INSERT INTO assignment (county_code, kind, cadre_id, household_id, valid_from)"
        " VALUES (:c, 'household', :cadre, :h, '2026-01-01')", cadre=cadre, h=households["H0"])
    return {"unit": unit, "cadre": cadre, "households": households}


def test_a_township_adds_a_cadre_and_a_refusal_stands_beside_its_field(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    page = client.get("/people").get_data(as_text=True)
    assert "赵干部" in page and "新增干部" in page
    refused = client.post("/people", data={"code": "C7", "name": "李新", "phone": "12",
                                           "unit_code": "U-CD"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="error-phone"' in body and 'value="李新"' in body  # the form keeps what was typed
    assert connection.execute(text("SELECT count(*) FROM cadre WHERE code = 'C7'")).scalar() == 0
    added = client.post("/people", data={"code": "C7", "name": HOSTILE_NAME, "unit_code": "U-CD"})
    assert added.status_code == 302
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "历史记录" in page and "修改干部信息" in page


def test_a_cadre_page_ends_and_assigns_duties_and_the_gap_follows(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    scope = Scope(ISSUE_COUNTY, region_code=OPEN_TOWNSHIP)
    gaps = lambda: coverage.gap_counts(connection, scope, clock.now(),  # noqa: E731
                                       kinds=("household",))["household"]
    before = gaps()
    h0 = county["households"]["H0"]
    page = client.get(f"/duties?household={h0}").get_data(as_text=True)
    assert "赵干部" in page and "包户" in page
    duty = connection.execute(text("SELECT id FROM assignment WHERE household_id = :h"),
                              {"h": h0}).scalar()
    wrong = client.post("/duties", data={"kind": "household", "unit_code": "U-CD", "target": "H0",
                                         "back": f"household:{h0}"})
    assert wrong.status_code == 422 and 'id="error-cadre_code"' in wrong.get_data(as_text=True)
    ended = client.post(f"/duties/{duty}/end", data={"back": f"cadre:{county['cadre']}"})
    assert ended.status_code == 302 and ended.headers["Location"].endswith(f"/people/{county['cadre']}")
    assert connection.execute(text("SELECT count(*) FROM assignment WHERE household_id = :h"
                                   " AND valid_to IS NULL"), {"h": h0}).scalar() == 0
    assert gaps() == before + 1
    assigned = client.post("/duties", data={"kind": "household", "cadre_code": "C1",
                                            "target": "H0", "back": f"cadre:{county['cadre']}"})
    assert assigned.status_code == 302
    assert connection.execute(text("SELECT count(*) FROM assignment WHERE household_id = :h"
                                   " AND valid_to IS NULL"), {"h": h0}).scalar() == 1
    assert gaps() == before
    page = client.get(f"/people/{county['cadre']}").get_data(as_text=True)
    assert "<td>H0</td>" in page


def test_the_people_pages_are_for_township_staff_and_admins(client, auth, county):
    auth.as_role("leader", ISSUE_COUNTY)
    for url in ("/people", "/units", "/duties", f"/people/{county['cadre']}", "/admin/users",
                "/admin/settings"):
        assert client.get(url).status_code == 403, url
    auth.sign_out()
    auth.as_role("township_staff", ISSUE_COUNTY + "101")  # 狮山镇: not their cadre
    assert client.get(f"/people/{county['cadre']}").status_code == 404
    assert client.get(f"/units/{county['unit']}").status_code == 404


def test_search_finds_households_and_cadres_only_in_scope(client, auth, county):
    auth.as_role("grid_worker", VILLAGE + "002")
    hits = client.get("/api/search?q=张三").get_json()["hits"]
    assert [hit for hit in hits if hit["kind"] == "household"] == []  # H0–H6 are in grid 001
    assert {hit["code"] for hit in client.get("/api/search?q=李四").get_json()["hits"]} == {"J0", "J1"}
    auth.sign_out()
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    hits = client.get("/api/search?q=赵干部").get_json()["hits"]
    assert [(hit["kind"], hit["code"], hit["context"]) for hit in hits] == [
        ("cadre", "C1", "插甸镇农业服务中心")]


def test_an_admin_creates_an_account_and_changes_its_role_with_errors_beside_fields(
        client, auth, county, connection):
    auth.as_role("admin", ISSUE_COUNTY)
    refused = client.post("/admin/users", data={"login": "wang.li", "role": "grid_worker",
                                                "region": VILLAGE, "password": "long-enough-1"})
    assert refused.status_code == 422 and 'id="error-region"' in refused.get_data(as_text=True)
    short = client.post("/admin/users", data={"login": "wang.li", "role": "grid_worker",
                                              "region": GRID, "password": "short"})
    assert short.status_code == 422 and 'id="error-password"' in short.get_data(as_text=True)
    assert connection.execute(text("SELECT count(*) FROM app_user WHERE login = 'wang.li'")).scalar() == 0
    created = client.post("/admin/users", data={"login": "wang.li", "role": "grid_worker",
                                                "region": GRID, "password": "long-enough-1",
                                                "name": "王力"})
    assert created.status_code == 302
    user_id = connection.execute(text("SELECT id FROM app_user WHERE login = 'wang.li'")).scalar()
    moved = client.post(f"/admin/users/{user_id}", data={"action": "role", "role": "village_staff",
                                                         "region": VILLAGE})
    assert moved.status_code == 302
    assert client.post(f"/admin/users/{user_id}", data={"action": "disable"}).status_code == 302
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "创建账号" in page and "更改角色" in page and "停用账号" in page
    assert connection.execute(text("SELECT role, active FROM app_user WHERE id = :u"),
                              {"u": user_id}).one() == ("village_staff", False)
    me = connection.execute(text("SELECT id FROM app_user WHERE login = 'admin-532329'")).scalar()
    assert client.post(f"/admin/users/{me}", data={"action": "disable"}).status_code == 422


def test_an_admin_of_another_county_never_reaches_this_countys_accounts(client, auth, county,
                                                                         connection):
    user_id = connection.execute(text(
        "INSERT INTO app_user (county_code, login, role, scope_code, password_hash)"
        " VALUES ('532329', 'someone', 'grid_worker', :g, 'x') RETURNING id"), {"g": GRID}).scalar()
    auth.as_role("admin", "530681", county_code="530681")
    assert client.get(f"/admin/users/{user_id}").status_code == 404
    assert client.post(f"/admin/users/{user_id}", data={"action": "disable"}).status_code == 404
    assert "someone" not in client.get("/admin/users").get_data(as_text=True)


def test_an_admin_changes_settings_by_group_and_a_bad_value_names_its_key(client, auth, county):
    auth.as_role("admin", ISSUE_COUNTY)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "走访间隔" in page and "三率权重" in page and "工作日历" in page
    keys = ("extreme_poverty", "minimum_living", "relapse_monitoring", "elderly_alone",
            "left_behind_children", "left_behind_women", "left_behind_elderly",
            "disability_severe", "default")
    form = {f"visit.interval_days.{k}": "30" for k in keys} | {"group": "visit.interval_days"}
    refused = client.post("/admin/settings", data=form | {"visit.interval_days.default": "-3"})
    assert refused.status_code == 422
    assert 'id="error-visit.interval_days.default"' in refused.get_data(as_text=True)
    assert client.post("/admin/settings", data=form).status_code == 302
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "90 → 30" in page
