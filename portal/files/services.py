"""Storing files and attaching them to messages. Services flush, never commit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from portal import db
from portal.auth.models import User
from portal.core import clock
from portal.core.sanitize import plain_text
from portal.family import changes
from portal.files import previews
from portal.files.checks import OLE, FileRefused, check, extension_of
from portal.files.models import MAX_NAME, MAX_PER_MESSAGE, FileContent, StoredFile
from portal.messaging.models import Conversation, Message

_OLE_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}


def max_upload_bytes() -> int:
    limit: int = current_app.config["PORTAL_SETTINGS"].max_upload_bytes
    return limit


def clean_name(raw: str) -> str:
    """The file's own name without any folder, control characters or surplus length; the
    extension survives shortening."""
    name = plain_text((raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = name.lstrip(".") or ""
    if len(name) > MAX_NAME:
        ext = extension_of(name)
        keep = MAX_NAME - len(ext) - 1
        name = f"{name[:keep]}.{ext}" if ext and keep > 0 else name[:MAX_NAME]
    return name


def store(conversation: Conversation, by: User, raw_name: str, data: bytes) -> StoredFile:
    """Check and keep an upload meant for `conversation`; private to `by` until attached."""
    return store_for(conversation.family_id, by, raw_name, data, conversation_id=conversation.id)


def store_for(
    family_id: int, by: User, raw_name: str, data: bytes, *, conversation_id: int | None
) -> StoredFile:
    """Check and keep an upload in a family's space (for a conversation, or for the dossier when
    conversation_id is None); private to `by` until attached."""
    name = clean_name(raw_name)
    if not name:
        raise FileRefused("no_name")
    kind = check(name, data, max_upload_bytes())
    content_type = _OLE_TYPES[extension_of(name)] if kind is OLE else kind.content_type
    stored = StoredFile(
        family_id=family_id,
        uploaded_by_id=by.id,
        uploader_name=by.display_name,
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        conversation_id=conversation_id,
    )
    db.session.add(stored)
    db.session.flush()
    db.session.add(FileContent(file_id=stored.id, data=data))
    db.session.flush()
    previews.make(stored, data)
    return stored


def pending_for(conversation: Conversation, by: User, file_ids: Iterable[int]) -> list[StoredFile]:
    """The uploads `by` made for this conversation that are not attached yet, in the given
    order; any other id is refused as a whole (nothing is attached half)."""
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return []
    if len(ids) > MAX_PER_MESSAGE:
        raise FileRefused("too_many", limit=MAX_PER_MESSAGE)
    found = {
        f.id: f
        for f in db.session.scalars(
            select(StoredFile).where(
                StoredFile.id.in_(ids),
                StoredFile.conversation_id == conversation.id,
                StoredFile.uploaded_by_id == by.id,
                StoredFile.message_id.is_(None),
            )
        )
    }
    if set(found) != set(ids):
        raise FileRefused("unknown_file")
    return [found[i] for i in ids]


def attach(files: list[StoredFile], message: Message) -> None:
    if not files:
        return  # the common case: no flush on the hot send path
    for stored in files:
        stored.message_id = message.id
    db.session.flush()


def _grouped(column: Any, ids: Iterable[int]) -> dict[int, list[StoredFile]]:
    """Files attached to several owners (messages or dossier entries), in one query."""
    wanted = list(ids)
    result: dict[int, list[StoredFile]] = {}
    if not wanted:
        return result
    for stored in db.session.scalars(
        select(StoredFile).where(column.in_(wanted)).order_by(StoredFile.id)
    ):
        owner = getattr(stored, column.key)
        if owner is not None:
            result.setdefault(owner, []).append(stored)
    return result


def by_message(message_ids: Iterable[int]) -> dict[int, list[StoredFile]]:
    return _grouped(StoredFile.message_id, message_ids)


def by_dossier_entry(entry_ids: Iterable[int]) -> dict[int, list[StoredFile]]:
    return _grouped(StoredFile.dossier_entry_id, entry_ids)


def content_of(stored: StoredFile) -> bytes:
    row = db.session.get(FileContent, stored.id)
    return row.data if row is not None else b""


UNATTACHED_KEPT = timedelta(hours=24)


def purge_unattached(kept: timedelta = UNATTACHED_KEPT) -> int:
    """Remove uploads that were never sent or attached within `kept` (a tab closed before
    sending): nobody but their uploader ever saw them, and data nobody uses is not kept.
    One log row per family says how many went, so the family's log shows it too."""
    from portal.access import audit

    cutoff = clock.now() - kept
    stale = db.session.execute(
        select(StoredFile.id, StoredFile.family_id).where(
            StoredFile.message_id.is_(None),
            StoredFile.dossier_entry_id.is_(None),
            StoredFile.created_at < cutoff,
        )
    ).all()
    if not stale:
        return 0
    ids = [row.id for row in stale]
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        db.session.execute(delete(FileContent).where(FileContent.file_id.in_(part)))
        db.session.execute(delete(StoredFile).where(StoredFile.id.in_(part)))
    per_family: dict[int, int] = {}
    for row in stale:
        per_family[row.family_id] = per_family.get(row.family_id, 0) + 1
    for family_id in per_family:
        changes.note(db.session(), family_id)
    for family_id, count in sorted(per_family.items()):
        audit.write(
            family_id=family_id,
            actor_user_id=None,
            actor_name="Gezinsportaal",
            actor_role="system",
            organisation=None,
            basis="retention",
            action="file.purge",
            object_type="file",
            object_id=str(count),
            outcome="allowed",
            reason="never_attached",
            client_address=None,
        )
    return len(ids)
