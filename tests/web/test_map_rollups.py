"""Roll-ups, heatmaps, appeal filters and search over HTTP on the real PostGIS: figures
equal the SQL, colour classes are the county's for every role, nothing leaves the scope."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from test_map import COUNTY, insert_county, page_config

from gridmap import clock
from gridmap.coverage import gap_query
from gridmap.maps.heat import MIN_COUNT
from gridmap.maps.rollup import MEASURES, rate_classes
from gridmap.policy import Scope

TOWNSHIP, OTHER_TOWNSHIP = "532329104", "532329101"
VILLAGE = TOWNSHIP + "001"


def _issue(connection, code, village, *, category="road", urgency="normal", level="village",
           status="reported", reported="2026-11-20T09:00:00+08:00", due="2099-01-01T00:00:00Z",
           lonlat=None, unit_id=None):
    lonlat = lonlat or (0, 0)
    connection.execute(text(
        "INSERT INTO issue (county_code, code, title, category, urgency, level, status,"
        " village_code, grid_code, reported_at, triage_due, handling_due, responsible_unit_id,"
        " geom) SELECT :c, :code, '路灯坏了', :category, :urgency, :level, :status, :v, g.code,"
        " :reported, :due, :due, :unit, CASE WHEN CAST(:lon AS float8) = 0"
        " THEN ST_PointOnSurface(g.geom)"
        " ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END"
        " FROM grid g WHERE g.village_code = :v ORDER BY g.code LIMIT 1"),
        {"c": COUNTY, "code": code, "category": category, "urgency": urgency, "level": level,
         "status": status, "v": village, "reported": reported, "due": due, "unit": unit_id,
         "lon": lonlat[0], "lat": lonlat[1]})


@pytest.fixture
def county(connection):
    """test_map's county (3 households in grid 001 of each village) with open issues."""
    insert_county(connection)
    _issue(connection, "I1", VILLAGE)
    _issue(connection, "I2", VILLAGE, due="2020-01-01T00:00:00Z")  # overdue
    _issue(connection, "I3", OTHER_TOWNSHIP + "002", urgency="urgent", level="township")
    _issue(connection, "I4", OTHER_TOWNSHIP + "002", status="closed")
    return connection


