"""Conversations and messages over the API; the same services the socket events use."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access import authorize, load_family, recorded_if_refused
from portal.api import bp
from portal.api.common import (
    api_login_required,
    fail,
    field_error,
    json_body,
    no_content,
    ok,
    page,
    page_args,
)
from portal.api.serialize import conversation_json
from portal.auth.models import User
from portal.core.args import MAX_ID
from portal.messaging import services
from portal.messaging.access import load_conversation
from portal.messaging.length import body_length, too_long_text
from portal.messaging.limits import send_limit
from portal.messaging.live import (
    announce_read,
    announce_unread,
    change_event,
    emit_to_readers,
    new_event,
    participants_changed,
    topic_changed,
)
from portal.messaging.models import MAX_BODY, Conversation, Message, Participant
from portal.messaging.present import messages_json


def messaging_error_text(code: str) -> str:
    return {
        "topic_required": _("Geef het gesprek een onderwerp."),
        "not_eligible": _("Je kunt alleen gezinsleden en gasten met toegang tot berichten kiezen."),
        "nobody_else": _("Kies minstens één andere persoon."),
        "bad_client_key": _("client_key moet 8 tot 64 letters, cijfers of -_.: zijn."),
        "empty": _("Een leeg bericht kan niet."),
        "too_long": _("Dit bericht is te lang (hoogstens 10.000 tekens)."),
        "unknown_reply": _("Het bericht waarop je reageert bestaat niet."),
        "not_a_participant": _("Je doet niet mee in dit gesprek."),
        "too_late": _("Veranderen of verwijderen kan tot 15 minuten na het versturen."),
        "deleted": _("Dit bericht is al verwijderd."),
        "unknown_file": _(
            "Een van de bijlagen bestaat niet of is al verstuurd. Voeg het bestand opnieuw toe."
        ),
        "too_many": _("Je kunt hoogstens 5 bestanden tegelijk sturen."),
        "already_in": _("Deze persoon doet al mee in dit gesprek."),
        "last_participant": _("Er moet iemand in het gesprek blijven."),
        "query_too_short": _("Zoek op minstens 2 tekens."),
    }.get(code, _("Dit kon niet. Controleer wat je invulde."))


def people_of(conversation: Conversation) -> list[tuple[User, int | None]]:
    return people_by_conversation([conversation.id]).get(conversation.id, [])


def people_by_conversation(ids: list[int]) -> dict[int, list[tuple[User, int | None]]]:
    """Participants (and how far each read, unless they keep that to themselves) of several
    conversations, in one query."""
    result: dict[int, list[tuple[User, int | None]]] = {}
    if not ids:
        return result
    rows = db.session.execute(
        select(Participant, User)
        .join(Participant, Participant.user_id == User.id)
        .where(Participant.conversation_id.in_(ids), Participant.removed_at.is_(None))
        .order_by(User.display_name)
    ).all()
    for row, user in rows:
        # Someone who switched off read receipts shows no reading position to others.
        read = row.last_read_seq if services.shows_receipts(user, row) else None
        if user.id == current_user.id:
            read = row.last_read_seq
        result.setdefault(row.conversation_id, []).append((user, read))
    return result


def _unread(conversation: Conversation) -> int:
    mine = services.participant(conversation, current_user.id)
    return max(0, conversation.last_seq - (mine.last_read_seq if mine else 0))


def _int_list(value: Any, field: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise field_error(field, _("Stuur een lijst met nummers."))
    return value


@bp.get("/families/<int:fid>/conversations")
@api_login_required
def list_conversations(fid: int) -> Any:
    family = load_family(fid, "conversation.list")
    limit, cursor = page_args()
    offset = cursor or 0  # ordered by latest activity, so the cursor is a position
    rows = services.my_conversations(family, current_user, limit + 1, offset)
    items = rows[:limit]
    next_cursor = str(offset + limit) if len(rows) > limit else None
    people = people_by_conversation([c.id for c, _unread in items])
    return ok(
        {
            "items": [conversation_json(c, unread, people.get(c.id, [])) for c, unread in items],
            "next_cursor": next_cursor,
        }
    )


@bp.post("/families/<int:fid>/conversations")
@api_login_required
def create_conversation(fid: int) -> Any:
    family = load_family(fid, "conversation.create", record=False)
    with recorded_if_refused("family.view", family):
        payload = json_body()
        unknown = set(payload) - {"topic", "participants"}
        if unknown:
            raise field_error(sorted(unknown)[0], _("Dit veld bestaat niet."))
        topic = payload.get("topic")
        if not isinstance(topic, str):
            raise field_error("topic", messaging_error_text("topic_required"))
        people = _int_list(payload.get("participants"), "participants")
        try:
            conversation = services.start(family, current_user, topic, people)
        except services.MessagingError as exc:
            raise field_error(exc.field, messaging_error_text(exc.code)) from None
    authorize("conversation.create", conversation)
    return ok(conversation_json(conversation, 0, people_of(conversation)), 201)


@bp.get("/families/<int:fid>/conversations/<int:cid>")
@api_login_required
def get_conversation(fid: int, cid: int) -> Any:
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "message.view")
    return ok(conversation_json(conversation, _unread(conversation), people_of(conversation)))


@bp.patch("/families/<int:fid>/conversations/<int:cid>")
@api_login_required
def rename_conversation(fid: int, cid: int) -> Any:
    """A new topic: the family's members who may add people, from inside."""
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "conversation.rename", record=False)
    with recorded_if_refused("message.view", conversation):
        payload = json_body()
        if set(payload) - {"topic"}:
            raise field_error(sorted(set(payload) - {"topic"})[0], _("Dit veld bestaat niet."))
        topic = payload.get("topic")
        if not isinstance(topic, str):
            raise field_error("topic", messaging_error_text("topic_required"))
        try:
            changed = services.rename(conversation, topic)
        except services.MessagingError as exc:
            raise field_error(exc.field, messaging_error_text(exc.code)) from None
    authorize("conversation.rename", conversation)
    if changed:
        topic_changed(conversation)
    return ok(conversation_json(conversation, _unread(conversation), people_of(conversation)))


