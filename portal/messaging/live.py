"""Messaging over the /live socket: send (acknowledged with the sequence number), typing, read.

Every client event is re-checked against the policy; messages are stored and committed before
anyone is told about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from portal import db
from portal.access.audience import conversation_readers
from portal.access.guard import current_actor, record_decision
from portal.access.policy import Decision, decide
from portal.auth.login import adopt, session_token
from portal.auth.models import User, UserSession
from portal.auth.services import LIVE_SESSION, session_params
from portal.core import clock
from portal.core.args import MAX_ID
from portal.core.sanitize import has_bad_characters
from portal.extensions import socketio
from portal.family.models import Member
from portal.live.events import reader_room
from portal.messaging import services
from portal.messaging.length import body_length, too_long_text
from portal.messaging.limits import send_limit
from portal.messaging.models import MAX_BODY, Conversation, Message, Participant

NAMESPACE = "/live"


def person_room(user_id: int, session_hash: str, family_id: int) -> str:
    """One sign-in's sockets subscribed to a family's messages. Conversation events go to the
    rooms of the sign-ins allowed to read them right then."""
    return reader_room(user_id, session_hash, family_id, "messages")


def message_event(message: Any, attachments: Any = (), quoted: Any = None) -> dict[str, Any]:
    """message.new: the message as the API shows it, so a client renders both the same way."""
    from portal.api.serialize import message_json

    return {"type": "message.new", **message_json(message, attachments, quoted)}


def new_event(conversation: Conversation, sent: services.Sent) -> dict[str, Any]:
    reply = sent.message.reply_to_seq
    quoted = services.quoted(conversation, [reply]).get(reply) if reply else None
    return message_event(sent.message, sent.attachments, quoted)


def change_event(message: Any) -> dict[str, Any]:
    return {
        "family_id": message.family_id,
        "type": "message.changed",
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "at": (message.deleted_at or message.edited_at or message.created_at).isoformat(),
        "body": message.body,
        "edited": message.edited_at is not None,
        "deleted": message.deleted_at is not None,
    }


def emit_to_readers(
    event: str,
    payload: dict[str, Any],
    conversation: Conversation,
    skip_sid: str | None = None,
    *,
    at_once: bool = False,
) -> None:
    """Send `event` to the people who may read `conversation`, as decided now, in the caller's
    transaction; sent after its commit (or at once, for what stores nothing). Deciding here
    rather than trusting the sockets' rooms means that no socket keeps hearing a conversation on
    the strength of an earlier check: a revocation that committed before this transaction
    began leaves its guest out."""
    family_id = conversation.family_id
    rooms = [
        person_room(user_id, session_hash, family_id)
        for user_id, session_hash in conversation_readers(conversation)
    ]

    def send() -> None:
        if rooms:
            socketio.emit(event, payload, to=rooms, namespace=NAMESPACE, skip_sid=skip_sid)

    if at_once:
        send()
    else:
        db.after_commit(send)


def announce_read(conversation: Conversation, mine: Participant) -> None:
    """Tell the conversation how far this person read; professionals' reads always show."""
    if services.shows_receipts(current_user, mine):
        emit_to_readers(
            "message.read",
            {
                "family_id": conversation.family_id,
                "type": "message.read",
                "conversation_id": conversation.id,
                "user_id": current_user.id,
                "name": current_user.display_name,
                "seq": mine.last_read_seq,
            },
            conversation,
        )


def user_room(user_id: int) -> str:
    """Every socket of one person (joined at connect): for what is theirs alone."""
    return f"user:{user_id}"


def announce_unread(conversation: Conversation) -> None:
    """After this person read: every open page of theirs shows the new unread count of the
    family at once (the badge by "Berichten"), counted in this same transaction."""
    payload = {
        "family_id": conversation.family_id,
        "type": "unread.changed",
        "total": services.unread_in_family(current_user.id, conversation.family_id),
    }
    room = user_room(current_user.id)  # the reader's own count, for the reader's own sockets
    db.after_commit(lambda: socketio.emit("unread.changed", payload, to=room, namespace=NAMESPACE))


