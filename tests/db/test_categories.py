"""Issue categories and ownership as tables: the CLI edits them, the demo seeds them."""

import csv

import pytest
from support import ISSUE_COUNTY, ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county

from gridmap import categories
from gridmap.cli.categories import group as categories_cli
from gridmap.cli.categories import ownership_group as ownership_cli
from gridmap.demo.load import DEMO_DIR


@pytest.fixture
def units(db):
    return seed_issue_county(db.connection())


def test_cli_sets_a_category_with_county_defaults_for_limits_not_given(runner, db, units):
    result = runner.invoke(categories_cli, ["set", ISSUE_COUNTY, "street_light", "--name", "路灯损坏",
                                            "--handling-days", "7"])
    assert result.exit_code == 0, result.output
    limits = categories.limits_of(db, ISSUE_COUNTY, "street_light")
    assert (limits.triage_hours, limits.urgent_triage_hours, limits.handling_days) == (24, 2, 7)
    result = runner.invoke(categories_cli, ["set", ISSUE_COUNTY, "street_light", "--feedback-days", "2"])
    assert result.exit_code == 0, result.output
    assert categories.limits_of(db, ISSUE_COUNTY, "street_light").handling_days == 7  # kept
    listing = runner.invoke(categories_cli, ["list", ISSUE_COUNTY]).output
    assert "street_light" in listing and "路灯损坏" in listing and "7 个工作日" in listing


@pytest.mark.parametrize(("args", "message"), [
    (["set", ISSUE_COUNTY, "路灯"], "CODE: 类别代码"),
    (["set", ISSUE_COUNTY, "new_one"], "--name: 新类别需要名称"),
    (["set", ISSUE_COUNTY, "drinking_water", "--handling-days", "0"], "--handling-days"),
])
def test_cli_refuses_bad_categories_naming_the_flag(runner, db, units, args, message):
    result = runner.invoke(categories_cli, args)
    assert result.exit_code != 0 and message in result.output, result.output


def test_ownership_decides_the_unit_per_level_and_the_cli_changes_it(runner, db, units):
    assert categories.owner(db, ISSUE_COUNTY, "drinking_water", ISSUE_VILLAGE, "village").code \
        == ISSUE_VILLAGE + "V"  # no village rule: the 村委会
    assert categories.owner(db, ISSUE_COUNTY, "drinking_water", ISSUE_VILLAGE, "township").code \
        == ISSUE_TOWNSHIP + "S11"
    assert categories.owner(db, ISSUE_COUNTY, "drinking_water", ISSUE_VILLAGE, "county").code == "A014"
    result = runner.invoke(ownership_cli, ["set", ISSUE_COUNTY, "drinking_water", ISSUE_TOWNSHIP,
                                           ISSUE_TOWNSHIP + "G"])
    assert result.exit_code == 0, result.output
    assert categories.owner(db, ISSUE_COUNTY, "drinking_water", ISSUE_VILLAGE, "township").code \
        == ISSUE_TOWNSHIP + "G"
    assert ISSUE_TOWNSHIP + "G" in runner.invoke(ownership_cli, ["list", ISSUE_COUNTY]).output
    refused = runner.invoke(ownership_cli, ["set", ISSUE_COUNTY, "drinking_water", ISSUE_TOWNSHIP, "X9"])
    assert refused.exit_code != 0 and "UNIT" in refused.output


def test_the_demo_seeds_every_category_its_issues_use_and_owners_that_exist():
    def rows(name):
        with (DEMO_DIR / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    codes = {c["code"] for c in rows("issue_categories.csv")}
    assert {i["category"] for i in rows("issues.csv")} <= codes
    units = {u["code"] for u in rows("units.csv")}
    assert {o["unit_code"] for o in rows("issue_ownership.csv")} <= units
    assert {o["category_code"] for o in rows("issue_ownership.csv")} == codes