def rollup(client, level, measure):
    response = client.get(f"/map/rollup/{level}.json?measure={measure}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def test_township_figures_are_the_sql_figures(client, county, auth):
    auth.as_role("leader", COUNTY)
    assert rollup(client, "township", "households")["values"] == {TOWNSHIP: 6, OTHER_TOWNSHIP: 6}
    assert rollup(client, "township", "open")["values"] == {TOWNSHIP: 2, OTHER_TOWNSHIP: 1}
    assert rollup(client, "village", "overdue")["values"] == {VILLAGE: 1}
    # A gap rule rolled up: its per-township counts add up to the rule's count.
    expected = county.execute(text(
        "SELECT left(g.village_code, 9), count(*) FROM grid g WHERE g.code IN"
        " (SELECT code FROM ({}) AS gaps) GROUP BY 1".format(
            gap_query("group", Scope(COUNTY, region_code=COUNTY), clock.now())
            .compile(compile_kwargs={"literal_binds": True})))).all()
    assert rollup(client, "township", "gap_group")["values"] == dict(expected)
    grids = rollup(client, "grid", "households")["values"]
    assert grids[VILLAGE + "001"] == 3 and (VILLAGE + "002") not in grids


def test_a_region_has_one_colour_for_every_role(client, county, auth):
    auth.as_role("leader", COUNTY)
    leader = rollup(client, "village", "open")
    auth.sign_out()
    auth.as_role("township_staff", TOWNSHIP)
    staff = rollup(client, "village", "open")
    assert staff["classes"] == leader["classes"]
    # … and the township's staff get their own villages' figures only.
    assert staff["values"] == {VILLAGE: 2}
    assert all(code.startswith(TOWNSHIP) for code in rollup(client, "grid", "households")["values"])


CARE_BY_VILLAGE = """
SELECT village_code, count(*) FROM household
WHERE county_code = :c AND status = 'active' AND (minimum_living OR extreme_poverty
      OR relapse_monitoring OR elderly_alone OR left_behind_children OR left_behind_women
      OR left_behind_elderly OR disability_grade <= 2)
GROUP BY village_code
"""


def test_small_care_counts_are_withheld_from_leaders(client, county, auth):
    """Care counts of 1–4 reach a leader as withheld ("<5"), as privacy.suppress_small and the
    heatmaps do; a role with row-level access (township staff) sees them."""
    county.execute(text("UPDATE household SET minimum_living = true WHERE village_code = :v"
                        " AND code LIKE :g"), {"v": VILLAGE, "g": VILLAGE + "001%"})
    other = OTHER_TOWNSHIP + "002"
    county.execute(text(
        "INSERT INTO household (county_code, code, grid_code, village_code, head_name,"
        " elderly_alone, geom) SELECT :c, :g || 'E' || i, :g, :v, '户主', true,"
        " ST_PointOnSurface(g.geom) FROM grid g, generate_series(1, 5) i WHERE g.code = :g"),
        {"c": COUNTY, "g": other + "002", "v": other})
    by_sql = dict(county.execute(text(CARE_BY_VILLAGE), {"c": COUNTY}).all())
    assert by_sql == {VILLAGE: 3, other: 5}
    auth.as_role("leader", COUNTY)
    body = rollup(client, "village", "care")
    assert body["values"] == {code: n for code, n in by_sql.items() if n >= 5}
    assert body["suppressed"] == sorted(code for code, n in by_sql.items() if 0 < n < 5)
    township = rollup(client, "township", "care")
    assert township["values"] == {OTHER_TOWNSHIP: 5} and township["suppressed"] == [TOWNSHIP]
    # No class boundary gives a withheld count back: the classes are made without them.
    county.execute(text("UPDATE household SET minimum_living = false WHERE code IN"
                        " (:a, :b)"), {"a": VILLAGE + "001001", "b": VILLAGE + "001002"})
    fewer = rollup(client, "village", "care")
    assert fewer["classes"] == body["classes"] and fewer["suppressed"] == [VILLAGE]
    auth.sign_out()
    auth.as_role("township_staff", TOWNSHIP)
    staff = rollup(client, "village", "care")
    assert staff["values"] == {VILLAGE: 1} and staff["suppressed"] == []
    assert staff["classes"] == fewer["classes"]  # one colour scale for every role


def test_rates_have_fixed_classes_lowest_darkest(client, county, auth):
    auth.as_role("leader", COUNTY)
    body = rollup(client, "township", "satisfaction_rate")
    assert body["kind"] == "rate"
    assert body["classes"] == [{"lower": c.lower, "upper": c.upper, "color": c.color}
                               for c in rate_classes()]
    assert rollup(client, "grid", "satisfaction_rate")["values"] == {}


def test_measures_follow_the_role(client, county, auth):
    auth.as_role("grid_worker", VILLAGE + "001")
    offered = {m["key"] for m in page_config(client.get("/").get_data(as_text=True))["measures"]}
    assert "households" in offered and "gap_visit" not in offered
    assert client.get("/map/rollup/grid.json?measure=gap_visit").status_code == 403
    assert client.get("/map/rollup/grid.json?measure=nonsense").status_code == 422
    auth.sign_out()
    auth.as_role("leader", COUNTY)
    offered = {m["key"] for m in page_config(client.get("/").get_data(as_text=True))["measures"]}
    assert offered == set(MEASURES)


def test_heat_cells_hold_counts_of_five_or_more_and_nothing_personal(client, county, auth):
    for i in range(MIN_COUNT):
        _issue(county, f"H{i}", VILLAGE, lonlat=(102.445, 25.545))
    _issue(county, "LONE", VILLAGE, lonlat=(102.4901, 25.5901))
    auth.as_role("leader", COUNTY)
    response = client.get("/map/heat/appeals.json")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"kind", "cells"}
    assert all(len(cell) == 3 and cell[2] >= MIN_COUNT for cell in body["cells"])
    assert MIN_COUNT in [cell[2] for cell in body["cells"]]
    assert sum(cell[2] for cell in body["cells"]) < 5 + MIN_COUNT  # the lone issue is left out
    auth.sign_out()
    auth.as_role("grid_worker", VILLAGE + "001")
    assert client.get("/map/heat/unvisited.json").status_code == 403


