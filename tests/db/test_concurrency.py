"""Two people editing one issue at once: the second save is refused, not silently lost."""

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridmap.clock import now
from gridmap.db import make_engine, make_sessionmaker
from gridmap.models import Issue


@pytest.fixture
def engine_with_issue(fresh_database_url):
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO issue (county_code, code, title, category, reported_at)"
            " VALUES ('532329', 'T-1', '路灯坏了', 'infrastructure', now())"))
    yield engine
    engine.dispose()


def load(session: Session) -> Issue:
    return session.execute(select(Issue).where(Issue.code == "T-1")).scalar_one()


def test_second_of_two_concurrent_edits_is_refused(engine_with_issue):
    sessions = make_sessionmaker(engine_with_issue)
    with sessions() as first, sessions() as second:
        mine, theirs = load(first), load(second)
        mine.status, mine.status_changed_at = "triaged", now()
        first.commit()
        theirs.status = "rejected"
        with pytest.raises(StaleDataError):
            second.commit()
    with sessions() as check:
        issue = load(check)
        assert (issue.status, issue.version) == ("triaged", 2)


def test_many_writers_each_bump_the_version_once(engine_with_issue):
    """Writers that re-read and retry on conflict never lose an update."""
    sessions = make_sessionmaker(engine_with_issue)
    writers, rounds = 4, 5

    def writer():
        for _ in range(rounds):
            while True:
                with sessions() as session:
                    issue = load(session)
                    issue.description = (issue.description or "") + "+"
                    try:
                        session.commit()
                        break
                    except StaleDataError:
                        session.rollback()

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with sessions() as check:
        issue = load(check)
        assert issue.description == "+" * writers * rounds
        assert issue.version == 1 + writers * rounds
