from datetime import UTC, datetime, timedelta

import pytest

from gridmap import lifecycle
from gridmap.lifecycle import TransitionError, apply, path_to, traffic_light
from gridmap.models import ISSUE_STATUSES

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_report_triage_handle_feedback_close():
    status, level = "reported", "village"
    for action in ("triage", "start", "handle", "feed_back", "close"):
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
