"""Conversations and messages: persist first (with a per-conversation sequence number and an
idempotency key), the caller emits after commit. Services flush, never commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal import db
from portal.access.policy import Actor, decide, grant_state
from portal.auth.models import User
from portal.core import clock
from portal.core.sanitize import plain_text
from portal.core.textlength import count
from portal.family.models import Family, Member
from portal.files import services as files
from portal.files.checks import FileRefused
from portal.files.models import StoredFile
from portal.messaging.length import clean_body
from portal.messaging.models import (
    EDIT_WINDOW_MINUTES,
    MAX_BODY,
    MAX_TOPIC,
    Conversation,
    Message,
    MessageRevision,
    Participant,
)

CLIENT_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


class MessagingError(Exception):
    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def eligible_people(family: Family) -> list[User]:
    """Who may be added to a conversation: members with a login, and active guests with the
    messages part."""
    members = list(
        db.session.scalars(
            select(User)
            .join(Member, Member.user_id == User.id)
            .where(Member.family_id == family.id, Member.removed_at.is_(None))
        )
    )
    from portal.access.models import Grant

    now = clock.now()
    guests = []
    for grant in db.session.scalars(
        select(Grant).where(Grant.family_id == family.id, Grant.grantee_id.is_not(None))
    ):
        if grant_state(grant, now) == "active" and grant.level_for("messages"):
            user = db.session.get(User, grant.grantee_id)
            if user is not None and user not in guests:
                guests.append(user)
    return members + [g for g in guests if g not in members]


def start(family: Family, by: User, topic: str, participant_ids: list[int]) -> Conversation:
    topic = plain_text(topic, MAX_TOPIC)
    if not topic:
        raise MessagingError("topic_required", "topic")
    allowed = {u.id for u in eligible_people(family)}
    chosen = set(participant_ids) | {by.id}
    if not chosen <= allowed:
        raise MessagingError("not_eligible", "participants")
    if len(chosen) < 2:
        raise MessagingError("nobody_else", "participants")
    conversation = Conversation(family_id=family.id, topic=topic, created_by_id=by.id)
    db.session.add(conversation)
    db.session.flush()
    db.session.add_all(Participant(conversation_id=conversation.id, user_id=uid) for uid in chosen)
    db.session.flush()
    return conversation


def rename(conversation: Conversation, topic: str) -> bool:
    """A new topic (the same checks as at the start). False when it did not change."""
    text = plain_text(topic, MAX_TOPIC)
    if not text:
        raise MessagingError("topic_required", "topic")
    if text == conversation.topic:
        return False
    conversation.topic = text
    db.session.flush()
    return True


def participant(conversation: Conversation, user_id: int) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(
            Participant.conversation_id == conversation.id,
            Participant.user_id == user_id,
            Participant.removed_at.is_(None),
        )
    )


def my_conversations(
    family: Family, user: User, limit: int | None = None, offset: int = 0
) -> list[tuple[Conversation, int]]:
    """Conversations I am in, the most recent activity first, with my unread count (one
    query); with `limit`, that many from `offset` on."""
    query = (
        select(Conversation, Participant.last_read_seq)
        .join(Participant, Participant.conversation_id == Conversation.id)
        .where(
            Conversation.family_id == family.id,
            Participant.user_id == user.id,
            Participant.removed_at.is_(None),
        )
        .order_by(Conversation.active_at.desc(), Conversation.id.desc())
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = db.session.execute(query).all()
    return [(c, max(0, c.last_seq - read)) for c, read in rows]


def count_my_conversations(family: Family, user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Participant)
            .join(Conversation, Conversation.id == Participant.conversation_id)
            .where(
                Conversation.family_id == family.id,
                Participant.user_id == user.id,
                Participant.removed_at.is_(None),
            )
        )
        or 0
    )


def latest_messages(conversation_ids: list[int]) -> dict[int, Message]:
    """The newest message of each of these conversations (one query), for the list's preview."""
    if not conversation_ids:
        return {}
    rows = db.session.scalars(
        select(Message)
        .join(
            Conversation,
            (Conversation.id == Message.conversation_id) & (Message.seq == Conversation.last_seq),
        )
        .where(Conversation.id.in_(conversation_ids))
    )
    return {m.conversation_id: m for m in rows}


def people_names(conversation_ids: list[int]) -> dict[int, list[str]]:
    """Who takes part in each of these conversations now, by name (one query)."""
    names: dict[int, list[str]] = {}
    if not conversation_ids:
        return names
    rows = db.session.execute(
        select(Participant.conversation_id, User.display_name)
        .join(User, User.id == Participant.user_id)
        .where(Participant.conversation_id.in_(conversation_ids), Participant.removed_at.is_(None))
        .order_by(User.display_name)
    )
    for conversation_id, name in rows:
        names.setdefault(conversation_id, []).append(name)
    return names


@dataclass(frozen=True)
class Sent:
    message: Message
    duplicate: bool  # the client sent this key before: same message, nothing stored twice
    attachments: tuple[StoredFile, ...] = ()