def participants_changed(conversation: Conversation, user_id: int) -> None:
    """After someone was added or removed: everyone in it now hears who is in, and someone who
    may no longer read it is told so on all their sockets (every instance, through the message
    queue). What is sent in it from now on is decided per reader (emit_to_readers), so it
    reaches them no more."""
    if user_id not in {reader for reader, _ in conversation_readers(conversation)}:
        payload = {
            "family_id": conversation.family_id,
            "type": "conversation.removed",
            "conversation_id": conversation.id,
            "at": clock.now().isoformat(),
        }
        # Each of their sign-ins that follows the family's messages (the family's rooms of that
        # person); read now, in this transaction, like every recipient list.
        rooms = [
            person_room(user_id, session_hash, conversation.family_id)
            for session_hash in live_sessions(user_id)
        ]

        def told() -> None:
            if rooms:
                socketio.emit("conversation.removed", payload, to=rooms, namespace=NAMESPACE)

        db.after_commit(told)
    emit_to_readers(
        "conversation.changed",
        {
            "family_id": conversation.family_id,
            "type": "conversation.changed",
            "id": conversation.id,
            "conversation_id": conversation.id,
            "at": clock.now().isoformat(),
        },
        conversation,
    )


def topic_changed(conversation: Conversation) -> None:
    """After a new topic: everyone in the conversation sees it at once."""
    emit_to_readers(
        "conversation.changed",
        {
            "family_id": conversation.family_id,
            "type": "conversation.changed",
            "id": conversation.id,
            "conversation_id": conversation.id,
            "topic": conversation.topic,
            "at": clock.now().isoformat(),
        },
        conversation,
    )


# One query for everything a socket event about a conversation needs to decide: the signed-in
# user of the socket's session (still live: not revoked, not expired), the conversation, the
# user's membership of its family, whether they take part in it, and (for a send) the message
# already stored under the client's idempotency key. No row: the session has ended. The policy
# gets the facts through Actor.preload() and decides without a query of its own.
_CONTEXT = (
    select(User, UserSession.method, Conversation, Member, Participant.user_id, Message.id)
    .select_from(UserSession)
    .join(User, User.id == UserSession.user_id)
    .outerjoin(Conversation, Conversation.id == bindparam("conversation_id"))
    .outerjoin(
        Member,
        (Member.family_id == Conversation.family_id)
        & (Member.user_id == User.id)
        & Member.removed_at.is_(None),
    )
    .outerjoin(
        Participant,
        (Participant.conversation_id == Conversation.id)
        & (Participant.user_id == User.id)
        & Participant.removed_at.is_(None),
    )
    .outerjoin(
        Message,
        (Message.conversation_id == Conversation.id)
        & (Message.author_id == User.id)
        & (Message.client_key == bindparam("client_key")),
    )
    .where(LIVE_SESSION)
    .options(lazyload(Member.user))  # the policy needs the membership, not its user row
    .limit(1)
)


@dataclass
class Context:
    conversation: Conversation
    decision: Decision
    existing_id: int | None  # a message this author already sent under the event's client_key


def _conversation(data: Any, action: str, client_key: str = "") -> tuple[Context | None, str]:
    """The conversation named by a client event, if the policy allows `action` on it now.

    The session check that Flask-Login would make with a query of its own (on every event) is
    folded into the context query; the user it finds becomes current_user."""
    token = session_token()
    if token is None:
        return None, "unauthorized"
    raw = data.get("conversation_id") if isinstance(data, dict) else None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 < raw < MAX_ID:
        return None, "bad_request"
    row = db.session.execute(
        _CONTEXT, {**session_params(token), "conversation_id": raw, "client_key": client_key}
    ).first()
    if row is None:
        adopt(None, None, token)
        return None, "unauthorized"  # the session ended since the socket connected
    user, method, conversation, member, participant_id, existing_id = row
    adopt(user, method, token)
    actor = current_actor()
    if conversation is None:
        record_decision(actor, action, None, "conversation", raw, allowed=False, reason="not_found")
        db.commit()
        return None, "not_found"
    actor.preload(conversation.family_id, member, conversation.id, participant_id is not None)
    decision = decide(actor, action, conversation)
    if not decision.allowed:
        record_decision(
            actor,
            action,
            conversation.family_id,
            "conversation",
            conversation.id,
            decision=decision,
        )
        db.commit()
        return None, "not_found" if decision.hide else "forbidden"
    return Context(conversation, decision, existing_id), ""


def readable_conversations(family_id: int, conversations: list[Conversation]) -> list[int]:
    """Which of these conversations (each one the current user takes part in, as the caller's
    query proved) the policy lets them read now: decided in memory, no query per row."""
    actor = current_actor()
    allowed = []
    for conversation in conversations:
        actor.preload(family_id, actor.membership(family_id), conversation.id, True)
        if decide(actor, "message.view", conversation).allowed:
            allowed.append(conversation.id)
    return allowed


