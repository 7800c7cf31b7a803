"""An upload's dry run worked in the background (gridmap.importers.runs): queued → running →
done with its report; a run whose worker is gone (a restart) is interrupted and can run again;
a commit is all or nothing. On a committed database: the worker's lock and progress live on
connections of their own, as in the server."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from support import OPEN_TOWNSHIP, seed_open_data_county, seed_user

from gridmap.db import make_engine, make_sessionmaker
from gridmap.importers import runs, uploads
from gridmap.importers.report import Limits
from gridmap.models import ImportRun

VILLAGE = OPEN_TOWNSHIP + "201"
HOUSEHOLDS = ("code,village_code,head_name,lon,lat\n"
              f"R1,{VILLAGE},王新,102.41,25.51\nR2,{VILLAGE},李新,102.41,25.52\n").encode()


@pytest.fixture
def county(fresh_database_url):
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        seed_open_data_county(connection)
        user = seed_user(connection, "township_staff", OPEN_TOWNSHIP)
    yield engine, make_sessionmaker(engine), user
    engine.dispose()


def _upload(tmp_path, user, body: bytes = HOUSEHOLDS) -> uploads.Upload:
    return uploads.store(tmp_path, [("households.csv", io.BytesIO(body))], county_code=user.county_code,
                         user_id=user.id, max_bytes=1 << 20, table="household")


def _queue(sessions, upload, user, commit=False) -> tuple[int, bool]:
    with sessions() as session:
        run, queued = runs.start(session, upload, user, commit=commit, locale="zh_CN", address="127.0.0.1")
        session.commit()
        return run.id, queued


def _state(sessions, upload_id, user) -> ImportRun:
    with sessions() as session:
        run = runs.current(session, upload_id, user)
        session.expunge(run)
        return run


def _households(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM household WHERE code LIKE 'R%'")).scalar()


def test_a_dry_run_is_queued_worked_and_keeps_its_report(county, tmp_path):
    engine, sessions, user = county
    upload = _upload(tmp_path, user)
    run_id, queued = _queue(sessions, upload, user)
    assert queued and _state(sessions, upload.id, user).state == "queued"
    assert _queue(sessions, upload, user) == (run_id, False)  # still working: not queued twice
    runs.work(sessions, run_id, tmp_path, Limits())
    run = _state(sessions, upload.id, user)
    assert run.state == "done" and run.report["ok"] and not run.report["commit"]
    assert run.report["tables"][0]["inserted"] == 2 and _households(engine) == 0  # a dry run writes nothing
    runs.work(sessions, run_id, tmp_path, Limits())  # a second worker finds it done: nothing happens
    assert _state(sessions, upload.id, user).report == run.report


def test_a_run_whose_worker_is_gone_is_interrupted_and_runs_again(county, tmp_path):
    engine, sessions, user = county
    upload = _upload(tmp_path, user)
    run_id, _queued = _queue(sessions, upload, user)
    with engine.begin() as connection:  # a worker that was running when the server restarted
        connection.execute(text("UPDATE import_run SET state = 'running', rows = 10000 WHERE id = :id"),
                           {"id": run_id})
    with engine.connect() as worker:  # … while its worker still holds the run, it is running
        worker.execute(text("SELECT pg_advisory_lock(:space, :id)"), {"space": runs.LOCK_SPACE, "id": run_id})
        assert _state(sessions, upload.id, user).state == "running"
        worker.execute(text("SELECT pg_advisory_unlock(:space, :id)"), {"space": runs.LOCK_SPACE, "id": run_id})
    assert _state(sessions, upload.id, user).state == "interrupted"
    again, queued = _queue(sessions, upload, user)
    assert queued and again == run_id
    runs.work(sessions, run_id, tmp_path, Limits())
    run = _state(sessions, upload.id, user)
    assert run.state == "done" and run.report["ok"]


def test_a_worker_holds_its_run_across_its_commits(county, tmp_path):
    """The lock is its connection's: a session would hand that connection back to the pool at
    each commit, and a page taking it from there would find the lock its own (reentrant)."""
    engine, sessions, user = county
    upload = _upload(tmp_path, user)
    run_id, _queued = _queue(sessions, upload, user)
    with engine.begin() as connection:
        connection.execute(text("UPDATE import_run SET state = 'running' WHERE id = :id"), {"id": run_id})
    lock = {"space": runs.LOCK_SPACE, "id": run_id}
    with runs._pinned(sessions) as worker:
        worker.execute(text("SELECT pg_advisory_lock(:space, :id)"), lock)
        worker.commit()
        for _look in range(3):
            assert _state(sessions, upload.id, user).state == "running"
        worker.execute(text("SELECT pg_advisory_unlock(:space, :id)"), lock)
        worker.commit()
    assert _state(sessions, upload.id, user).state == "interrupted"


def test_a_commit_is_all_or_nothing_and_leaves_its_report(county, tmp_path):
    engine, sessions, user = county
    broken = _upload(tmp_path, user, HOUSEHOLDS + f"R3,{VILLAGE},,102.41,25.53\n".encode())  # no head
    run_id, _queued = _queue(sessions, broken, user, commit=True)
    runs.work(sessions, run_id, tmp_path, Limits())
    run = _state(sessions, broken.id, user)
    assert run.state == "done" and not run.report["committed"] and _households(engine) == 0
    assert broken.directory.exists()  # kept: it can be fixed and uploaded again
    upload = _upload(tmp_path, user)
    run_id, _queued = _queue(sessions, upload, user, commit=True)
    runs.work(sessions, run_id, tmp_path, Limits())
    run = _state(sessions, upload.id, user)
    assert run.state == "done" and run.report["committed"] and _households(engine) == 2
    assert not upload.directory.exists()


def test_a_run_that_fails_says_so(county, tmp_path):
    engine, sessions, user = county
    upload = _upload(tmp_path, user)
    run_id, _queued = _queue(sessions, upload, user)
    upload.remove()  # its files gone under it
    runs.work(sessions, run_id, tmp_path, Limits())
    with sessions() as session:
        assert session.get(ImportRun, run_id).state == "failed"
