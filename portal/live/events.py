"""Server events to subscribers, sent only after the change is committed."""

from __future__ import annotations

from typing import Any

from portal import db
from portal.core import clock


def room(family_id: int, part: str) -> str:
    """Everyone looking at a part of the family (who is there: presence)."""
    return f"family:{family_id}:{part}"


def reader_room(user_id: int, session_hash: str, family_id: int, part: str) -> str:
    """One sign-in's sockets subscribed to a part of a family (joined after the policy said so).
    The family's events go to the rooms of the sign-ins allowed to see them right then."""
    return f"person:{user_id}:{session_hash}:family:{family_id}:{part}"


def notify(
    family_id: int,
    part: str,
    event: str,
    object_id: int,
    version: int,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue `event` for everyone subscribed to this part of the family who may see it, as the
    policy decides now, in the caller's transaction; sent after commit."""
    from portal.access.audience import family_readers
    from portal.extensions import socketio
    from portal.family.models import Family
    from portal.live.namespace import LIVE_PARTS, NAMESPACE

    payload = {
        "family_id": family_id,
        "type": event,
        "id": object_id,
        "version": version,
        "at": clock.now().isoformat(),
        **(data or {}),
    }

    family = db.session.get(Family, family_id)
    readers = family_readers(family, LIVE_PARTS[part]) if family is not None else []
    rooms = [reader_room(user_id, session, family_id, part) for user_id, session in readers]

    def send() -> None:
        if rooms:
            socketio.emit(event, payload, to=rooms, namespace=NAMESPACE)

    db.after_commit(send)
