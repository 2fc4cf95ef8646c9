"""A stored file and its bytes. The bytes live in their own table so lists never load them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.db import Base

MAX_NAME = 200
MAX_PER_MESSAGE = 5


class StoredFile(Base):
    """An upload in a family's space. It is made for one place (a conversation, or the dossier
    when conversation_id is empty) and is private to its uploader until it is attached there."""

    __tablename__ = "stored_file"
    __table_args__ = (Index("ix_stored_file_family_id_id", "family_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    uploader_name: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Where it was uploaded for, and where it ended up.
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    dossier_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossier_entry.id", ondelete="SET NULL"), index=True
    )
    # A photo's preview size (the preview itself is in FilePreview); empty: no preview.
    preview_width: Mapped[int | None]
    preview_height: Mapped[int | None]


class FileContent(Base):
    __tablename__ = "stored_file_content"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FilePreview(Base):
    """A photo made small and drawn again by the portal (portal/files/previews.py): the only
    bytes the portal ever lets a browser show inline, never the uploaded ones."""

    __tablename__ = "stored_file_preview"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
