"""The append-only, hash-chained access log (NEN 7513): one row per access to family data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import Versioned
from portal.core import clock
from portal.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("chain_key", "seq"),
        Index("ix_audit_event_family_id_id", "family_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Each family has its own chain (0: events about no existing family).
    chain_key: Mapped[int]
    seq: Mapped[int]
    at: Mapped[datetime]
    family_id: Mapped[int | None]
    # No foreign keys: the log must outlive (and never be changed by) deletions elsewhere.
    actor_user_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(120))
    basis: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))  # allowed / denied
    reason: Mapped[str | None] = mapped_column(String(60))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # How many accesses the row stands for: 1, except for the row that counts a socket's
    # repeats of a refusal (portal/access/repeats.py).
    count: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last link of each chain: lets verify notice a deleted tail and serialises writers."""

    __tablename__ = "audit_chain_head"

    chain_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


# --- guest access: grants ---------------------------------------------------------------------

PARTS = ("plan", "dossier", "messages", "modules", "documents")
LEVEL_READ = "read"
LEVEL_WRITE = "write"
LEVELS = (LEVEL_READ, LEVEL_WRITE)
ORIGIN_INVITATION = "invitation"
ORIGIN_REQUEST = "request"


class Grant(Versioned, Base):
    """A professional's time-limited, scoped access to one family, granted by the family.

    Born either from the family's invitation (accepted_at is set when the professional accepts
    the link) or from the professional's request (accepted from the start, waiting for the
    family's approvals). It is active only while approved by everyone the age rules require,
    accepted, not revoked, and now is within [valid_from, expires_at). Never deleted.
    """

    __tablename__ = "access_grant"
    __table_args__ = (Index("ix_access_grant_family_grantee", "family_id", "grantee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    grantee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    invited_email: Mapped[str | None] = mapped_column(String(254))
    origin: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(500))
    # The young person whose data this is about, if any: decides who must approve.
    subject_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL")
    )
    valid_from: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    # Set when every approval the age rules require is in; the policy reads only this.
    approved_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    denied_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    renewal_requested_at: Mapped[datetime | None]
    reminded_14_at: Mapped[datetime | None]
    reminded_3_at: Mapped[datetime | None]

    parts: Mapped[list[GrantPart]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="GrantPart.part"
    )
    approvals: Mapped[list[GrantApproval]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )

    def level_for(self, part: str) -> str | None:
        return next((p.level for p in self.parts if p.part == part), None)


class GrantPart(Base):
    __tablename__ = "access_grant_part"

    grant_id: Mapped[int] = mapped_column(
        ForeignKey("access_grant.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))


class GrantApproval(Base):
    """One family member's yes to a grant (the age rules decide whose yes is needed)."""

    __tablename__ = "access_grant_approval"
    __table_args__ = (UniqueConstraint("grant_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("access_grant.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    approved_at: Mapped[datetime] = mapped_column(default=clock.now)
