"""Settings defaults (gridmap/defaults.toml) and the shape check of overrides."""

import pytest

from gridmap import settings
from gridmap.settings import InvalidSetting, UnknownSetting


def test_defaults_hold_what_the_domain_notes_name():
    values = settings.default_values()
    assert values["issue.triage_hours.urgent"] == 2
    assert values["issue.triage_hours.normal"] == 24
    assert 3 <= values["issue.handling_days"] <= 15  # per category in issue_category
    assert not any(k.startswith("issue.handling_days.") for k in values)  # no English category keys
    assert values["issue.feedback_days"] == 3
    assert values["visit.interval_days.extreme_poverty"] == 30
    assert values["visit.interval_days.minimum_living"] == 30
    assert values["visit.interval_days.default"] == 90
    assert [values[f"metrics.weights.{k}"] for k in ("responsiveness", "resolution", "satisfaction")] == [10, 50, 40]
    assert len(values["visit.checklist.look"]) == len(values["visit.checklist.ask"]) == len(values["visit.checklist.leave"]) == 3
    assert values["calendar.holidays"] == values["calendar.workdays"] == []
    assert values["grid_code.serial_digits"] == 3
    assert (values["traffic_light.yellow_at"], values["traffic_light.red_at"]) == (0.8, 1.0)


@pytest.mark.parametrize(("key", "value", "stored"), [
    ("issue.triage_hours.urgent", 4, 4),
    ("traffic_light.yellow_at", 0.75, 0.75),
    ("traffic_light.red_at", 1, 1.0),
    ("visit.checklist.leave", ["联系卡"], ["联系卡"]),
    ("calendar.holidays", ["2026-10-01", "2026-10-02"], ["2026-10-01", "2026-10-02"]),
    ("grid_code.scheme", "village_serial", "village_serial"),
    ("grid_code.scheme", "cjt349", "cjt349"),
])
def test_values_of_the_defaults_shape_are_accepted(key, value, stored):
    assert settings.validate(key, value) == stored


@pytest.mark.parametrize(("key", "value", "message"), [
    ("issue.triage_hours.urgent", "2", "应是数字"),
    ("issue.triage_hours.urgent", 2.5, "应是整数"),
    ("issue.triage_hours.urgent", True, "应是数字"),
    ("issue.feedback_days", -1, "不能是负数"),
    ("visit.checklist.look", "住房", "应是列表"),
    ("visit.checklist.look", ["住房", 3], "应是非空文本"),
    ("visit.checklist.look", [""], "应是非空文本"),
    ("calendar.holidays", ["2026-13-01"], "不是 YYYY-MM-DD 格式的日期"),
    ("calendar.holidays", ["1 Oct"], "不是 YYYY-MM-DD 格式的日期"),
    ("grid_code.scheme", "cj_t_349", "应是 village_serial, cjt349 之一"),
])
def test_values_of_another_shape_are_refused_with_what_is_expected(key, value, message):
    with pytest.raises(InvalidSetting, match=message):
        settings.validate(key, value)


def test_unknown_key_is_refused():
    with pytest.raises(UnknownSetting, match="没有设置项 'issue.triage_minutes'"):
        settings.validate("issue.triage_minutes", 5)


def test_a_group_cannot_be_set_whole():
    with pytest.raises(UnknownSetting, match="是一组设置；请设置其中一项：issue.triage_hours.normal"):
        settings.validate("issue.triage_hours", {"urgent": 1})