@bp.get("/families/<int:fid>/conversations/<int:cid>/messages")
@api_login_required
def list_messages(fid: int, cid: int) -> Any:
    """Everything after ?after= (the last sequence number a client has), oldest first."""
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "message.view")
    try:
        after = int(request.args.get("after", "0"))
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        raise fail(400, _("after en limit moeten hele getallen zijn.")) from None
    if not 0 <= after < MAX_ID or not 1 <= limit <= 200:
        raise fail(400, _("after moet 0 of meer zijn, limit tussen 1 en 200."))
    rows = services.after(conversation, after, limit + 1)
    items, next_cursor = page(rows, limit, key=lambda m: m.seq)
    return ok({"items": messages_json(conversation, items), "next_cursor": next_cursor})


@bp.post("/families/<int:fid>/conversations/<int:cid>/messages")
@api_login_required
def send_message(fid: int, cid: int) -> Any:
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "message.send", record=False)
    with recorded_if_refused("message.view", conversation):
        payload = json_body()
        unknown = set(payload) - {"client_key", "body", "reply_to_seq", "attachments"}
        if unknown:
            raise field_error(sorted(unknown)[0], _("Dit veld bestaat niet."))
        body, key, reply = (payload.get(k) for k in ("body", "client_key", "reply_to_seq"))
        body = "" if body is None else body
        attachments = _int_list(payload.get("attachments", []), "attachments")
        if not isinstance(body, str):
            raise field_error("body", messaging_error_text("empty"))
        if not isinstance(key, str):
            raise field_error("client_key", messaging_error_text("bad_client_key"))
        if reply is not None and (not isinstance(reply, int) or isinstance(reply, bool)):
            raise field_error("reply_to_seq", messaging_error_text("unknown_reply"))
        wait = send_limit.take(current_user.id)
        if wait:
            raise fail(
                429,
                _("Je stuurt te veel berichten tegelijk. Wacht even."),
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        try:
            sent = services.send(conversation, current_user, body, key, reply, attachments)
        except services.MessagingError as exc:
            text = messaging_error_text(exc.code)
            if exc.code == "too_long":
                text = too_long_text(MAX_BODY, body_length(body))
            raise field_error(exc.field, text) from None
    authorize("message.send", conversation)
    event = new_event(conversation, sent)
    if not sent.duplicate:
        emit_to_readers("message.new", event, conversation)
    payload = {k: v for k, v in event.items() if k != "type"}
    return ok(payload, 200 if sent.duplicate else 201)


@bp.post("/families/<int:fid>/conversations/<int:cid>/read")
@api_login_required
def mark_read(fid: int, cid: int) -> Any:
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "message.view")
    payload = json_body()
    seq = payload.get("seq")
    if set(payload) - {"seq"}:
        raise field_error(sorted(set(payload) - {"seq"})[0], _("Dit veld bestaat niet."))
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise field_error("seq", _("seq moet een heel getal zijn."))
    mine = services.mark_read(conversation, current_user, seq)
    announce_read(conversation, mine)
    announce_unread(conversation)
    return ok(
        {
            "conversation_id": conversation.id,
            "seq": mine.last_read_seq,
            "unread": max(0, conversation.last_seq - mine.last_read_seq),
        }
    )


