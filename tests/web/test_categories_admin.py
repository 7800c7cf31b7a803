"""The categories and ownership admin page: admins edit both, every change audited, bad
values refused beside their field, other roles kept out."""

import pytest
from sqlalchemy import text
from support import ISSUE_COUNTY, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

from gridmap.cli.categories import group as categories_cli


@pytest.fixture
def admin(client, connection, auth):
    units = seed_issue_county(connection)
    auth.as_role("admin", ISSUE_COUNTY)
    return units


def audit_rows(connection, action):
    return connection.execute(text(
        "SELECT actor, target, detail FROM audit_event WHERE action = :a ORDER BY id"),
        {"a": action}).all()


def test_admins_see_categories_and_rules_and_the_navigation_offers_the_page(client, admin):
    page = client.get("/admin/categories").get_data(as_text=True)
    assert "饮水安全" in page and "插甸镇水务站" in page and "武定县水务局" in page
    assert 'href="/admin/categories"' in page


def test_a_category_is_created_and_changed_and_each_change_is_audited(client, connection, admin):
    response = client.post("/admin/categories", data={
        "code": "road", "name": "道路交通", "appeal_type": "complaint", "handling_days": "10"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    row = connection.execute(text("SELECT name, appeal_type, handling_days, triage_hours"
                                  " FROM issue_category WHERE code = 'road'")).one()
    assert row[:3] == ("道路交通", "complaint", 10) and row[3] > 0  # the county default
    assert client.post("/admin/categories", data={
        "code": "drinking_water", "urgent_triage_hours": "1"}).status_code == 302
    assert connection.execute(text("SELECT name, urgent_triage_hours, handling_days FROM"
                                   " issue_category WHERE code = 'drinking_water'")).one() == (
        "饮水安全", 1, 5)  # what was not posted stays
    rows = audit_rows(connection, "category_set")
    assert [(actor, target) for actor, target, _ in rows] == [
        ("admin-532329", "category:road"), ("admin-532329", "category:drinking_water")]
    assert rows[1][2]["before"]["urgent_triage_hours"] == 2
    assert rows[1][2]["after"]["urgent_triage_hours"] == 1
    # the same values again change nothing and log nothing
    client.post("/admin/categories", data={"code": "drinking_water", "urgent_triage_hours": "1"})
    assert len(audit_rows(connection, "category_set")) == 2


@pytest.mark.parametrize(("form", "field"), [
    ({"code": "bad code!", "name": "x"}, "code"),
    ({"code": "new_one"}, "name"),
    ({"code": "drinking_water", "handling_days": "0"}, "handling_days"),
    ({"code": "drinking_water", "triage_hours": "两天"}, "triage_hours"),
    ({"code": "drinking_water", "appeal_type": "praise"}, "appeal_type"),
    ({"code": "drinking_water", "name": "长" * 51}, "name"),
])
def test_bad_category_values_are_refused_beside_their_field(client, connection, admin, form, field):
    response = client.post("/admin/categories", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'name="{field}"' in page and 'class="field-error"' in page
    assert page.index('class="field-error"') > page.index(f'name="{field}"')
    assert audit_rows(connection, "category_set") == []


def test_an_ownership_rule_is_set_replaced_and_audited(client, connection, admin):
    data = {"category": "drinking_water", "region": ISSUE_VILLAGE, "unit": ISSUE_TOWNSHIP + "S11"}
    assert client.post("/admin/ownership", data=data).status_code == 302
    assert client.post("/admin/ownership", data={**data, "unit": ISSUE_VILLAGE + "V"}).status_code == 302
    unit = connection.execute(text(
        "SELECT u.code FROM issue_ownership o JOIN unit u ON u.id = o.unit_id"
        " WHERE o.region_code = :r"), {"r": ISSUE_VILLAGE}).scalar_one()
    assert unit == ISSUE_VILLAGE + "V"
    assert [row[2] for row in audit_rows(connection, "ownership_set")] == [
        {"before": None, "after": ISSUE_TOWNSHIP + "S11"},
        {"before": ISSUE_TOWNSHIP + "S11", "after": ISSUE_VILLAGE + "V"}]


@pytest.mark.parametrize(("form", "field"), [
    ({"category": "nope", "region": ISSUE_VILLAGE, "unit": "A014"}, "category"),
    ({"category": "drinking_water", "region": "999999", "unit": "A014"}, "region"),
    ({"category": "drinking_water", "region": ISSUE_VILLAGE, "unit": "NOPE"}, "unit"),
])
def test_bad_rules_are_refused_naming_the_field(client, connection, admin, form, field):
    response = client.post("/admin/ownership", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="field-error"' in page
    assert page.index('class="field-error"') > page.index(f'name="{field}"')
    assert audit_rows(connection, "ownership_set") == []


@pytest.mark.parametrize(("role", "scope"), [("township_staff", ISSUE_TOWNSHIP),
                                             ("leader", ISSUE_COUNTY), ("inspector", ISSUE_COUNTY)])
def test_other_roles_may_not_edit(client, connection, auth, role, scope):
    seed_issue_county(connection)
    auth.as_role(role, scope)
    assert client.get("/admin/categories").status_code == 403
    assert client.post("/admin/categories", data={"code": "x", "name": "x"}).status_code == 403
    assert client.post("/admin/ownership", data={
        "category": "drinking_water", "region": ISSUE_VILLAGE, "unit": "A014"}).status_code == 403
    assert audit_rows(connection, "category_set") == []


def test_the_cli_names_its_operator_in_the_log(runner, connection):
    seed_issue_county(connection)
    result = runner.invoke(categories_cli, ["set", ISSUE_COUNTY, "drinking_water",
                                            "--handling-days", "7"])
    assert result.exit_code == 0, result.output
    [(actor, target, _)] = audit_rows(connection, "category_set")
    assert actor.startswith("cli:") and target == "category:drinking_water"
