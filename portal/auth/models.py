"""Accounts, server-side sessions, API tokens, single-use link tokens, recovery codes and
sign-in failures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.db import Base

KIND_FAMILY = "family"
KIND_PROFESSIONAL = "professional"

PROFESSIONS = (
    "cjg_coach",
    "jeugdverpleegkundige",
    "huisarts",
    "poh_jeugd",
    "gedragswetenschapper",
    "other",
)


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default=KIND_FAMILY)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email_verified_at: Mapped[datetime | None]
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # The last accepted TOTP time step, so one code cannot be used twice.
    totp_last_step: Mapped[int | None]
    profession: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(120))
    register_number: Mapped[str | None] = mapped_column(String(40))
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_subject: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # When to mail about unread messages: off, 15min (after 15 minutes unread) or daily (digest).
    message_mail: Mapped[str] = mapped_column(String(10), default="15min", server_default="15min")
    last_digest_on: Mapped[date | None]
    # Family members may stop showing others that they read a message (professionals cannot).
    send_read_receipts: Mapped[bool] = mapped_column(default=True, server_default=true())

    # Flask-Login protocol. The id Flask-Login keeps in the cookie is the server-side session
    # token, so signing out (revoking that row) makes a copied cookie useless.
    __allow_unmapped__ = True  # the three request-only attributes below are not columns
    session_token: str | None = None
    signin_method: str | None = None
    bearer: bool = False  # this request came with an API token, not the session cookie

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def is_professional(self) -> bool:
        return self.kind == KIND_PROFESSIONAL

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class UserSession(Base):
    """A signed-in browser or API client; revoked at sign-out."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: every live event's readers are found by their sign-ins (portal/access/audience).
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(20))  # password, totp, recovery, oidc
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client_address: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A personal bearer token for the JSON API, made by its owner in their settings.

    Only the hash is kept; the token itself is shown once. It acts as its owner, through the
    same policy as their pages, until it expires (at most a year) or is revoked; a password
    reset revokes every token with every session. `created_with` is how the session that made
    it was signed in (a professional's token carries the second factor of that session)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it
    created_with: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LinkToken(Base):
    """A single-use link sent by mail: e-mail verification, password reset, member invitation."""

    __tablename__ = "link_token"
    __table_args__ = (Index("ix_link_token_purpose_subject", "purpose", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    subject_id: Mapped[int | None]  # e.g. the family member an invitation is for
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[datetime | None]