def _change(fid: int, cid: int, seq: int, apply: Any) -> Any:
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "message.send", record=False)
    message = services.by_seq(conversation, seq)
    if message is None:
        authorize("message.view", conversation)
        raise fail(404)
    authorize("message.change", message, record=False)  # their own message, or a 403
    with recorded_if_refused("message.view", conversation):
        try:
            apply(message)
        except services.MessagingError as exc:
            status = 422 if exc.field else 409
            raise field_error(exc.field, messaging_error_text(exc.code), status) from None
    authorize("message.change", message)
    emit_to_readers("message.changed", change_event(message), conversation)
    return ok(messages_json(conversation, [message])[0])


@bp.patch("/families/<int:fid>/conversations/<int:cid>/messages/<int:seq>")
@api_login_required
def edit_message(fid: int, cid: int, seq: int) -> Any:
    def apply(message: Any) -> None:
        payload = json_body()
        if set(payload) - {"body"}:
            raise field_error(sorted(set(payload) - {"body"})[0], _("Dit veld bestaat niet."))
        body = payload.get("body")
        if not isinstance(body, str):
            raise field_error("body", messaging_error_text("empty"))
        services.edit(message, body)

    return _change(fid, cid, seq, apply)


@bp.delete("/families/<int:fid>/conversations/<int:cid>/messages/<int:seq>")
@api_login_required
def delete_message(fid: int, cid: int, seq: int) -> Any:
    return _change(fid, cid, seq, services.delete)


@bp.get("/families/<int:fid>/messages")
@api_login_required
def search_messages(fid: int) -> Any:
    """?q= (2 to 100 characters): messages in my conversations whose text or topic contains it,
    newest first; ?cursor= continues."""
    family = load_family(fid, "conversation.list")
    limit, cursor = page_args()
    try:
        found = services.search(family, current_user, request.args.get("q", ""), limit + 1, cursor)
    except services.MessagingError as exc:
        raise field_error("q", messaging_error_text(exc.code), 400) from None
    items, next_cursor = page(found, limit, key=lambda m: m.id)
    by_conversation: dict[int, list[Message]] = {}
    for message in items:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    found_in = db.session.scalars(
        select(Conversation).where(Conversation.id.in_(list(by_conversation)))
    )  # one query for the page's conversations, not one each
    shown = {}
    for conversation in found_in:
        messages = by_conversation[conversation.id]
        authorize("message.view", conversation)  # the policy sees each conversation found
        for row in messages_json(conversation, messages):
            shown[row["id"]] = row | {"topic": conversation.topic}
    return ok({"items": [shown[m.id] for m in items], "next_cursor": next_cursor})


@bp.post("/families/<int:fid>/conversations/<int:cid>/participants")
@api_login_required
def add_participant(fid: int, cid: int) -> Any:
    family = load_family(fid, "conversation.list", record=False)
    conversation = load_conversation(family, cid, "conversation.manage", record=False)
    with recorded_if_refused("message.view", conversation):
        payload = json_body()
        if set(payload) - {"user_id"}:
            raise field_error(sorted(set(payload) - {"user_id"})[0], _("Dit veld bestaat niet."))
        user_id = payload.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise field_error("user_id", _("user_id moet een heel getal zijn."))
        try:
            services.add_participant(conversation, family, user_id)
        except services.MessagingError as exc:
            status = 409 if exc.code == "already_in" else 422
            raise field_error(exc.field, messaging_error_text(exc.code), status) from None
    authorize("conversation.manage", conversation)
    participants_changed(conversation, user_id)
    return ok(conversation_json(conversation, _unread(conversation), people_of(conversation)))


@bp.delete("/families/<int:fid>/conversations/<int:cid>/participants/<int:uid>")
@api_login_required
def remove_participant(fid: int, cid: int, uid: int) -> Any:
    """Take someone out (the family), or leave yourself (anyone in the conversation)."""
    family = load_family(fid, "conversation.list", record=False)
    action = "conversation.leave" if uid == current_user.id else "conversation.manage"
    conversation = load_conversation(family, cid, action, record=False)
    with recorded_if_refused("message.view", conversation):
        try:
            services.remove_participant(conversation, uid)
        except services.MessagingError as exc:
            status = 404 if exc.code == "not_a_participant" else 409
            raise field_error(exc.field, messaging_error_text(exc.code), status) from None
    authorize(action, conversation)
    participants_changed(conversation, uid)
    if action == "conversation.leave":
        return no_content()  # nothing of it is theirs to see any more
    return ok(conversation_json(conversation, _unread(conversation), people_of(conversation)))