def join_messages(sid: str, session_hash: str, family_id: int) -> None:
    """Put a subscribed socket in its sign-in's room for the family's messages."""
    room = person_room(current_user.id, session_hash, family_id)
    socketio.server.enter_room(sid, room, namespace=NAMESPACE)


def live_sessions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(UserSession.token_hash).where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > clock.now(),
            )
        )
    )


def on_message_send(data: Any) -> dict[str, Any]:
    key = data.get("client_key") if isinstance(data, dict) else None
    body = data.get("body", "") if isinstance(data, dict) else ""
    # Before the key reaches a query: text no database stores (a NUL in the body is dropped
    # when it is stored, as for every message).
    if (isinstance(key, str) and has_bad_characters(key)) or (
        isinstance(body, str) and has_bad_characters(body.replace("\x00", ""))
    ):
        return {"ok": False, "error": "bad_characters"}
    context, error = _conversation(data, "message.send", key if isinstance(key, str) else "")
    if context is None:
        return {"ok": False, "error": error}
    conversation = context.conversation
    reply = data.get("reply_to_seq")
    attachments = data.get("attachments", [])
    if not isinstance(body, str) or not isinstance(key, str):
        return {"ok": False, "error": "bad_request"}
    if reply is not None and (not isinstance(reply, int) or isinstance(reply, bool)):
        return {"ok": False, "error": "bad_request"}
    if not isinstance(attachments, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) and 0 < a < MAX_ID for a in attachments
    ):
        return {"ok": False, "error": "bad_request"}
    # Counted as the page counts before sending (portal/core/textlength); a client that sends
    # more anyway hears the limit and the count, and nothing is stored.
    counted = body_length(body)
    if counted > MAX_BODY:
        db.rollback()
        return {"ok": False, "error": "too_long", "message": too_long_text(MAX_BODY, counted)}
    wait = send_limit.take(current_user.id)
    if wait:
        db.rollback()
        return {"ok": False, "error": "rate_limited", "retry_after": max(round(wait, 1), 0.1)}
    existing = db.session.get(Message, context.existing_id) if context.existing_id else None
    try:
        sent = services.send(
            conversation,
            current_user,
            body,
            key,
            reply,
            attachments,
            known=True,
            existing=existing,
        )
    except services.MessagingError as exc:
        db.rollback()
        return {"ok": False, "error": exc.code}
    # The decision made above, for this very event: one audit row per message.
    record_decision(
        current_actor(),
        "message.send",
        conversation.family_id,
        "message",
        sent.message.id,
        decision=context.decision,
    )
    if not sent.duplicate:
        emit_to_readers("message.new", new_event(conversation, sent), conversation)
    db.commit()
    # Let the recipients' sockets write the new message now, before this event's own tail (the
    # ack, the context's teardown): under gevent they would otherwise wait for all of it.
    # bench/bench_messaging.py, rooms of 5: delivery p50 0.5 ms lower.
    socketio.sleep(0)
    return {"ok": True, "seq": sent.message.seq, "id": sent.message.id, "duplicate": sent.duplicate}


def on_typing(data: Any) -> dict[str, Any]:
    # Checked by the policy like every event, but not logged: it reads and stores nothing of
    # the family (only "X is typing" to the others, for a few seconds), and clients send it
    # every few seconds while someone types, which would bury the log the family reads.
    context, error = _conversation(data, "message.send")
    if context is None:
        return {"ok": False, "error": error}
    conversation = context.conversation
    emit_to_readers(
        "typing",
        {
            "family_id": conversation.family_id,
            "type": "typing",
            "conversation_id": conversation.id,
            "user_id": current_user.id,
            "name": current_user.display_name,
        },
        conversation,
        skip_sid=request.sid,  # type: ignore[attr-defined]
        at_once=True,
    )
    db.rollback()
    return {"ok": True}


def on_read(data: Any) -> dict[str, Any]:
    context, error = _conversation(data, "message.view")
    if context is None:
        return {"ok": False, "error": error}
    conversation = context.conversation
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        return {"ok": False, "error": "bad_request"}
    mine = services.mark_read(conversation, current_user, seq)
    announce_read(conversation, mine)
    announce_unread(conversation)
    # Logged as the API's read is: the reader saw the conversation's messages up to `seq`.
    record_decision(
        current_actor(),
        "message.view",
        conversation.family_id,
        "conversation",
        conversation.id,
        decision=context.decision,
    )
    db.commit()
    return {"ok": True, "seq": mine.last_read_seq}
