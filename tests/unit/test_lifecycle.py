from datetime import UTC, datetime, timedelta

import pytest

from gridmap import lifecycle, policy
from gridmap.lifecycle import TransitionError, apply, close_refusal, path_to, traffic_light
from gridmap.models import EVENT_ACTIONS, ISSUE_STATUSES

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_report_triage_handle_feedback_close():
    status, level = "reported", "village"
    for action in ("triage", "acknowledge", "handle", "feed_back", "close"):
        status, level = apply(status, level, action)
    assert (status, level) == ("closed", "village")


def test_unsatisfied_resident_reopens_with_a_note():
    assert apply("feedback", "village", "reopen", note="回访不满意") == ("in_progress", "village")
    with pytest.raises(TransitionError, match="needs a note"):
        apply("feedback", "village", "reopen")


def test_escalation_climbs_village_township_county_then_stops():
    assert apply("in_progress", "village", "escalate", "村级无法解决") == ("in_progress", "township")
    assert apply("in_progress", "township", "escalate", "乡级逾期") == ("in_progress", "county")
    with pytest.raises(TransitionError, match="already at county"):
        apply("in_progress", "county", "escalate", "?")


def test_a_closed_issue_cannot_be_handled_again():
    with pytest.raises(TransitionError, match="cannot handle an issue that is closed"):
        apply("closed", "village", "handle")


def test_every_state_has_a_history_from_reported():
    for status in ISSUE_STATUSES:
        history = path_to(status)
        assert history[0] == "reported" and history[-1] == status
        for before, after in zip(history, history[1:], strict=False):
            assert any(before in a.sources and a.target == after for a in lifecycle.ACTIONS.values())


@pytest.mark.parametrize(("hours_in", "light"), [(10, "green"), (20, "yellow"), (24, "red"), (30, "red")])
def test_traffic_light_by_share_of_stage_time_used(hours_in, light):
    assert traffic_light(T0, T0 + timedelta(hours=24), T0 + timedelta(hours=hours_in)) == light


def test_every_action_is_a_recorded_event_kind_with_a_policy_and_a_label():
    assert set(lifecycle.ACTIONS) | {"report"} | set(lifecycle.CONTROL_EVENTS) == set(EVENT_ACTIONS)
    assert set(lifecycle.ACTION_LABELS) == set(EVENT_ACTIONS)
    assert set(lifecycle.STATUS_LABELS) == set(ISSUE_STATUSES)
    for action in lifecycle.ACTIONS.values():
        assert action.policy in policy.ACTIONS, action


def test_handling_unit_acknowledges_then_may_send_a_wrong_dispatch_back():
    assert apply("triaged", "township", "acknowledge") == ("in_progress", "township")
    assert apply("in_progress", "township", "return", "不属本站所职责") == ("reported", "township")


def test_a_failed_check_sends_handled_work_back():
    assert apply("handled", "village", "rework", "现场核查未修好") == ("in_progress", "village")
    with pytest.raises(TransitionError, match="needs a note"):
        apply("handled", "village", "rework")


def test_a_grid_worker_settles_a_small_matter_on_the_spot():
    assert apply("reported", "village", "resolve_on_spot", "已当场疏通") == ("handled", "village")
    with pytest.raises(TransitionError, match="cannot resolve_on_spot an issue that is triaged"):
        apply("triaged", "village", "resolve_on_spot", "x")


def test_dispatch_goes_down_to_a_lower_level_and_asks_for_acknowledgement():
    assert apply("in_progress", "county", "dispatch") == ("triaged", "township")
    assert apply("triaged", "county", "dispatch", to_level="village") == ("triaged", "village")
    with pytest.raises(TransitionError, match="nothing below"):
        apply("triaged", "village", "dispatch")
    with pytest.raises(TransitionError, match="dispatch goes down"):
        apply("triaged", "township", "dispatch", to_level="county")


@pytest.mark.parametrize(("status", "real_name", "satisfaction", "reason", "refusal"), [
    ("feedback", True, "satisfied", None, None),
    ("feedback", False, "basically_satisfied", None, None),
    ("feedback", False, "unsatisfied", None, "unsatisfied_reopens"),
    ("handled", False, None, "匿名，无法回访", None),
    ("handled", False, None, "  ", "needs_callback_or_reason"),
    ("handled", True, None, "联系不上", "real_name_needs_feedback"),
])
def test_close_needs_a_callback_or_a_reason_and_real_names_always_get_feedback(
        status, real_name, satisfaction, reason, refusal):
    assert close_refusal(status, real_name, satisfaction, reason) == refusal
