"""API tokens: credentials for other systems (the hotline platform posting Open311 requests,
a GIS server reading scoped layers). A token acts as one account, with its role and scope.

* The secret is `gm_<random>`, shown once when issued; only its SHA-256 is stored (the
  secret is 256 random bits, so a fast hash is enough: there is nothing to guess).
* A token dies when revoked, when it expires, when its account is disabled, and when the
  account's sessions end (sign-out everywhere, password or role change: the account's
  session generation moves on), like every cookie of that account.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridmap import audit, clock, throttle
from gridmap.errors import BadInput, NotFound, _
from gridmap.models import ApiToken, AppUser

PREFIX = "gm_"
_SHAPE = re.compile(r"gm_[A-Za-z0-9_-]{40,64}")
MAX_DAYS = 3650
LABEL_LIMIT = 100


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Issued:
    """A new token: its id and the secret, which is never shown again."""

    id: int
    secret: str


def issue(session: Session, login: str, label: str, days: int | None = 365, *,
          by=None) -> Issued:
    """A new token for the account `login`, valid `days` (None: until revoked); `by` is who
    issues it, for the audit log (an account, a text such as `cli:root`, or None)."""
    user = session.execute(select(AppUser).where(
        func.lower(AppUser.login) == login.lower())).scalar_one_or_none()
    if user is None:
        raise NotFound(_("没有账号 %(login)s", login=login[:64]))
    if not user.active:
        raise BadInput(_("账号 %(login)s 已停用，不能发放令牌", login=user.login), field="login")
    label = (label or "").strip()
    if not label or len(label) > LABEL_LIMIT:
        raise BadInput(_("请写明令牌的用途（1–%(n)s 字），如“12345 热线平台”", n=LABEL_LIMIT),
                       field="label")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise BadInput(_("有效天数应在 1–%(n)s 之间", n=MAX_DAYS), field="days")
    now = clock.now()
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(county_code=user.county_code, user_id=user.id, label=label,
                     secret_hash=_digest(secret), generation=user.session_generation,
                     created_at=now,
                     expires_at=None if days is None else now + timedelta(days=days))
    session.add(token)
    session.flush()
    audit.record(session, by, "token_issue", f"user:{user.login}",
                 {"token": token.id, "label": label, "days": days}, county_code=user.county_code)
    return Issued(token.id, secret)


def authenticate(session: Session, secret: str | None) -> AppUser | None:
    """The account a presented secret acts as, or None (unknown, revoked, expired, ended).
    Each use counts against the token's limit (gridmap.throttle.TooManyRequests past it)."""
    if not secret or not _SHAPE.fullmatch(secret):
        return None
    digest, now = _digest(secret), clock.now()
    row = session.execute(
        select(ApiToken, AppUser).join(AppUser, AppUser.id == ApiToken.user_id)
        .where(ApiToken.secret_hash == digest)).first()
    if row is None:
        return None
    token, user = row
    alive = (hmac.compare_digest(token.secret_hash, digest) and token.revoked_at is None
             and (token.expires_at is None or token.expires_at > now) and user.active
             and token.generation == user.session_generation)
    if not alive:
        return None
    try:
        throttle.count_token_request(session, token, now)
    except throttle.TooManyRequests as refused:
        refused.account = user  # who it was, for the answer (a JSON API renders it as them)
        raise
    return user


def revoke(session: Session, token_id: int, *, by=None) -> ApiToken:
    """End a token now (idempotent; the first revocation is in the audit log)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("没有编号为 %(id)s 的令牌", id=token_id))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(session, by, "token_revoke", f"token:{token.id}", {"label": token.label},
                     county_code=token.county_code)
    return token


def listing(session: Session, county_code: str | None = None) -> list[dict]:
    """Every token (never a secret): id, account, label, dates, and whether it still works."""
    now = clock.now()
    statement = (select(ApiToken, AppUser.login, AppUser.active, AppUser.session_generation)
                 .join(AppUser, AppUser.id == ApiToken.user_id).order_by(ApiToken.id))
    if county_code:
        statement = statement.where(ApiToken.county_code == county_code)
    rows = []
    for token, login, active, generation in session.execute(statement):
        state = ("revoked" if token.revoked_at else
                 "expired" if token.expires_at and token.expires_at <= now else
                 "account disabled" if not active else
                 "ended" if token.generation != generation else "active")
        rows.append({"id": token.id, "login": login, "label": token.label, "state": state,
                     "created_at": token.created_at, "expires_at": token.expires_at,
                     "last_used_at": token.last_used_at})
    return rows