def send(
    conversation: Conversation,
    by: User,
    body: str,
    client_key: str,
    reply_to_seq: int | None = None,
    attachment_ids: Iterable[int] = (),
    *,
    known: bool = False,
    existing: Message | None = None,
) -> Sent:
    """Store a message (with the uploads it carries) under the conversation's next sequence
    number, or return the one this author already stored under `client_key`. A message needs
    text, attachments, or both. With known=True the caller has looked the key up itself (in its
    own query, this transaction) and passes what it found as `existing`."""
    if not isinstance(client_key, str) or not CLIENT_KEY.match(client_key):
        raise MessagingError("bad_client_key", "client_key")
    text = clean_body(body or "")
    if count(text) > MAX_BODY:
        raise MessagingError("too_long", "body")
    if not known:
        existing = _by_key(conversation, by, client_key)
    if existing is not None:
        return _duplicate(existing)
    try:
        attachments = files.pending_for(conversation, by, attachment_ids)
    except FileRefused as exc:
        raise MessagingError(exc.code, "attachments") from None
    if not text and not attachments:
        raise MessagingError("empty", "body")
    if reply_to_seq is not None and not 0 < reply_to_seq <= conversation.last_seq:
        raise MessagingError("unknown_reply", "reply_to_seq")
    # Core statements on the session's connection: this runs for every message, and the ORM's
    # unit of work costs more than the database does here.
    conn = db.session.connection()
    now = clock.now()
    seq = conn.execute(_CLAIM_SEQ, {"cid": conversation.id, "now": now}).scalar_one()
    values = {
        "conversation_id": conversation.id,
        "family_id": conversation.family_id,
        "seq": seq,
        "author_id": by.id,
        "author_name": by.display_name,
        "client_key": client_key,
        "body": text,
        "reply_to_seq": reply_to_seq,
        "created_at": now,
    }
    message_id = conn.execute(_insert_message(conn.dialect.name), values).scalar()
    if message_id is None:
        # The same key raced in from another connection and committed first: that one won,
        # this is the duplicate. The conversation row is still ours (locked by the claim), so
        # nobody has taken the number after ours: give it back, no gap.
        conn.execute(_GIVE_BACK_SEQ, {"cid": conversation.id})
        existing = _by_key(conversation, by, client_key)
        if existing is None:  # a conflicting row that is not there: a bug, not a client error
            raise RuntimeError("idempotency key conflict without a stored message")
        return _duplicate(existing)
    set_committed_value(conversation, "last_seq", seq)
    set_committed_value(conversation, "active_at", now)
    # The author has read their own message (one statement; no row to load first).
    conn.execute(_READ_OWN, {"cid": conversation.id, "uid": by.id, "seq": seq})
    message = Message(id=message_id, edited_at=None, deleted_at=None, **values)
    files.attach(attachments, message)
    return Sent(message, False, tuple(attachments))


def _duplicate(message: Message) -> Sent:
    return Sent(message, True, tuple(files.by_message([message.id]).get(message.id, [])))


_conversations = cast(Table, Conversation.__table__)
_messages = cast(Table, Message.__table__)
_participants = cast(Table, Participant.__table__)
_CLAIM_SEQ = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"))
    .values(last_seq=_conversations.c.last_seq + 1, active_at=bindparam("now"))
    .returning(_conversations.c.last_seq)
)
_GIVE_BACK_SEQ = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"))
    .values(last_seq=_conversations.c.last_seq - 1)
)
_READ_OWN = (
    update(_participants)
    .where(
        _participants.c.conversation_id == bindparam("cid"),
        _participants.c.user_id == bindparam("uid"),
        _participants.c.removed_at.is_(None),
        _participants.c.last_read_seq < bindparam("seq"),
    )
    .values(last_read_seq=bindparam("seq"))
)
_INSERTS: dict[str, Any] = {}


def _insert_message(dialect: str) -> Any:
    """INSERT … ON CONFLICT (the idempotency key) DO NOTHING RETURNING id, per dialect."""
    if dialect not in _INSERTS:
        from sqlalchemy.dialects import postgresql, sqlite

        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        _INSERTS[dialect] = (
            insert(_messages)
            .on_conflict_do_nothing(index_elements=["conversation_id", "author_id", "client_key"])
            .returning(_messages.c.id)
        )
    return _INSERTS[dialect]


def _by_key(conversation: Conversation, by: User, client_key: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(
            Message.conversation_id == conversation.id,
            Message.author_id == by.id,
            Message.client_key == client_key,
        )
    )


def after(conversation: Conversation, seq: int, limit: int) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.seq > seq)
            .order_by(Message.seq)
            .limit(limit)
        )
    )


def mark_read(conversation: Conversation, user: User, seq: int) -> Participant:
    mine = participant(conversation, user.id)
    if mine is None:
        raise MessagingError("not_a_participant")
    seq = max(0, min(seq, conversation.last_seq))
    if seq > mine.last_read_seq:
        mine.last_read_seq = seq
        db.session.flush()
    return mine


