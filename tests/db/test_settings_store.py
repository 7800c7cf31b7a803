"""Per-county overrides in the `setting` table over the defaults."""

import pytest
from sqlalchemy import func, select

from gridmap import settings
from gridmap.cli.settings import group as settings_cli
from gridmap.models import Setting
from gridmap.settings import InvalidSetting, SettingsError, UnknownSetting


def count(db):
    return db.execute(select(func.count()).select_from(Setting)).scalar_one()


def test_a_county_without_overrides_gets_the_defaults(db):
    assert settings.get(db, "532329", "issue.triage_hours.urgent") == 2
    assert settings.all(db, "532329") == settings.default_values()


def test_an_override_applies_to_its_county_only(db):
    settings.set(db, "532329", "visit.interval_days.default", 60)
    assert settings.get(db, "532329", "visit.interval_days.default") == 60
    assert settings.get(db, "530681", "visit.interval_days.default") == 90


def test_setting_twice_keeps_the_last_value(db):
    settings.set(db, "532329", "metrics.weights.responsiveness", 30)
    settings.set(db, "532329", "metrics.weights.responsiveness", 20)
    assert settings.get(db, "532329", "metrics.weights.responsiveness") == 20
    assert count(db) == 1


def test_reading_a_group_merges_its_overrides(db):
    settings.set(db, "532329", "metrics.weights.resolution", 35)
    assert settings.get(db, "532329", "metrics.weights") == {
        "responsiveness": 10, "resolution": 35, "satisfaction": 40}
    assert settings.get(db, "532329", "visit")["interval_days"]["default"] == 90


def test_reset_brings_the_default_back(db):
    settings.set(db, "532329", "issue.feedback_days", 5)
    settings.reset(db, "532329", "issue.feedback_days")
    assert settings.get(db, "532329", "issue.feedback_days") == 3


def test_list_values_round_trip_through_jsonb(db):
    settings.set(db, "532329", "calendar.holidays", ["2026-10-01"])
    assert settings.get(db, "532329", "calendar.holidays") == ["2026-10-01"]


@pytest.mark.parametrize(("county", "key", "value", "error"), [
    ("532329", "issue.triage_hours.urgent", "soon", InvalidSetting),
    ("532329", "no.such.key", 1, UnknownSetting),
    ("5323", "issue.feedback_days", 1, SettingsError),
])
def test_bad_overrides_write_nothing(db, county, key, value, error):
    with pytest.raises(error):
        settings.set(db, county, key, value)
    assert count(db) == 0


def test_unknown_key_cannot_be_read(db):
    with pytest.raises(UnknownSetting, match="gridmap settings list"):
        settings.get(db, "532329", "issue.triage_minutes")


def test_cli_sets_gets_lists_and_resets(runner, db):
    result = runner.invoke(settings_cli, ["set", "532329", "visit.checklist.leave", '["联系卡","便民卡"]'])
    assert result.exit_code == 0, result.output
    assert 'visit.checklist.leave = ["联系卡", "便民卡"]' in result.output
    result = runner.invoke(settings_cli, ["get", "532329", "visit.checklist"])
    assert "便民卡" in result.output
    result = runner.invoke(settings_cli, ["list", "532329"])
    assert "* visit.checklist.leave" in result.output
    assert "  issue.feedback_days = 3" in result.output
    result = runner.invoke(settings_cli, ["reset", "532329", "visit.checklist.leave"])
    assert result.exit_code == 0, result.output
    assert count(db) == 0


@pytest.mark.parametrize(("args", "message"), [
    (["set", "532329", "issue.feedback_days", "three"], "VALUE: issue.feedback_days 应是数字"),
    (["set", "532329", "issue", "3"], "KEY: 'issue' 是一组设置"),
    (["set", "53", "issue.feedback_days", "3"], "COUNTY: 县代码 '53' 不是 6 位数字"),
    (["get", "532329", "nope"], "KEY: 没有设置项 'nope'"),
])
def test_cli_refuses_bad_input_clearly_and_writes_nothing(runner, db, args, message):
    result = runner.invoke(settings_cli, args)
    assert result.exit_code != 0
    assert message in result.output
    assert count(db) == 0


def test_cli_changes_are_audited_like_the_settings_page(runner, db):
    from gridmap.models import AuditEvent

    assert runner.invoke(settings_cli, ["set", "532329", "issue.feedback_days", "5"]).exit_code == 0
    assert runner.invoke(settings_cli, ["set", "532329", "issue.feedback_days", "5"]).exit_code == 0
    assert runner.invoke(settings_cli, ["reset", "532329", "issue.feedback_days"]).exit_code == 0
    events = db.execute(select(AuditEvent.actor, AuditEvent.target, AuditEvent.detail).where(
        AuditEvent.action == "setting_change").order_by(AuditEvent.id)).all()
    assert [(target, detail) for _actor, target, detail in events] == [
        ("setting:issue.feedback_days", {"before": 3, "after": 5}),  # the same value again: no event
        ("setting:issue.feedback_days", {"before": 5, "after": 3})]
    assert all(actor.startswith("cli:") for actor, _target, _detail in events)


def test_cli_refuses_weights_that_are_all_zero_as_the_page_does(runner, db):
    for key in ("responsiveness", "resolution"):
        settings.set(db, "532329", f"metrics.weights.{key}", 0)
    result = runner.invoke(settings_cli, ["set", "532329", "metrics.weights.satisfaction", "0"])
    assert result.exit_code != 0 and "三率权重不能全为 0" in result.output