def _codes(client, query=""):
    response = client.get("/map/issues.geojson" + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return sorted(f["properties"]["code"] for f in json.loads(response.get_data())["features"])


def test_appeals_filters_narrow_the_layer(client, county, auth):
    unit = county.execute(text(
        "INSERT INTO unit (county_code, code, name, kind) VALUES (:c, 'U1', '交通局', 'agency')"
        " RETURNING id"), {"c": COUNTY}).scalar()
    _issue(county, "I5", VILLAGE, category="water", reported="2026-10-01T09:00:00+08:00",
           unit_id=unit)
    auth.as_role("leader", COUNTY)
    assert _codes(client) == ["I1", "I2", "I3", "I5"]
    assert _codes(client, "?overdue=1") == ["I2"]
    assert _codes(client, "?urgency=urgent") == ["I3"]
    assert _codes(client, "?level=township") == ["I3"]
    assert _codes(client, "?category=water") == ["I5"]
    assert _codes(client, "?unit=U1") == ["I5"]
    assert _codes(client, "?to=2026-10-31") == ["I5"]
    assert _codes(client, "?from=2026-11-01&stage=reported") == ["I1", "I2", "I3"]
    for bad in ("?stage=closed", "?urgency=x", "?from=yesterday", "?unit=%3Cb%3E", "?overdue=2"):
        response = client.get("/map/issues.geojson" + bad)
        assert response.status_code == 422 and response.get_json()["field"], bad


def test_search_finds_within_the_scope_and_says_where(client, county, auth):
    auth.as_role("township_staff", TOWNSHIP)
    hits = client.get("/api/search?q=插甸").get_json()["hits"]
    assert [h["code"] for h in hits if h["kind"] == "region"] == [TOWNSHIP, VILLAGE, TOWNSHIP + "002"]
    (south, west), (north, east) = hits[0]["bounds"]
    assert west < east and south < north
    # A village of another township is not found, nor its issues.
    assert client.get("/api/search?q=狮山").get_json()["hits"] == []
    assert [h["code"] for h in client.get("/api/search?q=I").get_json()["hits"]] == ["I2", "I1"]
    grid_hits = client.get(f"/api/search?q={VILLAGE}001&kind=grid").get_json()["hits"]
    assert [(h["kind"], h["code"]) for h in grid_hits] == [("grid", VILLAGE + "001")]
    for empty in ("", "?q=", "?q=%20"):
        assert client.get("/api/search" + empty).get_json() == {"hits": []}, empty
    for bad in ("?q=" + "x" * 51, "?q=a&kind=people"):
        response = client.get("/api/search" + bad)
        assert response.status_code == 422, bad


def test_search_is_a_registry_other_kinds_join(client, county, auth, monkeypatch):
    from gridmap import search

    found = []

    def find_people(session, scope, text_, limit):
        found.append(scope.region_code)
        return [search.Hit("person", "P1", "张三", None, None)]

    monkeypatch.setitem(search.SEARCHABLE, "person",
                        search.SearchKind("person", "view_households", find_people))
    auth.as_role("township_staff", TOWNSHIP)
    hits = client.get("/api/search?q=张&kind=person").get_json()["hits"]
    assert hits == [{"kind": "person", "code": "P1", "name": "张三", "context": None,
                     "bounds": None}]
    assert found == [TOWNSHIP]


def test_the_trend_chart_is_an_svg_of_the_weeks_rates(client, county, auth, monkeypatch):
    from gridmap.maps import trend

    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")  # a Monday
    issue = county.execute(text("SELECT id FROM issue WHERE code = 'I4'")).scalar()
    county.execute(text(
        "INSERT INTO callback (county_code, issue_id, channel, at, reached, contacted_in_time,"
        " solved, satisfaction) VALUES (:c, :i, 'phone', '2026-11-21T09:00:00+08:00', true, true,"
        " false, 'satisfied')"), {"c": COUNTY, "i": issue})
    auth.as_role("leader", COUNTY)
    response = client.get(f"/map/trend.svg?region={OTHER_TOWNSHIP}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "狮山镇" in svg and "<script" not in svg
    weeks = trend.last_weeks(date(2026, 11, 23))
    assert weeks[0] == "2026-09-07" and weeks[-1] == "2026-11-23" and len(weeks) == 12
    series = trend.weekly_rates(Session(bind=county), Scope(COUNTY, region_code=OTHER_TOWNSHIP),
                                weeks)
    # I4 was reported on Friday 2026-11-20: the week of Monday the 16th.
    assert series["response_rate"][-2] == 100.0 and series["resolution_rate"][-2] == 0.0
    assert series["satisfaction_rate"][-1] is None and series["satisfaction_rate"][:-2] == [None] * 10
    # Each point says its week, rate and value; three lines told apart by dash and marker.
    assert 'data-week="2026-11-16" data-rate="resolution_rate" data-value="0.0"' in svg
    assert svg.count("<polyline") == 0 and svg.count("stroke-dasharray") >= 2
    assert ">11-23<" in svg and ">11-09<" in svg  # every other week labelled, ending today's
    auth.sign_out()
    auth.as_role("township_staff", TOWNSHIP)
    assert client.get(f"/map/trend.svg?region={OTHER_TOWNSHIP}").status_code == 403
    assert client.get(f"/map/trend.svg?region={VILLAGE}").status_code == 200


def test_hostile_names_stay_text_in_the_trend_chart():
    from gridmap.maps.trend import trend_svg

    svg = trend_svg('<script>alert(1)</script>&"', ["2026-11-16", "2026-11-23"],
                    {"response_rate": [50.0, 75.0]}, {"response_rate": "<b>"}, "none")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg
    assert svg.count("<polyline") == 1
