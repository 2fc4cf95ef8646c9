"""Loading a file through the policy. A file is as visible as the place it belongs to: an
attachment as its conversation (participants only), an upload not yet attached only to the
person who uploaded it. Another family's file, or one you may not see, is an audited 404."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.access.guard import current_actor, enforce, not_found
from portal.access.policy import Decision, decide
from portal.family.models import Family
from portal.files.models import StoredFile
from portal.messaging.models import Conversation


def load_file(family: Family, file_id: int) -> StoredFile:
    stored = db.session.scalar(
        select(StoredFile).where(StoredFile.id == file_id, StoredFile.family_id == family.id)
    )
    if stored is None:
        not_found("file.download", "file", file_id, family.id)
        raise AssertionError("unreachable")
    actor = current_actor()
    conversation = (
        db.session.get(Conversation, stored.conversation_id) if stored.conversation_id else None
    )
    if conversation is None:
        decision = Decision(False, "none", "none", "no_parent")
    else:
        decision = decide(actor, "message.view", conversation)
        mine = actor.user is not None and stored.uploaded_by_id == actor.user.id
        if decision.allowed and stored.message_id is None and not mine:
            decision = Decision(False, decision.basis, decision.role, "not_attached")
    enforce("file.download", decision, family_id=family.id, object_type="file", object_id=stored.id)
    return stored
