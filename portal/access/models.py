"""The append-only, hash-chained access log (NEN 7513): one row per access to family data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last link of each chain: lets verify notice a deleted tail and serialises writers."""

    __tablename__ = "audit_chain_head"

    chain_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
