"""The plan's memory: every change to a part (kept automatically at flush), the versions the
family proposed for agreement, and who signed them off."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.db import Base


class PlanChange(Base):
    """One saved change to one item of the plan: the item's full state after it (JSON) and
    which fields changed, so the history shows a readable diff and can restore any state."""

    __tablename__ = "plan_change"
    __table_args__ = (
        Index("ix_plan_change_family_id_id", "family_id", "id"),
        Index("ix_plan_change_item", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    part: Mapped[str] = mapped_column(String(20))  # questions, goals, agreements, ...
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    change: Mapped[str] = mapped_column(String(10))  # created, edited, removed, restored
    fields: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of changed fields
    state: Mapped[str] = mapped_column(Text)  # JSON: every column after the change
    by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    by_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=clock.now)


class PlanVersion(Base):
    """A version of the whole plan the family proposed for agreement ("gedragen plan").
    It becomes agreed (vastgesteld) when every required party signed it off."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("family_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    number: Mapped[int]
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: every part as it was proposed
    # The last change it contains: a later change outdates an open proposal.
    last_change_id: Mapped[int] = mapped_column(default=0)
    required: Mapped[str] = mapped_column(Text)  # JSON list of {user_id, name, why}
    proposed_by_name: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(default=clock.now)
    agreed_at: Mapped[datetime | None]
    # A change after proposing or agreeing: this version is no longer the current one.
    superseded_at: Mapped[datetime | None]


class PlanSignoff(Base):
    __tablename__ = "plan_signoff"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_version.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[datetime] = mapped_column(default=clock.now)


class PlanSigner(Base):
    """Someone who must sign a proposed version, fixed when it was proposed: a parent with
    authority, a young person of 12+ (also without a login yet) or a guest who writes in the
    plan. Someone who joins while the version is open is added (`joined_later`).

    A signature itself is a PlanSignoff; this row keeps what else a signer can answer: "niet
    akkoord" with a reason, or — for a young person — "doet niet mee", marked by a parent with
    authority, with a reason everyone sees."""

    __tablename__ = "plan_signer"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_version.id", ondelete="CASCADE"), index=True
    )
    # A family member (whose login may come later) or, for a guest, the guest's account.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    guest_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(100))
    why: Mapped[str] = mapped_column(String(20))  # parent, young_person, guest
    added_at: Mapped[datetime] = mapped_column(default=clock.now)
    joined_later: Mapped[bool] = mapped_column(default=False)
    disagreed_at: Mapped[datetime | None]
    disagree_reason: Mapped[str | None] = mapped_column(Text)
    not_taking_part_at: Mapped[datetime | None]
    not_taking_part_reason: Mapped[str | None] = mapped_column(Text)
    not_taking_part_by_name: Mapped[str | None] = mapped_column(String(100))
