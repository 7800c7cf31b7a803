"""The case controls on the tablet's issue page, in headless Chromium at 800x1280: the village
handler answers a 督办 and asks for an extension, the grid worker adds a photo; every button
at least 44 px. Screenshots go to GRIDMAP_SHOTS.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from support import photo_bytes

from gridmap import controls
from gridmap.calendar import CHINA_TIME
from gridmap.db import make_engine
from gridmap.models import AppUser, Issue, IssueExtension, IssuePhoto, IssueSupervision

PORTRAIT = (800, 1280)
MIN_TARGET = 44  # px
TARGETS = (".field-issue button, .field-issue a.back, .field-issue .photo-pick,"
           " .field-issue input[type=date], .field-issue .photo-thumb")
CODE = "MQ000194"  # open at village level, in the demo grid worker's grid (插甸村第1网格)


@pytest.fixture(scope="module")
def demo_db(base_url, committed_db_url):
    engine = make_engine(committed_db_url)
    yield engine
    engine.dispose()


def small_targets(page, selector: str) -> list[str]:
    small = []
    for i in range(page.locator(selector).count()):
        box = page.locator(selector).nth(i).bounding_box()
        if box and (box["height"] < MIN_TARGET or box["width"] < MIN_TARGET):
            small.append(f"{selector} #{i} {box['width']:.0f}x{box['height']:.0f}")
    return small


def test_on_the_tablet_the_handler_answers_a_supervision_asks_for_time_and_a_photo_is_added(
        open_page, base_url, demo_db, tmp_path):
    with Session(demo_db) as session:
        issue = session.scalar(select(Issue).where(Issue.code == CODE))
        inspector = session.scalar(select(AppUser).where(AppUser.login == "inspector"))
        controls.supervise(session, issue.id, inspector, {"note": "请书面答复维修进度"})
        session.commit()
        issue_id, due = issue.id, issue.handling_due
        photos_before = session.scalar(select(func.count()).select_from(IssuePhoto)
                                       .where(IssuePhoto.issue_id == issue_id))
    url = f"{base_url}/field/issues/{issue_id}"

    watch = open_page(*PORTRAIT, has_touch=True)
    watch.sign_in(base_url, "village_staff")
    page = watch.page
    page.goto(url)
    expect(page.locator(".tablet-control-answer button")).to_be_visible()
    expect(page.locator(".tablet-control-ask_extension button")).to_be_visible()
    expect(page.locator(".tablet-action-handle input[type=file]")).to_have_count(1)
    assert small_targets(page, TARGETS) == []
    watch.screenshot("field-issue-controls-800x1280")

    page.fill("#t-note-answer", "已安排水管所本周内更换")
    with page.expect_navigation():
        page.click(".tablet-control-answer button")
    assert page.url == url
    expect(page.locator(".supervisions")).to_contain_text("已安排水管所本周内更换")
    page.fill("#t-new-due", (due.astimezone(CHINA_TIME) + timedelta(days=7)).date().isoformat())
    page.fill("#t-note-ask_extension", "等管材到货")
    with page.expect_navigation():
        page.click(".tablet-control-ask_extension button")
    expect(page.locator(".pending-extension")).to_contain_text("延期申请待审批")
    expect(page.locator(".tablet-control-ask_extension")).to_have_count(0)  # one request at a time
    assert watch.errors == [] and watch.outside_requests() == []

    worker = open_page(*PORTRAIT, has_touch=True)
    worker.sign_in(base_url, "grid_worker")
    worker.page.goto(url)
    expect(worker.page.locator(".tablet-control-answer")).to_have_count(0)  # policy: not theirs
    shot = tmp_path / "pipe.jpg"
    shot.write_bytes(photo_bytes(size=(80, 60)))
    worker.page.set_input_files("#issue-photo", str(shot))
    with worker.page.expect_navigation():
        worker.page.click("#issue-photo-form button[type=submit]")
    expect(worker.page.locator(".field-timeline img")).to_have_count(photos_before + 1)
    assert small_targets(worker.page, TARGETS) == []
    worker.screenshot("field-issue-photo-800x1280")
    assert worker.errors == [] and worker.outside_requests() == []

    with Session(demo_db) as session:
        asked = session.scalar(select(IssueExtension).where(
            IssueExtension.issue_id == issue_id, IssueExtension.decision.is_(None)))
        assert asked is not None and asked.reason == "等管材到货"
        answers = session.scalars(select(IssueSupervision.answer).where(
            IssueSupervision.issue_id == issue_id, IssueSupervision.answered_at.is_not(None)))
        assert "已安排水管所本周内更换" in list(answers)
        assert session.scalar(select(func.count()).select_from(IssuePhoto).where(
            IssuePhoto.issue_id == issue_id)) == photos_before + 1
        events = session.execute(text(
            "SELECT action FROM issue_event WHERE issue_id = :i ORDER BY id DESC LIMIT 2"),
            {"i": issue_id}).scalars().all()
        assert events == ["ask_extension", "answer"]
    assert re.search(r"/files/\d+/thumb", worker.page.content())
