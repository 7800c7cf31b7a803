"""Care flags, addresses and household positions only to the roles that visit households: a
household's address and position appear on no page or JSON of any other role, and its care
flags only on the field pages, which only those roles open."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import ISSUE_GRID, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

ADDRESS = "插甸村藏宝巷99号"
LON, LAT = "102.456789", "25.543219"
READERS = [  # role, scope, extra columns, visits households?
    ("grid_worker", ISSUE_GRID, {}, True),
    ("village_staff", ISSUE_VILLAGE, {}, True),
    ("township_staff", ISSUE_TOWNSHIP, {}, False),
    ("unit_handler", ISSUE_TOWNSHIP, {"unit_id": ISSUE_TOWNSHIP + "S11"}, False),
    ("leader", "532329", {}, False),
    ("inspector", "532329", {}, False),
    ("admin", "532329", {}, False),
]


@pytest.fixture
def household(connection, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    units = seed_issue_county(connection)
    household_id = connection.execute(text(
        "INSERT INTO household (county_code, code, grid_code, village_code, head_name, phone,"
        " address, minimum_living, disability_category, disability_grade, geom)"
        " VALUES ('532329', 'HCARE1', :g, :v, '王五', '13900001234', :address, true, 'physical',"
        " 2, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"),
        {"g": ISSUE_GRID, "v": ISSUE_VILLAGE, "address": ADDRESS, "lon": float(LON),
         "lat": float(LAT)}).scalar()
    return units, household_id


def get_routes(app, household_id: int) -> list[str]:
    """Every GET route whose parameters are at most a household id (filled in)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if set(rule.arguments) - {"household_id"}:
            continue
        urls.append(rule.rule.replace("<int:household_id>", str(household_id)))
    return urls


@pytest.mark.parametrize("role, scope, columns, visits", READERS)
def test_address_position_and_care_flags_only_for_those_who_visit(app, client, auth, household,
                                                                   role, scope, columns, visits):
    units, household_id = household
    auth.as_role(role, scope, **{k: units[v] for k, v in columns.items()})
    urls = get_routes(app, household_id)
    assert f"/field/households/{household_id}" in urls and len(urls) > 10
    seen = {}
    for url in urls:
        response = client.get(url)
        body = response.get_data(as_text=True)
        seen[url] = (response.status_code, ADDRESS in body, LON[:8] in body and LAT[:7] in body)
    if not visits:
        leaking = {url: s for url, s in seen.items() if s[1] or s[2]}
        assert leaking == {}, leaking
        assert seen[f"/field/households/{household_id}"][0] == 403
    else:
        page = client.get(f"/field/households/{household_id}").get_data(as_text=True)
        assert ADDRESS in page and "低保" in page
