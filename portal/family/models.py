"""The family's own space and the people in it."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.columns import Authored, Edited, Removable, Versioned
from portal.core import clock
from portal.db import Base

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone


def new_stamp() -> str:
    """A family's change stamp: random, so that no restored backup or reused id meets a
    fragment kept for another state."""
    return secrets.token_hex(8)


def new_code() -> str:
    """A family's invite code like 'K7MQ-9XPA' (40 bits; requests are rate-limited by review)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


ROLE_PARENT = "parent"
# A parent's partner or a step-parent: an adult in one of the households, never with authority.
ROLE_PARTNER = "partner"
ROLE_YOUNG_PERSON = "young_person"
ROLE_NETWORK = "network"
ROLES = (ROLE_PARENT, ROLE_PARTNER, ROLE_YOUNG_PERSON, ROLE_NETWORK)


class Family(Versioned, Base):
    __tablename__ = "family"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Given by the family to a professional who asks for access ("toegang vragen").
    invite_code: Mapped[str] = mapped_column(String(20), unique=True, default=lambda: new_code())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # New in every transaction that changes something of the family (portal/family/changes.py);
    # the plan page's cached fragments are kept under it. Not `version`: that one guards edits
    # of the family's own name against a stale form.
    change_stamp: Mapped[str] = mapped_column(String(16), default=new_stamp)


class Member(Removable, Versioned, Base):
    """A person in the family: parent/carer, young person (child) or network member.

    Children need no login; a young person of 12+ and every adult may be linked to an account.
    """

    __tablename__ = "member"
    # A person's membership of one family is looked up by both (every socket event, every live
    # event's readers): with only one-column indexes, SQLite went through all of a family's
    # members for each person.
    __table_args__ = (Index("ix_member_user_id_family_id", "user_id", "family_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None]
    # A parent with authority (gezag) over at least one child of the family; which children is
    # recorded per child in ParentalAuthority (portal/access/authority.py keeps the two in step).
    # Before any child is recorded it says what the parent was added as.
    has_authority: Mapped[bool] = mapped_column(default=False)
    household: Mapped[str | None] = mapped_column(String(100))
    # Contact details each person keeps for themself; with contact_private they are kept from
    # the other parents (in a separation, where one lives can be a matter of safety).
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_private: Mapped[bool] = mapped_column(default=False, server_default=false())
    relation: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    invited_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def has_login(self) -> bool:
        return self.user_id is not None

    @property
    def invitation_pending(self) -> bool:
        return self.user_id is None and self.invited_at is not None


class ParentalAuthority(Base):
    """Parental authority (gezag) of one parent over one child: at most two holders per child.
    Set when the parent or the child is added, confirmed by the parent when they join, and
    afterwards changed only by the operator command, with the court decision's reference."""

    __tablename__ = "parental_authority"
    __table_args__ = (UniqueConstraint("child_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    parent_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    set_at: Mapped[datetime] = mapped_column(default=clock.now)
    confirmed_at: Mapped[datetime | None]
    # The court decision behind a change made by the operator.
    court_reference: Mapped[str | None] = mapped_column(String(100))


# --- the gezinsplan and the dossier (first slice; the full plan is its own issue) -------------

WRAPAROUND_QUESTIONS = ("tomorrow", "must_change", "approach", "help", "who_else")


class Plan(Edited, Versioned, Base):
    """The family's plan. This slice holds 'Onze vragen': the five Wraparound questions,
    answered in the family's own words (../shared/DOMAIN.md)."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), unique=True)
    tomorrow: Mapped[str] = mapped_column(Text, default="")
    must_change: Mapped[str] = mapped_column(Text, default="")
    approach: Mapped[str] = mapped_column(Text, default="")
    help: Mapped[str] = mapped_column(Text, default="")
    who_else: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


GOAL_PHASES = ("not_started", "in_progress", "achieved", "adjusted")
GOAL_OWNERS = ("family", "parent", "young_person")


class Goal(Authored, Edited, Removable, Versioned, Base):
    """A measurable goal in the plan (Doelen): whose it is, its phase, scores over time."""

    __tablename__ = "plan_goal"
    __table_args__ = (
        Index("ix_plan_goal_family_id_id", "family_id", "id"),
        # The goals still in the plan: the page counts and reads them without touching rows.
        Index(
            "ix_plan_goal_open",
            "family_id",
            "id",
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(20), default="family")
    phase: Mapped[str] = mapped_column(String(20), default="not_started")


class GoalScore(Base):
    """A scale score (0-10) at an evaluation: the goal's progress over time."""

    __tablename__ = "plan_goal_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    score: Mapped[int]
    scored_on: Mapped[date]
    by_name: Mapped[str] = mapped_column(String(100))


class Agreement(Authored, Removable, Versioned, Base):
    """Wie doet wat en wanneer: an agreement with an owner, a due date, done or not."""

    __tablename__ = "plan_agreement"
    __table_args__ = (
        Index("ix_plan_agreement_family_id_id", "family_id", "id"),
        # Open first, then done, each by due date: a page of the plan is read from one of these
        # in order instead of sorting all the family's agreements (plan_services.agreements).
        Index(
            "ix_plan_agreement_open",
            "family_id",
            "due_on",
            "id",
            sqlite_where=text("removed_at IS NULL AND done_at IS NULL"),
            postgresql_where=text("removed_at IS NULL AND done_at IS NULL"),
        ),
        Index(
            "ix_plan_agreement_done",
            "family_id",
            "due_on",
            "id",
            sqlite_where=text("removed_at IS NULL AND done_at IS NOT NULL"),
            postgresql_where=text("removed_at IS NULL AND done_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(300))
    owner_name: Mapped[str] = mapped_column(String(100))
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    due_on: Mapped[date | None]
    done_at: Mapped[datetime | None]
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("plan_goal.id", ondelete="SET NULL"))
    # When a petal of de bloem owns it (a removed petal is kept, so the name stays right).
    owner_petal_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_network_petal.id", ondelete="SET NULL")
    )


# --- de bloem, veiligheid, evaluatie --------------------------------------------------------------

PETAL_KINDS = ("informal", "professional")


class NetworkPetal(Authored, Edited, Removable, Versioned, Base):
    """A petal of 'de bloem': a person or organisation who helps the family. Guests are not
    stored here: they are derived from active grants with the plan part (a petal may name one,
    guest_user_id, and then stands for them)."""

    __tablename__ = "plan_network_petal"
    __table_args__ = (Index("ix_plan_network_petal_family_id_id", "family_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20), default="informal")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    # A petal the family made for someone who is (or was) their guest: de bloem then shows
    # that person once, on this petal, with the last day of their access.
    guest_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class SafetyPlan(Edited, Versioned, Base):
    """The safety (crisis) plan: signals, what we do, whom we call."""

    __tablename__ = "plan_safety"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), unique=True)
    signals: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    contacts: Mapped[str] = mapped_column(Text, default="")


EVALUATION_KINDS = ("evaluation", "network_meeting")


class Evaluation(Authored, Edited, Removable, Versioned, Base):
    """An evaluation moment or network meeting: when, who takes part, and what came out of it."""

    __tablename__ = "plan_evaluation"
    __table_args__ = (Index("ix_plan_evaluation_family_id_held_on", "family_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="evaluation")
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    # Local time of day (Europe/Amsterdam), "HH:MM"; empty for an all-day moment.
    start_time: Mapped[str] = mapped_column(String(5), default="")
    participants: Mapped[str] = mapped_column(String(1000), default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
