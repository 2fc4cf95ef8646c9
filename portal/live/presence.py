"""Who is looking at the plan right now ("Sanne en coach Marieke kijken nu mee").

A socket says `presence {family_id, page}` after it subscribed; the family's plan room hears
the list of names whenever it changes (someone arrives, leaves, or disconnects). Kept in this
instance's memory: with several instances each one reports its own sockets (see README)."""

from __future__ import annotations

import threading
from typing import Any

from portal.core import clock
from portal.extensions import socketio
from portal.live.events import room
from portal.live.registry import registry

PAGES = frozenset({"plan"})
_lock = threading.Lock()
_present: dict[str, tuple[int, str, int, str]] = {}  # sid -> (family, page, user id, name)


def _names(family_id: int, page: str) -> list[dict[str, Any]]:
    with _lock:
        seen: dict[int, str] = {}
        for fid, where, user_id, name in _present.values():
            if fid == family_id and where == page:
                seen.setdefault(user_id, name)
    return [{"user_id": uid, "name": name} for uid, name in sorted(seen.items())]


def _announce(family_id: int, page: str, namespace: str) -> None:
    socketio.emit(
        "presence",
        {
            "family_id": family_id,
            "type": "presence",
            "page": page,
            "people": _names(family_id, page),
            "at": clock.now().isoformat(),
        },
        to=room(family_id, page),
        namespace=namespace,
    )


def arrive(sid: str, data: Any, user_id: int, name: str, namespace: str) -> dict[str, Any]:
    family_id = data.get("family_id") if isinstance(data, dict) else None
    page = data.get("page") if isinstance(data, dict) else None
    if not isinstance(family_id, int) or isinstance(family_id, bool) or page not in PAGES:
        return {"ok": False, "error": "bad_request"}
    connection = registry.get(sid)
    # Only a socket the policy already let into that part of the family (at subscribe).
    if connection is None or page not in connection.families.get(family_id, set()):
        return {"ok": False, "error": "not_subscribed"}
    with _lock:
        _present[sid] = (family_id, page, user_id, name)
    _announce(family_id, page, namespace)
    return {"ok": True, "people": _names(family_id, page)}


def leave(sid: str, namespace: str) -> None:
    with _lock:
        was = _present.pop(sid, None)
    if was is not None:
        _announce(was[0], was[1], namespace)