def unread_in_family(user_id: int, family_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Conversation.last_seq - Participant.last_read_seq), 0))
            .join(Participant, Participant.conversation_id == Conversation.id)
            .where(
                Participant.user_id == user_id,
                Participant.removed_at.is_(None),
                Conversation.family_id == family_id,
            )
        )
        or 0
    )


def total_unread(user: User, family: Family | None = None) -> int:
    """Unread messages in all conversations this person is in (in one family, if given)."""
    statement = (
        select(func.coalesce(func.sum(Conversation.last_seq - Participant.last_read_seq), 0))
        .join(Participant, Participant.conversation_id == Conversation.id)
        .where(Participant.user_id == user.id, Participant.removed_at.is_(None))
    )
    if family is not None:
        statement = statement.where(Conversation.family_id == family.id)
    return int(db.session.scalar(statement) or 0)


def may(actor: Actor, action: str, conversation: Conversation) -> bool:
    return decide(actor, action, conversation).allowed


def _still_changeable(message: Message) -> None:
    # Whose message it is, the policy decided (message.change); here: not gone, not too old.
    if message.deleted_at is not None:
        raise MessagingError("deleted")
    if clock.now() - message.created_at > timedelta(minutes=EDIT_WINDOW_MINUTES):
        raise MessagingError("too_late")


def edit(message: Message, body: str) -> Message:
    """The author may change a message within 15 minutes; it shows as edited, the old text is
    kept (MessageRevision) and the change is in the audit log."""
    _still_changeable(message)
    text = clean_body(body or "")
    if not text:
        raise MessagingError("empty", "body")
    if count(text) > MAX_BODY:
        raise MessagingError("too_long", "body")
    db.session.add(MessageRevision(message_id=message.id, body=message.body, change="edited"))
    message.body = text
    message.edited_at = clock.now()
    db.session.flush()
    return message


def delete(message: Message) -> Message:
    _still_changeable(message)
    db.session.add(MessageRevision(message_id=message.id, body=message.body, change="deleted"))
    message.body = ""
    message.deleted_at = clock.now()
    db.session.flush()
    return message


def by_seq(conversation: Conversation, seq: int) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.conversation_id == conversation.id, Message.seq == seq)
    )


def quoted(conversation: Conversation, seqs: Iterable[int]) -> dict[int, Message]:
    """The messages that replies point to, in one query."""
    wanted = sorted({s for s in seqs if s})
    if not wanted:
        return {}
    return {
        m.seq: m
        for m in db.session.scalars(
            select(Message).where(
                Message.conversation_id == conversation.id, Message.seq.in_(wanted)
            )
        )
    }


def add_participant(conversation: Conversation, family: Family, user_id: int) -> Participant:
    """Bring someone (back) into a conversation; they see its whole history."""
    if user_id not in {u.id for u in eligible_people(family)}:
        raise MessagingError("not_eligible", "user_id")
    row = db.session.get(Participant, (conversation.id, user_id))
    if row is None:
        row = Participant(conversation_id=conversation.id, user_id=user_id)
        db.session.add(row)
    elif row.removed_at is None:
        raise MessagingError("already_in", "user_id")
    else:
        row.removed_at = None
        row.added_at = clock.now()
    db.session.flush()
    return row


def remove_participant(conversation: Conversation, user_id: int) -> Participant:
    """Take someone out: from now on they get nothing from this conversation. The row and what
    they wrote stay (the history is the family's)."""
    row = participant(conversation, user_id)
    if row is None:
        raise MessagingError("not_a_participant", "user_id")
    others = db.session.scalar(
        select(func.count())
        .select_from(Participant)
        .where(
            Participant.conversation_id == conversation.id,
            Participant.removed_at.is_(None),
            Participant.user_id != user_id,
        )
    )
    if not others:
        raise MessagingError("last_participant", "user_id")
    row.removed_at = clock.now()
    db.session.flush()
    return row


MIN_QUERY = 2
MAX_QUERY = 100


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    family: Family, user: User, query: str, limit: int, before_id: int | None = None
) -> list[Message]:
    """Messages in the conversations `user` is in now whose text (or topic) contains `query`,
    newest first. Deleted messages are not found."""
    text = plain_text(query, MAX_QUERY)
    if len(text) < MIN_QUERY:
        raise MessagingError("query_too_short", "q")
    pattern = _like(text)
    mine = (
        select(Participant.conversation_id)
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(
            Conversation.family_id == family.id,
            Participant.user_id == user.id,
            Participant.removed_at.is_(None),
        )
    )
    statement = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(mine),
            Message.deleted_at.is_(None),
            func.lower(Message.body).like(pattern, escape="\\")
            | func.lower(Conversation.topic).like(pattern, escape="\\"),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        statement = statement.where(Message.id < before_id)
    return list(db.session.scalars(statement))


def shows_receipts(user: User, row: Participant) -> bool:
    """Professionals' reads are always shown to the family; family members may switch theirs
    off (account setting)."""
    return user.is_professional or (user.send_read_receipts and row.send_receipts)
