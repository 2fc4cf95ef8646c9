"""Conversations inside a family's space and their messages (persisted before they are sent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.db import Base

MAX_BODY = 10_000
MAX_TOPIC = 120


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (Index("ix_conversation_family_id_id", "family_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(MAX_TOPIC))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The last sequence number handed out; raised in the same statement that claims the next.
    last_seq: Mapped[int] = mapped_column(default=0)
    # When the last message came in (when it started, before the first): the list's order,
    # set in that same statement.
    active_at: Mapped[datetime] = mapped_column(default=clock.now)


class Participant(Base):
    """Who is in a conversation; the family decides. Leaving keeps the row (and the history)."""

    __tablename__ = "conversation_participant"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=clock.now)
    removed_at: Mapped[datetime | None]
    last_read_seq: Mapped[int] = mapped_column(default=0)
    # Up to which message this person has been told by mail (never about the same one twice).
    notified_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # Family members may stop sending read receipts; professionals' reads are always shown.
    send_receipts: Mapped[bool] = mapped_column(default=True)


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "author_id", "client_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(100))
    client_key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    reply_to_seq: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


EDIT_WINDOW_MINUTES = 15


class MessageRevision(Base):
    """What a message said before its author edited or deleted it: kept, never shown to others."""

    __tablename__ = "message_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(default=clock.now)
    change: Mapped[str] = mapped_column(String(10))  # edited / deleted
