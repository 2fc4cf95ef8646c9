"""Messages as JSON for pages' scripts, the API and socket events, with their attachments and
the message each one replies to (two queries for a whole page)."""

from __future__ import annotations

from typing import Any

from portal.api.serialize import message_json
from portal.files import services as files
from portal.messaging import services
from portal.messaging.models import Conversation, Message


def messages_json(conversation: Conversation, messages: list[Message]) -> list[dict[str, Any]]:
    attachments = files.by_message(m.id for m in messages)
    quotes = services.quoted(conversation, (m.reply_to_seq or 0 for m in messages))
    return [
        message_json(m, attachments.get(m.id, ()), quotes.get(m.reply_to_seq or 0))
        for m in messages
    ]
