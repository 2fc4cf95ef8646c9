"""Loading a conversation through the policy: another family's, or one you are not in, is a 404."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.access import authorize
from portal.access.guard import not_found
from portal.family.models import Family
from portal.messaging.models import Conversation


def load_conversation(
    family: Family, conversation_id: int, action: str, *, record: bool = True
) -> Conversation:
    conversation = db.session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.family_id == family.id
        )
    )
    if conversation is None:
        not_found(action, "conversation", conversation_id, family.id)
        raise AssertionError("unreachable")
    authorize(action, conversation, record=record)
    return conversation
