"""The family's own space and the people in it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.core import clock
from portal.db import Base

ROLE_PARENT = "parent"
ROLE_YOUNG_PERSON = "young_person"
ROLE_NETWORK = "network"
ROLES = (ROLE_PARENT, ROLE_YOUNG_PERSON, ROLE_NETWORK)


class Family(Base):
    __tablename__ = "family"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Member(Base):
    """A person in the family: parent/carer, young person (child) or network member.

    Children need no login; a young person of 12+ and every adult may be linked to an account.
    """

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None]
    # Parental authority (gezag) decides who may consent for a child under 16.
    has_authority: Mapped[bool] = mapped_column(default=False)
    household: Mapped[str | None] = mapped_column(String(100))
    relation: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    invited_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    removed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def has_login(self) -> bool:
        return self.user_id is not None

    @property
    def invitation_pending(self) -> bool:
        return self.user_id is None and self.invited_at is not None
