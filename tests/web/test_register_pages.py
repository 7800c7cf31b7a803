"""Upkeep through the pages: find a household, change it, see its history; hand a cadre's
duties over in one screen."""

import pytest
from sqlalchemy import text
from support import HOSTILE_NAME, ISSUE_COUNTY, OPEN_TOWNSHIP, seed_open_data_county

VILLAGE = OPEN_TOWNSHIP + "201"


@pytest.fixture
def county(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_open_data_county(connection)
    households = dict(connection.execute(text("SELECT code, id FROM household")).all())
    run = lambda sql, **p: connection.execute(text(sql), {"c": ISSUE_COUNTY, **p})  # noqa: E731
    cadres = {code: run("INSERT INTO cadre (county_code, code, name) VALUES (:c, :code, :name)"
                        " RETURNING id", code=code, name=name).scalar()
              for code, name in (("C1", "赵干部"), ("C2", "钱干部"))}
    for code in ("H0", "H1"):
        run("INSERT INTO assignment (county_code, kind, cadre_id, household_id, valid_from)"
            " VALUES (:c, 'household', :cadre, :h, '2026-01-01')", cadre=cadres["C1"], h=households[code])
    return {"households": households, "cadres": cadres}


def test_a_village_keeps_a_household_true_through_the_pages(client, auth, county):
    auth.as_role("village_staff", VILLAGE)
    h0 = county["households"]["H0"]
    found = client.get("/households?q=5678").get_data(as_text=True)  # a phone tail
    assert "H0" in found and "张**" in found and "13812345678" not in found
    assert "第001网格" in found and f"{VILLAGE}001" in found  # the grid by name, its code beside
    page = client.get(f"/households/{h0}").get_data(as_text=True)
    assert "138****5678" in page and "历史记录" in page
    assert client.post(f"/households/{h0}/changes", data={"action": "edit", "address": HOSTILE_NAME,
                                                           "size": "5"}).status_code == 302
    page = client.get(f"/households/{h0}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "3 → 5" in page
    refused = client.post(f"/households/{h0}/changes", data={"action": "edit", "phone": "12"},
                          follow_redirects=True)
    assert "电话" in refused.get_data(as_text=True)
    assert client.post(f"/households/{h0}/changes", data={"action": "leave", "status": "deceased",
                                                           "note": "户主去世"}).status_code == 302
    assert "H0" not in client.get("/households").get_data(as_text=True)
    assert "H0" in client.get("/households?left=1").get_data(as_text=True)
    response = client.post("/households/new", data={"head_name": "李新", "grid_code": VILLAGE + "001"})
    assert response.status_code == 302


def test_a_township_hands_a_cadres_duties_over_in_one_screen(client, auth, county, connection):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    c1 = county["cadres"]["C1"]
    cadre_page = client.get(f"/people/{c1}").get_data(as_text=True)
    assert f"/people/{c1}/handover" in cadre_page  # reached from the cadre's page in /people
    page = client.get(f"/people/{c1}/handover").get_data(as_text=True)
    assert "包户" in page and "一次交接 2 项" in page
    response = client.post(f"/people/{c1}/handover", data={"to": "C2", "deactivate": "on"})
    assert response.status_code == 302 and "/people?q=C1" in response.headers["Location"]
    held = dict(connection.execute(text(
        "SELECT c.code, count(*) FROM assignment a JOIN cadre c ON c.id = a.cadre_id"
        " WHERE a.valid_to IS NULL GROUP BY c.code")).all())
    assert held == {"C2": 2}
    assert client.get(f"/people/{c1}/handover").status_code == 404  # nothing left to hand over here


def test_the_former_cadres_pages_lead_to_people(client, auth, county):
    auth.as_role("township_staff", OPEN_TOWNSHIP)
    c1 = county["cadres"]["C1"]
    listed = client.get("/cadres?q=C1")
    assert listed.status_code == 302 and listed.headers["Location"].endswith("/people?q=C1")
    assert "一次交接 2 项" in client.get(f"/cadres/{c1}/handover").get_data(as_text=True)  # bookmarks
    # one entry in the menu: 干部与单位 (no separate 交接 of the whole county)
    page = client.get("/people").get_data(as_text=True)
    assert 'href="/cadres"' not in page and 'href="/people"' in page
