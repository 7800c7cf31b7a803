"""What schemathesis found as 500s, now refused at the door naming the field: text PostgreSQL
cannot store (NUL, an unpaired surrogate) in a JSON body, a value of another type than the
OpenAPI document declares, an id beyond PostgreSQL's integer."""

from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county


def test_a_json_body_with_nul_or_a_lone_surrogate_is_a_400_naming_the_field(
        client, connection, auth, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    for bad in ("\x00水", "\ud9c3水"):
        response = client.post("/api/issues", json={
            "title": "水管", "category": bad, "village_code": ISSUE_VILLAGE})
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["field"] == "category"
    fine = client.post("/api/issues", json={"title": "水管", "category": "drinking_water",
                                            "village_code": ISSUE_VILLAGE})
    assert fine.status_code == 201


def test_an_id_out_of_the_database_range_is_not_found(client, auth, connection):
    auth.as_role("leader", "532329")
    assert client.get("/api/issues/99999999999").status_code == 404
    assert client.get("/api/issues/2147483648").status_code == 404


def test_a_value_of_the_wrong_type_is_a_422_naming_the_field(client, connection, auth,
                                                               monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-23T09:00:00+08:00")
    seed_issue_county(connection)
    auth.as_role("township_staff", ISSUE_TOWNSHIP)
    issue = client.post("/api/issues", json={"title": "水管", "category": "drinking_water",
                                             "village_code": ISSUE_VILLAGE}).get_json()["issue"]
    response = client.post(f"/api/issues/{issue['id']}/actions",
                           json={"action": {"triage": 1}, "version": issue["version"]})
    assert response.status_code == 422 and response.get_json()["field"] == "action"
    response = client.post("/api/issues", json={"title": ["水管"], "category": "drinking_water"})
    assert response.status_code == 422 and response.get_json()["field"] == "title"
