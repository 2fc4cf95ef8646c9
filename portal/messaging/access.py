"""Loading a conversation through the policy: another family's, or one you are not in, is a 404."""

from __future__ import annotations

from portal.access.guard import load_in_family
from portal.family.models import Family
from portal.messaging.models import Conversation


def load_conversation(
    family: Family, conversation_id: int, action: str, *, record: bool = True
) -> Conversation:
    return load_in_family(Conversation, family, conversation_id, action, record=record)
