"""The dossier's entries and what each said before every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.columns import Versioned
from portal.core import clock
from portal.db import Base


class DossierEntry(Versioned, Base):
    """A note, report or letter in the family's dossier. Authorship is kept for good: a guest's
    entry stays (marked as written by a former guest) after their access ends."""

    __tablename__ = "dossier_entry"
    __table_args__ = (Index("ix_dossier_entry_family_id_id", "family_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(100))
    author_organisation: Mapped[str | None] = mapped_column(String(120))
    # "member" or "guest" at the time of writing.
    author_kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Who may read it besides the author: see VISIBILITIES (the policy enforces it).
    visibility: Mapped[str] = mapped_column(String(12), default="all", server_default="all")
    updated_at: Mapped[datetime | None]
    # Taken out of the dossier by its author: hidden, but every earlier text stays in the
    # revisions (a professional's contribution never silently disappears).
    deleted_at: Mapped[datetime | None]


# all: everyone with dossier access (guests too); family: members only; parents: parents only;
# no_parents: everyone but the parents (a young person of 16+); me: the author only.
VISIBILITIES = ("all", "family", "parents", "no_parents", "me")


class DossierRevision(Base):
    """What an entry said before each change (and before it was taken out)."""

    __tablename__ = "dossier_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("dossier_entry.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(12))
    written_at: Mapped[datetime]  # when this text was saved (created or last edited)
    replaced_at: Mapped[datetime] = mapped_column(default=clock.now)
    change: Mapped[str] = mapped_column(String(10))  # edited / deleted
