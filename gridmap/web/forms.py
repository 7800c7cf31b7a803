"""A page form's one way through: run the core call, commit, then say so.

Every form of the office pages does the same thing: call the core service, commit, flash
what was done and redirect; or, when the core refuses, roll back (nothing half-written)
and answer with the refusal. Two answers exist: beside the fields on the same page, with
422 (`attempt`), or as a flashed message after the redirect for the buttons of a detail
page (`attempt_or_flash`). A refusal for want of rights (403) or of the thing itself (404)
is not the form's doing and goes to the blueprint's error handler either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from flask import flash

from gridmap.errors import N_, BadInput, GridmapError
from gridmap.web.errors import text_of

T = TypeVar("T")
NOT_THE_FORMS_DOING = (403, 404)


def _not_the_forms_doing(refused: GridmapError) -> bool:
    return refused.status in NOT_THE_FORMS_DOING


def attempt(session, work: Callable[[], T], raises: Callable[[GridmapError], bool] = _not_the_forms_doing,
            ) -> tuple[T | None, GridmapError | None]:
    """(what `work` returned, None) once committed; (None, the refusal) after a roll-back.
    `raises` picks the refusals that go to the error handler instead (403 and 404)."""
    try:
        result = work()
        session.commit()
        return result, None
    except GridmapError as refused:
        session.rollback()
        if raises(refused):
            raise
        return None, refused


def attempt_or_flash(session, work: Callable[[], T],
                     raises: Callable[[GridmapError], bool] = _not_the_forms_doing,
                     ) -> tuple[T | None, bool]:
    """(what `work` returned, True) once committed; (None, False) after a roll-back, with
    the refusal flashed for the page the caller redirects to."""
    result, refused = attempt(session, work, raises)
    if refused is not None:
        flash(text_of(refused.message), "error")
        return None, False
    return result, True


def chosen(actions: Mapping[str, T], action: str | None) -> T:
    """What a form's `action` field picks from `actions`; BadInput naming the choices else."""
    if action not in actions:
        raise BadInput(N_("action 应是 %(choices)s 之一", choices=", ".join(actions)),
                       field="action")
    return actions[action]


def refusal(error: GridmapError | None) -> dict:
    """The template's `error` and `error_text` (the message in the reader's language)."""
    return {"error": error, "error_text": text_of(error.message) if error else None}


def status(error: GridmapError | None) -> int:
    """422 when the form was refused, else 200."""
    return 422 if error else 200
