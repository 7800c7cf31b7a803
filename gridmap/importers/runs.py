"""An upload's dry run (or commit) worked in the background, so a county's file never runs
inside a request. Core: no web.

    run, queued = runs.start(session, upload, user, commit=False, locale="zh_CN")
    runs.work(sessions, run.id, uploads_root, limits, translate)             # in a thread
    runs.current(session, upload_id, user)                                   # what the page shows

States: queued → running → done (the report kept in the row) or failed (an error no report
could say); a run whose worker is gone (the server restarted, the process died) is
`interrupted` and can be started again. A worker holds a PostgreSQL advisory lock on the
run for as long as it works, on a connection of its own: the server frees it when the
process goes, whoever reads the run next sees the lock free and marks it interrupted.
Progress is written on that connection and committed as it comes, while the import itself
runs in a transaction of its own (a commit is all or nothing, as on the command line).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridmap import audit, clock
from gridmap.importers import uploads
from gridmap.importers.core import import_files
from gridmap.importers.report import Limits, Translate
from gridmap.models import AppUser, ImportRun
from gridmap.policy import Scope

log = logging.getLogger(__name__)
LOCK_SPACE = 27  # advisory locks (LOCK_SPACE, run id): a run's worker is alive
# A queued run's worker takes its lock at once; one still queued and unlocked after this
# never got a worker (its process went between queueing and starting it).
START_GRACE = timedelta(seconds=30)
PROGRESS_SECONDS = 1.0  # progress written at most this often
WORKING = ("queued", "running")


def start(session: Session, upload: uploads.Upload, user, *, commit: bool, locale: str,
          address: str | None = None) -> tuple[ImportRun, bool]:
    """Queue a run of `upload` (its dry run, or its commit), replacing a finished or
    interrupted one, and True: the caller commits, then has it worked (`work`). A run still
    working is returned as it is, and False."""
    session.execute(delete(ImportRun).where(  # kept as long as uploads are
        ImportRun.county_code == user.county_code, ImportRun.created_at < clock.now() - uploads.TTL,
        ImportRun.state.not_in(WORKING)))
    run = session.scalar(select(ImportRun).where(ImportRun.county_code == user.county_code,
                                                 ImportRun.upload_id == upload.id).with_for_update())
    if run is not None and run.state in WORKING and _alive(session, run):
        return run, False
    if run is None:
        run = ImportRun(county_code=user.county_code, upload_id=upload.id, user_id=user.id)
        session.add(run)
    run.commit, run.state, run.stage, run.source, run.rows = commit, "queued", None, None, 0
    run.locale, run.address, run.report = locale, address, None
    run.created_at, run.finished_at = clock.now(), None
    session.flush()
    return run, True


def current(session: Session, upload_id: str, user) -> ImportRun | None:
    """The run of this user's upload, a run whose worker is gone marked interrupted (and
    committed: the caller's session is in a transaction of its own after)."""
    run = session.scalar(select(ImportRun).where(ImportRun.county_code == user.county_code,
                                                 ImportRun.upload_id == upload_id,
                                                 ImportRun.user_id == user.id))
    if run is not None and run.state in WORKING and not _alive(session, run):
        run.state, run.finished_at = "interrupted", clock.now()
        session.commit()
    return run


def _alive(session: Session, run: ImportRun) -> bool:
    """Whether a worker holds the run (or is about to: a run just queued)."""
    if run.state == "queued" and clock.now() - run.created_at < START_GRACE:
        return True
    free = session.execute(text("SELECT pg_try_advisory_xact_lock(:space, :run)"),
                           {"space": LOCK_SPACE, "run": _key(run.id)}).scalar_one()
    return not free


def _key(run_id: int) -> int:
    return run_id % (1 << 31)


def work(sessions: sessionmaker, run_id: int, root: Path, limits: Limits,
         translate: Translate | None = None) -> None:
    """Work run `run_id` to its end (in the caller's thread): `sessions` makes database
    sessions; `translate` renders the report in the run's language. Never raises: what went
    wrong is the run's state. The run's row is only ever touched in short transactions of
    its own, so the import's transaction is never inside one of them."""
    lock = {"space": LOCK_SPACE, "run": _key(run_id)}
    with _pinned(sessions) as status:
        # Waits for a worker still on this run (its import may take minutes): not a statement
        # the web's statement timeout (gridmap.db) should stop.
        status.execute(text("SET LOCAL statement_timeout = 0"))
        status.execute(text("SELECT pg_advisory_lock(:space, :run)"), lock)
        try:
            run = status.get(ImportRun, run_id)
            if run is None or run.state != "queued":
                status.commit()
                return  # another worker took it, or it was started over
            job = _Job(run.county_code, run.upload_id, run.user_id, run.commit, run.address)
            run.state = "running"
            status.commit()

            def note(**values) -> None:
                status.execute(update(ImportRun).where(ImportRun.id == run_id).values(**values))
                status.commit()

            try:
                report = _work(sessions, job, root, limits, translate, note)
            except Exception:
                log.exception("import run %s failed", run_id)
                status.rollback()
                note(state="failed", finished_at=clock.now())
            else:
                note(state="done", report=report, finished_at=clock.now())
        finally:
            status.execute(text("SELECT pg_advisory_unlock(:space, :run)"), lock)
            status.commit()


@contextmanager
def _pinned(sessions: sessionmaker):
    """A session on one connection for as long as it is open (a session lets its connection
    go back to the pool at each commit, and the advisory lock is the connection's)."""
    bind = sessions.kw["bind"]
    with bind.connect() if isinstance(bind, Engine) else nullcontext(bind) as connection, \
            sessions(bind=connection) as session:
        yield session


class _Job(NamedTuple):
    county_code: str
    upload_id: str
    user_id: int
    commit: bool
    address: str | None


def _work(sessions, job: _Job, root: Path, limits: Limits, translate: Translate | None, note) -> dict:
    """The import of the run's upload; its report (as JSON). Progress goes to `note`."""
    upload = uploads.load(root, job.upload_id, county_code=job.county_code, user_id=job.user_id)
    shown = {"at": 0.0}

    def progress(stage: str, name: str, rows: int) -> None:
        now = time.monotonic()
        if now - shown["at"] >= PROGRESS_SECONDS:
            shown["at"] = now
            note(stage=stage, source=name[:200], rows=rows)

    with sessions() as session:
        user = session.get(AppUser, job.user_id)
        scope = Scope.of_user(user)
        report = import_files(session.connection(), upload.sources(), job.county_code, commit=job.commit,
                              limits=limits, actor=user, repair=True, progress=progress,
                              within=None if scope.county_wide else scope.region_code)
        files = ", ".join(upload.meta["files"])[:200]
        if report.committed:
            if not any(t.inserted or t.updated for t in report.tables):  # the core audits only changes
                audit.record(session, user, "import_check", files,
                             {"upload": upload.id, "committed": True, "changed": False}, address=job.address)
        else:  # a dry run, or a commit refused: nothing of the import's is left in the transaction
            audit.record(session, user, "import_check", files, {
                "upload": upload.id, "table": upload.meta.get("table") or "", "ok": report.ok,
                "problems": len(report.problems) + report.problems_left_off,
                "tables": {t.table: [t.inserted, t.updated, t.unchanged] for t in report.tables},
                **({"committed": False} if job.commit else {})}, address=job.address)
        session.commit()
    if report.committed:
        upload.remove()
    return report.as_dict(translate)
