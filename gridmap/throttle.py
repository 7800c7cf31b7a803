"""Slowing down password guessing and floods of the residents' public forms.

Kept in PostgreSQL, the one store every worker process shares. After `FREE_TRIES` failures
within `WINDOW` the next try must wait, twice as long for each further failure (capped),
so a flood of guesses is refused before any password hash is computed and cannot starve
the workers. A successful sign-in clears the login's failures.

The public forms (gridmap.residents) use the same rule on `public_attempt` rows, per form
and key ("addr:<address>", "code:<issue code>"): every report counts, and every progress
lookup that found nothing (a wrong code or a wrong phone tail alike).

API tokens (gridmap.tokens) are counted per token in fixed windows kept on the token's row
(`api.token_limit` in the county's settings): one UPDATE per request, the row lock making
concurrent requests of one token count one after another. Over the limit a request is
refused with 429 and how long until the window ends, in each API's own error form.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update

from gridmap import settings
from gridmap.errors import GridmapError, _
from gridmap.models import ApiToken, PublicAttempt, SignInFailure

WINDOW = timedelta(minutes=15)
FREE_TRIES = {"login": 5, "address": 20}  # an office behind one address has many users
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)


class TooManyAttempts(GridmapError):
    """Too many failed sign-ins: wait `retry_after` seconds."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(_("尝试次数过多，请 %(minutes)s 分钟后再试。", minutes=minutes))
        self.retry_after = retry_after


# Public forms: (form, kind of key) → free tries within PUBLIC_WINDOW.
PUBLIC_FREE_TRIES = {("report", "addr"): 5, ("lookup", "addr"): 10, ("lookup", "code"): 5}
PUBLIC_WINDOW = timedelta(hours=1)


def _wait(failures: int, free: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** (failures - free), LONGEST_WAIT)


def seconds_to_wait(session, login: str, address: str, now: datetime) -> int:
    """How long `login` from `address` must wait before its next try (0: may try now)."""
    longest = 0
    for kind, column, value in (("login", SignInFailure.login, login),
                                ("address", SignInFailure.address, address)):
        failures, last = session.execute(
            select(func.count(), func.max(SignInFailure.at))
            .where(column == value, SignInFailure.at > now - WINDOW)).one()
        if last is not None:
            remaining = (last + _wait(failures, FREE_TRIES[kind]) - now).total_seconds()
            longest = max(longest, math.ceil(remaining))
    return longest


def check(session, login: str, address: str, now: datetime) -> None:
    """Raise TooManyAttempts when this login or address must wait."""
    wait = seconds_to_wait(session, login, address, now)
    if wait > 0:
        raise TooManyAttempts(wait)


def record_failure(session, county_code: str, login: str, address: str, now: datetime) -> None:
    """Count one failed sign-in (and forget failures older than the window)."""
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - WINDOW))
    session.add(SignInFailure(county_code=county_code, login=login[:64], address=address[:64],
                              at=now))


def clear(session, login: str) -> None:
    """Forget the login's failures after it signed in."""
    session.execute(delete(SignInFailure).where(SignInFailure.login == login[:64]))


def check_public(session, form: str, keys: list[str], now: datetime) -> None:
    """Raise TooManyAttempts when any of `keys` ("addr:…", "code:…") of the public `form`
    must wait."""
    longest = 0
    for key in keys:
        free = PUBLIC_FREE_TRIES[(form, key.split(":", 1)[0])]
        tries, last = session.execute(
            select(func.count(), func.max(PublicAttempt.at))
            .where(PublicAttempt.form == form, PublicAttempt.key == key[:64],
                   PublicAttempt.at > now - PUBLIC_WINDOW)).one()
        if last is not None:
            longest = max(longest, math.ceil(
                (last + _wait(tries, free) - now).total_seconds()))
    if longest > 0:
        raise TooManyAttempts(longest)


def record_public(session, county_code: str, form: str, keys: list[str], now: datetime) -> None:
    """Count one use of the public `form` for each key (and forget uses older than the window)."""
    session.execute(delete(PublicAttempt).where(PublicAttempt.at < now - PUBLIC_WINDOW))
    for key in keys:
        session.add(PublicAttempt(county_code=county_code, form=form, key=key[:64], at=now))


class TooManyRequests(GridmapError):
    """An API token used more often than its county allows: wait `retry_after` seconds."""

    code = "too_many_requests"
    status = 429

    def __init__(self, retry_after: int, limit: int, seconds: int):
        super().__init__(_("此令牌请求过于频繁（每 %(seconds)s 秒最多 %(limit)s 次），"
                           "请 %(wait)s 秒后再试。", seconds=seconds, limit=limit,
                           wait=retry_after))
        self.retry_after = retry_after
        self.account = None  # the token's account (set by gridmap.tokens.authenticate)


def count_token_request(session, token: ApiToken, now: datetime) -> None:
    """Count one request of `token` (and stamp its last use); TooManyRequests when it is over
    its county's `api.token_limit`."""
    limit = settings.get(session, token.county_code, "api.token_limit")
    seconds = limit["seconds"] or 1
    window = timedelta(seconds=seconds)
    current = ApiToken.window_started_at > now - window
    started, requests = session.execute(
        update(ApiToken).where(ApiToken.id == token.id).values(
            last_used_at=now,
            window_started_at=case((current, ApiToken.window_started_at), else_=now),
            window_requests=case((current, ApiToken.window_requests + 1), else_=1))
        .returning(ApiToken.window_started_at, ApiToken.window_requests)).one()
    if limit["requests"] and requests > limit["requests"]:
        wait = max(1, math.ceil((started + window - now).total_seconds()))
        raise TooManyRequests(wait, limit["requests"], seconds)
