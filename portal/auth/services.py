"""Account state changes. Services flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update

from config import Settings
from portal import db
from portal.auth import api_tokens, passwords, totp
from portal.auth.models import (
    KIND_FAMILY,
    KIND_PROFESSIONAL,
    LinkToken,
    RecoveryCode,
    User,
    UserSession,
)
from portal.core import clock, mail
from portal.core.tokens import new_token, token_hash

PURPOSE_VERIFY = "verify_email"
PURPOSE_RESET = "reset_password"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# --- sign-up and e-mail verification ------------------------------------------------------


@dataclass(frozen=True)
class SignUp:
    email: str
    password: str
    display_name: str
    locale: str = "nl"
    kind: str = KIND_FAMILY
    profession: str | None = None
    organisation: str | None = None
    register_number: str | None = None


def sign_up(data: SignUp) -> User | None:
    """Create the account and mail a verification link.

    If the address already has an account we create nothing and mail its owner instead; the
    caller shows the same answer either way, so sign-up never tells who has an account.
    """
    existing = find_user(data.email)
    if existing is not None:
        mail.send(
            existing.email,
            "signup_existing",
            locale=existing.locale,
            signin_url=mail.link("auth.signin"),
            reset_url=mail.link("auth.reset_request"),
        )
        return None
    user = User(
        email=normalise_email(data.email),
        display_name=data.display_name,
        password_hash=passwords.hash_password(data.password),
        locale=data.locale,
        kind=data.kind,
        profession=data.profession if data.kind == KIND_PROFESSIONAL else None,
        organisation=data.organisation if data.kind == KIND_PROFESSIONAL else None,
        register_number=data.register_number if data.kind == KIND_PROFESSIONAL else None,
    )
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def issue_link(
    purpose: str,
    email: str,
    lifetime: timedelta,
    user: User | None = None,
    subject_id: int | None = None,
) -> str:
    token = new_token()
    db.session.add(
        LinkToken(
            purpose=purpose,
            token_hash=token_hash(token),
            user_id=user.id if user else None,
            subject_id=subject_id,
            email=email,
            expires_at=clock.now() + lifetime,
        )
    )
    db.session.flush()
    return token


def send_verification(user: User) -> None:
    token = issue_link(
        PURPOSE_VERIFY, user.email, timedelta(hours=settings().email_token_hours), user=user
    )
    mail.send(
        user.email,
        "verify_email",
        locale=user.locale,
        name=user.display_name,
        url=mail.link("auth.verify_email", token=token),
        hours=settings().email_token_hours,
    )


@dataclass(frozen=True)
class LinkCheck:
    status: str  # ok, expired, used, invalid
    link: LinkToken | None = None


def check_link(token: str, purpose: str) -> LinkCheck:
    """Look a link token up by its hash; expiry and use are checked on the database row."""
    link = db.session.scalar(
        select(LinkToken).where(
            LinkToken.token_hash == token_hash(token or ""), LinkToken.purpose == purpose
        )
    )
    if link is None:
        return LinkCheck("invalid")
    if link.used_at is not None:
        return LinkCheck("used", link)
    if link.expires_at <= clock.now():
        return LinkCheck("expired", link)
    return LinkCheck("ok", link)


def consume_link(token: str, purpose: str) -> LinkCheck:
    """Use a link once. The conditional UPDATE makes a race between two clicks yield one winner."""
    check = check_link(token, purpose)
    if check.status != "ok" or check.link is None:
        return check
    now = clock.now()
    result = db.session.execute(
        update(LinkToken)
        .where(LinkToken.id == check.link.id, LinkToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return LinkCheck("used", check.link)
    check.link.used_at = now
    return check


def verify_email(token: str) -> LinkCheck:
    check = consume_link(token, PURPOSE_VERIFY)
    if check.status == "ok" and check.link and check.link.user_id:
        user = db.session.get(User, check.link.user_id)
        if user is not None and user.email_verified_at is None:
            user.email_verified_at = clock.now()
    return check


# --- sign-in and sessions -------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The user if the password is right. Unknown addresses cost the same hashing time."""
    user = find_user(email)
    ok = passwords.check_password(user.password_hash if user else None, password)
    if not ok or user is None:
        return None
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def start_session(user: User, method: str, address: str | None) -> str:
    """A fresh server-side session; its token becomes the Flask-Login id in the cookie."""
    token = new_token()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_hash(token),
            method=method,
            expires_at=clock.now() + timedelta(hours=settings().session_lifetime_hours),
            client_address=address,
        )
    )
    db.session.flush()
    user.session_token = token
    return token


# A session that still counts: this token, not revoked, not expired. Bound as "token_hash" and
# "now" (`session_params`); also folded into the socket events' one context query.
LIVE_SESSION = (
    (UserSession.token_hash == bindparam("token_hash"))
    & UserSession.revoked_at.is_(None)
    & (UserSession.expires_at > bindparam("now", type_=UserSession.__table__.c.expires_at.type))
)


def session_params(token: str) -> dict[str, object]:
    return {"token_hash": token_hash(token), "now": clock.now()}


# Built once: this runs on every request.
_SESSION_USER = (
    select(User, UserSession.method)
    .join(UserSession, UserSession.user_id == User.id)
    .where(LIVE_SESSION)
    .limit(1)
)


def load_session(token: str) -> tuple[User, str] | None:
    """The signed-in user of a live (not revoked, not expired) session, and how they signed in."""
    row = db.session.execute(_SESSION_USER, session_params(token)).first()
    if row is None:
        return None
    user, method = row
    user.session_token = token
    return user, method


def end_session(token: str | None) -> None:
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def end_all_sessions(user: User) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


# --- password reset -------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; the caller answers the same either way."""
    user = find_user(email)
    if user is None or user.password_hash is None and user.oidc_subject is not None:
        return
    minutes = settings().reset_token_minutes
    token = issue_link(PURPOSE_RESET, user.email, timedelta(minutes=minutes), user=user)
    mail.send(
        user.email,
        "reset_password",
        locale=user.locale,
        name=user.display_name,
        url=mail.link("auth.reset_link", token=token),
        minutes=minutes,
    )


def reset_password(token: str, new_password: str) -> LinkCheck:
    check = consume_link(token, PURPOSE_RESET)
    if check.status == "ok" and check.link and check.link.user_id:
        user = db.session.get(User, check.link.user_id)
        if user is not None:
            user.password_hash = passwords.hash_password(new_password)
            # The mail proved the address; everyone signed in with the old password is out.
            user.email_verified_at = user.email_verified_at or clock.now()
            end_all_sessions(user)
            # Tokens too: whoever had the old password may have made one to stay in.
            api_tokens.revoke_all(user)
    return check


# --- two-factor -----------------------------------------------------------------------------


def enable_totp(user: User, secret: str, code: str) -> list[str] | None:
    """Confirm enrolment with a first code; returns fresh recovery codes (shown once)."""
    if not totp.accept_code(user, secret, code):
        return None
    user.totp_secret = secret
    user.totp_enabled_at = clock.now()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    for code_text in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(code_text)))
    db.session.flush()
    return codes


def check_second_factor(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when the code is good, None otherwise."""
    if user.totp_secret and totp.accept_code(user, user.totp_secret, code):
        return "totp"
    if len(totp.normalise_recovery_code(code)) == 12:
        for stored in db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ):
            if totp.recovery_code_matches(stored.code_hash, code):
                stored.used_at = clock.now()
                return "recovery"
    return None


def remaining_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )
