"""Settings defaults (gridmap/defaults.toml) and the shape check of overrides."""

import pytest

from gridmap import settings
from gridmap.settings import InvalidSetting, UnknownSetting


def test_defaults_hold_what_the_domain_notes_name():
    values = settings.default_values()
    assert values["issue.triage_hours.urgent"] == 2
    assert values["issue.triage_hours.normal"] == 24
    assert min(v for k, v in values.items() if k.startswith("issue.handling_days.")) >= 3
    assert max(v for k, v in values.items() if k.startswith("issue.handling_days.")) <= 15
    assert values["issue.feedback_days"] == 3
    assert values["visit.interval_days.extreme_poverty"] == 30
    assert values["visit.interval_days.minimum_living"] == 30
    assert values["visit.interval_days.default"] == 90
    assert [values[f"metrics.weights.{k}"] for k in ("responsiveness", "resolution", "satisfaction")] == [10, 50, 40]
    assert len(values["visit.checklist.look"]) == len(values["visit.checklist.ask"]) == len(values["visit.checklist.leave"]) == 3
    assert values["calendar.holidays"] == []
    assert values["grid_code.serial_digits"] == 3
    assert (values["traffic_light.yellow_at"], values["traffic_light.red_at"]) == (0.8, 1.0)


@pytest.mark.parametrize(("key", "value", "stored"), [
    ("issue.triage_hours.urgent", 4, 4),
    ("traffic_light.yellow_at", 0.75, 0.75),
    ("traffic_light.red_at", 1, 1.0),
    ("visit.checklist.leave", ["联系卡"], ["联系卡"]),
    ("calendar.holidays", ["2026-10-01", "2026-10-02"], ["2026-10-01", "2026-10-02"]),
    ("grid_code.scheme", "village_serial", "village_serial"),
])
def test_values_of_the_defaults_shape_are_accepted(key, value, stored):
    assert settings.validate(key, value) == stored


@pytest.mark.parametrize(("key", "value", "message"), [
    ("issue.triage_hours.urgent", "2", "must be a number"),
    ("issue.triage_hours.urgent", 2.5, "must be a whole number"),
    ("issue.triage_hours.urgent", True, "must be a number"),
    ("issue.feedback_days", -1, "must not be negative"),
    ("visit.checklist.look", "住房", "must be a list"),
    ("visit.checklist.look", ["住房", 3], "must be non-empty text"),
    ("visit.checklist.look", [""], "must be non-empty text"),
    ("calendar.holidays", ["2026-13-01"], "not a date written YYYY-MM-DD"),
    ("calendar.holidays", ["1 Oct"], "not a date written YYYY-MM-DD"),
    ("grid_code.scheme", "cj_t_349", "must be one of village_serial"),
])
def test_values_of_another_shape_are_refused_with_what_is_expected(key, value, message):
    with pytest.raises(InvalidSetting, match=message):
        settings.validate(key, value)


def test_unknown_key_is_refused():
    with pytest.raises(UnknownSetting, match="no setting 'issue.triage_minutes'"):
        settings.validate("issue.triage_minutes", 5)


def test_a_group_cannot_be_set_whole():
    with pytest.raises(UnknownSetting, match="is a group of settings; set one of: issue.triage_hours.normal"):
        settings.validate("issue.triage_hours", {"urgent": 1})
