"""Personal API bearer tokens: made, listed and revoked by their owner; checked per request.

A token is `gpt_` and 43 random characters (256 bits); only its SHA-256 is stored, so a copy of
the database gives nobody a working token. The prefix makes a leaked token easy to recognise
(secret scanners, logs). Services flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update

from portal import db
from portal.auth.models import ApiToken, User
from portal.core import clock
from portal.core.tokens import new_token, token_hash

PREFIX = "gpt_"
SHOWN_PREFIX = 8  # characters of the token kept to tell tokens apart: "gpt_Ab3x"
MAX_NAME = 80
# How long a token lasts, in days; no token lasts for ever (the data is youth-care data).
LIFETIMES = (30, 90, 365)
DEFAULT_LIFETIME = 90
MAX_ACTIVE = 10
# "Last used" is kept to within this: not one write per API request.
LAST_USED_STEP = timedelta(minutes=5)


class TokenError(ValueError):
    def __init__(self, code: str, field: str) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str  # shown once, never stored


def state(token: ApiToken, now: datetime | None = None) -> str:
    """active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= (now or clock.now()):
        return "expired"
    return "active"


def create(user: User, name: str, days: int) -> Created:
    """A new token for `user`, acting with the sign-in of the session that makes it."""
    name = (name or "").strip()
    if not name:
        raise TokenError("name_required", "name")
    if len(name) > MAX_NAME:
        raise TokenError("name_too_long", "name")
    if days not in LIFETIMES:
        raise TokenError("bad_lifetime", "days")
    now = clock.now()
    active = db.session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    )
    if (active or 0) >= MAX_ACTIVE:
        raise TokenError("too_many", "name")
    secret = PREFIX + new_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[:SHOWN_PREFIX],
        created_with=user.signin_method or "password",
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    return Created(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, the newest first: the active ones and those that ended."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def own_token(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens; someone else's is not there (None)."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def revoke(token: ApiToken) -> bool:
    """Revoke at once; False when it had already ended."""
    if state(token) != "active":
        return False
    token.revoked_at = clock.now()
    db.session.flush()
    return True


def revoke_all(user: User) -> None:
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


# Built once: this runs on every bearer request.
_TOKEN_USER = (
    select(User, ApiToken)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now", type_=ApiToken.__table__.c.expires_at.type),
    )
    .limit(1)
)


def authenticate(secret: str) -> tuple[User, ApiToken] | None:
    """The owner of a live token (not revoked, not expired) and the token; None otherwise."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = clock.now()
    row = db.session.execute(_TOKEN_USER, {"token_hash": token_hash(secret), "now": now}).first()
    if row is None:
        return None
    user, token = row
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        token.last_used_at = now
    return user, token
