"""Residents report on a village's public page and look up progress with code + phone tail."""

import pytest
from hostile_text import HOSTILE_STRINGS
from sqlalchemy import select, text
from support import ISSUE_TOWNSHIP, ISSUE_VILLAGE, seed_issue_county, seed_user

from gridmap import controls, issues, residents
from gridmap.errors import BadInput, NotFound
from gridmap.models import Issue, IssueEvent
from gridmap.throttle import TooManyAttempts

MONDAY = "2026-11-23T09:00:00+08:00"
VILLAGE_BOX = "MULTIPOLYGON(((102.39 25.54, 102.41 25.54, 102.41 25.56, 102.39 25.56, 102.39 25.54)))"


@pytest.fixture
def village(db, monkeypatch):
    monkeypatch.setenv("GRIDMAP_NOW", MONDAY)
    seed_issue_county(db.connection())
    db.execute(text("UPDATE region SET name = '插甸村', geom = ST_GeomFromText(:g, 4326)"
                    " WHERE code = :v"), {"g": VILLAGE_BOX, "v": ISSUE_VILLAGE})
    return {"staff": seed_user(db.connection(), "township_staff", ISSUE_TOWNSHIP),
            "village": seed_user(db.connection(), "village_staff", ISSUE_VILLAGE)}


def resident_report(db, address="10.0.0.1", **form):
    return residents.report(db, ISSUE_VILLAGE, {"title": "路灯不亮", "category": "drinking_water",
                                                "place": "三组路口", **form}, address)


def test_an_anonymous_report_lands_in_triage_with_an_issue_code(db, village):
    issue = resident_report(db)
    assert (issue.status, issue.source, issue.village_code) == ("reported", "resident", ISSUE_VILLAGE)
    assert (issue.real_name, issue.reporter_name, issue.created_by) == (False, None, None)
    assert issue.code.startswith("MQ20261123")
    [event] = db.scalars(select(IssueEvent).where(IssueEvent.issue_id == issue.id))
    assert (event.action, event.actor_id, event.note) == ("report", None, "地点：三组路口")


def test_a_named_report_at_a_tapped_point_is_real_name_and_placed(db, village):
    issue = resident_report(db, place="", lon="102.40", lat="25.55", reporter_name="王五",
                            reporter_phone="138 0000 5678")
    assert issue.real_name and issue.village_code == ISSUE_VILLAGE
    assert db.scalar(select(Issue.geom.ST_AsText()).where(Issue.id == issue.id)) == "POINT(102.4 25.55)"


@pytest.mark.parametrize(("form", "field"), [
    ({"title": ""}, "title"),
    ({"category": "no_such"}, "category"),
    ({"place": ""}, "place"),
    ({"place": "", "lon": "103.5", "lat": "25.55"}, "lat"),  # outside the village
    ({"reporter_name": "王五"}, "reporter_phone"),
    ({"reporter_phone": "call me"}, "reporter_phone"),
    ({"description": "长" * 2001}, "description"),
    ({"place": "长" * 201}, "place"),
])
def test_a_residents_report_gets_the_same_validation_as_a_staff_report(db, village, form, field):
    with pytest.raises(BadInput) as refused:
        resident_report(db, **form)
    assert refused.value.field == field


def test_a_page_for_an_unknown_village_is_not_found(db, village):
    with pytest.raises(NotFound):
        residents.report(db, "532329999999", {"title": "x"}, "10.0.0.1")


@pytest.mark.parametrize("hostile", HOSTILE_STRINGS)
def test_hostile_text_is_stored_as_it_came(db, village, hostile):
    issue = resident_report(db, title=hostile[:200], description=hostile, place=hostile[:200])
    stored = db.execute(select(Issue.title, Issue.description).where(Issue.id == issue.id)).one()
    assert tuple(stored) == (hostile[:200].strip(), hostile.strip())


def test_reports_from_one_address_are_throttled(db, village):
    for _ in range(5):
        resident_report(db)
    with pytest.raises(TooManyAttempts) as refused:
        resident_report(db)
    assert refused.value.status == 429 and refused.value.retry_after > 0
    resident_report(db, address="10.0.0.2")  # another address is not held up


def test_lookup_shows_stage_and_public_timeline_and_the_same_answer_for_any_wrong_part(db, village):
    issue = resident_report(db, reporter_name="王五", reporter_phone="13800005678")
    issue = issues.apply(db, issue.id, "triage", village["village"], expected_version=issue.version)
    issue = issues.apply(db, issue.id, "acknowledge", village["village"],
                         expected_version=issue.version)
    issue = issues.apply(db, issue.id, "handle", village["village"], expected_version=issue.version,
                         note="已更换灯泡，联系人 13912345678")
    progress = residents.lookup(db, issue.code.lower(), "5678", "10.0.0.9")
    assert (progress.code, progress.status) == (issue.code, "handled")
    assert [s.action for s in progress.steps] == ["report", "triage", "acknowledge", "handle"]
    assert progress.steps[1].unit == "插甸村民委员会"
    assert progress.result == "已更换灯泡，联系人 ****"  # long digit runs hidden
    assert "王五" not in repr(progress) and "13800005678" not in repr(progress)
    assert residents.lookup(db, issue.code, "1234", "10.0.0.9") is None  # wrong tail
    assert residents.lookup(db, "MQ2026112399999", "5678", "10.0.0.9") is None  # wrong code
    assert residents.lookup(db, issue.code, "56a8", "10.0.0.9") is None


def test_an_anonymous_report_cannot_be_looked_up(db, village):
    issue = resident_report(db)
    assert residents.lookup(db, issue.code, "0000", "10.0.0.9") is None


def test_guessing_phone_tails_of_one_code_is_throttled_from_any_address(db, village):
    issue = resident_report(db, reporter_name="王五", reporter_phone="13800005678")
    for n in range(5):
        assert residents.lookup(db, issue.code, f"000{n}", f"10.1.0.{n}") is None
    with pytest.raises(TooManyAttempts):
        residents.lookup(db, issue.code, "5678", "10.1.0.99")


def test_a_merged_report_shows_the_survivors_progress(db, village):
    survivor = resident_report(db, reporter_name="王五", reporter_phone="13800005678")
    duplicate = resident_report(db, reporter_name="赵六", reporter_phone="13700001234",
                                address="10.0.0.3")
    controls.merge(db, duplicate.id, village["staff"], {"version": duplicate.version,
                                                        "into": survivor.code})
    progress = residents.lookup(db, duplicate.code, "1234", "10.0.0.9")
    assert (progress.code, progress.merged_into) == (survivor.code, survivor.code)
    assert [s.action for s in progress.steps] == ["report", "report", "merge"]
