"""Loading a file through the policy. A file is as visible as the place it belongs to: a
message's attachment as its conversation (participants only), a dossier attachment as its entry
(with the entry's visibility), an upload not yet attached only to the person who uploaded it.
Another family's file, or one you may not see, is an audited 404."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.access.guard import current_actor, enforce, not_found
from portal.access.policy import Decision, decide
from portal.dossier.models import DossierEntry
from portal.family.models import Family
from portal.files.models import FilePreview, StoredFile
from portal.files.previews import preview_of
from portal.messaging.models import Conversation


def load_file(family: Family, file_id: int, action: str) -> StoredFile:
    """The file, if the current actor may see it; `action` names the look in the log (the
    download itself, or its preview)."""
    stored = db.session.scalar(
        select(StoredFile).where(StoredFile.id == file_id, StoredFile.family_id == family.id)
    )
    if stored is None:
        not_found(action, "file", file_id, family.id)
        raise AssertionError("unreachable")
    actor = current_actor()
    mine = actor.user is not None and stored.uploaded_by_id == actor.user.id
    entry = (
        db.session.get(DossierEntry, stored.dossier_entry_id) if stored.dossier_entry_id else None
    )
    if entry is not None:
        decision = decide(actor, "dossier.view", entry)
    elif stored.conversation_id is not None:
        conversation = db.session.get(Conversation, stored.conversation_id)
        assert conversation is not None  # the foreign key cascades
        decision = decide(actor, "message.view", conversation)
        if decision.allowed and stored.message_id is None and not mine:
            decision = Decision(False, decision.basis, decision.role, "not_attached")
    else:
        # Uploaded for the dossier and not attached yet: the uploader's alone.
        decision = decide(actor, "dossier.edit", family)
        if decision.allowed and not mine:
            decision = Decision(False, decision.basis, decision.role, "not_attached")
    enforce(action, decision, family_id=family.id, object_type="file", object_id=stored.id)
    return stored


def load_preview(family: Family, file_id: int) -> FilePreview | None:
    """A photo's preview, if the current actor may see the file (None: the file has none)."""
    return preview_of(load_file(family, file_id, "file.preview"))
