"""Server events to subscribers, sent only after the change is committed."""

from __future__ import annotations

from typing import Any

from portal import db
from portal.core import clock


def room(family_id: int, part: str) -> str:
    return f"family:{family_id}:{part}"


def notify(
    family_id: int,
    part: str,
    event: str,
    object_id: int,
    version: int,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue `event` for everyone subscribed to this part of the family; sent after commit."""
    from portal.extensions import socketio
    from portal.live.namespace import NAMESPACE

    payload = {
        "family_id": family_id,
        "type": event,
        "id": object_id,
        "version": version,
        "at": clock.now().isoformat(),
        **(data or {}),
    }

    def send() -> None:
        socketio.emit(event, payload, to=room(family_id, part), namespace=NAMESPACE)

    db.after_commit(send)
