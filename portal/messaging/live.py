"""Messaging over the /live socket: send (acknowledged with the sequence number), typing, read.

Every client event is re-checked against the policy; messages are stored and committed before
anyone is told about them."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access.guard import current_actor, record_decision
from portal.access.policy import decide
from portal.core import clock
from portal.extensions import socketio
from portal.messaging import services
from portal.messaging.limits import send_limit
from portal.messaging.models import Conversation, Participant

NAMESPACE = "/live"
MAX_FRAME_BODY = 10_000


def conversation_room(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


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


def emit_after_commit(
    event: str, payload: dict[str, Any], room: str, skip_sid: str | None = None
) -> None:
    def send() -> None:
        socketio.emit(event, payload, to=room, namespace=NAMESPACE, skip_sid=skip_sid)

    db.after_commit(send)


def announce_read(conversation: Conversation, mine: Participant) -> None:
    """Tell the conversation how far this person read; professionals' reads always show."""
    if services.shows_receipts(current_user, mine):
        emit_after_commit(
            "message.read",
            {
                "family_id": conversation.family_id,
                "type": "message.read",
                "conversation_id": conversation.id,
                "user_id": current_user.id,
                "name": current_user.display_name,
                "seq": mine.last_read_seq,
            },
            conversation_room(conversation.id),
        )


def participants_changed(conversation: Conversation, user_id: int) -> None:
    """After someone was added or removed: their sockets on this instance join or leave the
    conversation's room at once (other instances follow within one sweep), and everyone in it
    hears who is in now."""
    from portal.live.namespace import refresh_conversation

    def run() -> None:
        refresh_conversation(conversation.id, conversation.family_id, user_id)

    db.after_commit(run)
    emit_after_commit(
        "conversation.changed",
        {
            "family_id": conversation.family_id,
            "type": "conversation.changed",
            "id": conversation.id,
            "conversation_id": conversation.id,
            "at": clock.now().isoformat(),
        },
        conversation_room(conversation.id),
    )


def _conversation(data: Any, action: str) -> tuple[Conversation | None, str | None]:
    """The conversation named by a client event, if the policy allows `action` on it now."""
    if not current_user.is_authenticated:
        return None, "unauthorized"
    raw = data.get("conversation_id") if isinstance(data, dict) else None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 < raw < 2**62:
        return None, "bad_request"
    conversation = db.session.get(Conversation, raw)
    actor = current_actor()
    if conversation is None:
        record_decision(actor, action, None, "conversation", raw, allowed=False, reason="not_found")
        db.commit()
        return None, "not_found"
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
    return conversation, None


def join_conversations(sid: str, family_id: int) -> None:
    """Put a subscribed socket in the rooms of the conversations its user is in."""
    actor = current_actor()
    ids = db.session.scalars(
        select(Participant.conversation_id)
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(
            Conversation.family_id == family_id,
            Participant.user_id == current_user.id,
            Participant.removed_at.is_(None),
        )
    )
    for conversation_id in ids:
        conversation = db.session.get(Conversation, conversation_id)
        if conversation is not None and decide(actor, "message.view", conversation).allowed:
            socketio.server.enter_room(sid, conversation_room(conversation_id), namespace=NAMESPACE)


def on_message_send(data: Any) -> dict[str, Any]:
    conversation, error = _conversation(data, "message.send")
    if conversation is None:
        return {"ok": False, "error": error}
    body = data.get("body", "")
    key = data.get("client_key")
    reply = data.get("reply_to_seq")
    attachments = data.get("attachments", [])
    if not isinstance(body, str) or not isinstance(key, str):
        return {"ok": False, "error": "bad_request"}
    if reply is not None and (not isinstance(reply, int) or isinstance(reply, bool)):
        return {"ok": False, "error": "bad_request"}
    if not isinstance(attachments, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) and 0 < a < 2**62 for a in attachments
    ):
        return {"ok": False, "error": "bad_request"}
    if len(body) > MAX_FRAME_BODY:
        return {"ok": False, "error": "too_long"}
    wait = send_limit.take(current_user.id)
    if wait:
        db.rollback()
        return {"ok": False, "error": "rate_limited", "retry_after": round(wait, 1)}
    try:
        sent = services.send(conversation, current_user, body, key, reply, attachments)
    except services.MessagingError as exc:
        db.rollback()
        return {"ok": False, "error": exc.code}
    record_decision(
        current_actor(),
        "message.send",
        conversation.family_id,
        "message",
        sent.message.id,
        decision=decide(current_actor(), "message.send", conversation),
    )
    if not sent.duplicate:
        emit_after_commit(
            "message.new", new_event(conversation, sent), conversation_room(conversation.id)
        )
    db.commit()
    return {"ok": True, "seq": sent.message.seq, "id": sent.message.id, "duplicate": sent.duplicate}


def on_typing(data: Any) -> dict[str, Any]:
    conversation, error = _conversation(data, "message.send")
    if conversation is None:
        return {"ok": False, "error": error}
    socketio.emit(
        "typing",
        {
            "family_id": conversation.family_id,
            "type": "typing",
            "conversation_id": conversation.id,
            "user_id": current_user.id,
            "name": current_user.display_name,
        },
        to=conversation_room(conversation.id),
        namespace=NAMESPACE,
        skip_sid=request.sid,  # type: ignore[attr-defined]
    )
    db.rollback()
    return {"ok": True}


def on_read(data: Any) -> dict[str, Any]:
    conversation, error = _conversation(data, "message.view")
    if conversation is None:
        return {"ok": False, "error": error}
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        return {"ok": False, "error": "bad_request"}
    mine = services.mark_read(conversation, current_user, seq)
    announce_read(conversation, mine)
    db.commit()
    return {"ok": True, "seq": mine.last_read_seq}
