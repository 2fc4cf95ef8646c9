"""Who is looking at the plan right now ("Sanne en coach Marieke kijken nu mee").

A socket says `presence {family_id, page}` after it subscribed; the family's plan room hears
the list of names whenever it changes (someone arrives, leaves, or disconnects).

One instance keeps the list in memory. Several instances (PORTAL_REDIS_URL) keep it in a Redis
hash per family and page, one field per socket, named after the instance holding the socket;
each instance says it is alive every sweep (a key that expires). The fields of an instance that
stopped saying so (killed, not shut down) are dropped when a list is read, and every few seconds
each instance looks at the pages its own sockets are on, so the people there hear that someone
on the stopped instance left."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import redis

from portal.core import clock, shared
from portal.extensions import socketio
from portal.live.events import room
from portal.live.registry import registry

PAGES = frozenset({"plan"})
INSTANCE = uuid.uuid4().hex[:16]  # this process, in the shared fields' names
ALIVE_MS = 5_000  # an instance that has not said it is alive for this long is gone
KEEP_MS = 86_400_000  # a family's hash outlives its last socket by a day at most
CHECK_EVERY = 10  # sweeps (5 s) between looks for people of stopped instances

log = logging.getLogger(__name__)
_lock = threading.Lock()
# This instance's sockets: sid -> (family, page, user id, name).
_present: dict[str, tuple[int, str, int, str]] = {}
_shared: redis.Redis | None = None
_beats = 0


def configure(redis_url: str) -> None:
    global _shared
    _shared = shared.client(redis_url)


def _key(family_id: int, page: str) -> str:
    return f"portal:presence:{family_id}:{page}"


def _alive_key(instance: str) -> str:
    return f"portal:instance:{instance}"


def heartbeat(namespace: str) -> None:
    """Say this instance is alive, while it has someone present (called every sweep); every
    CHECK_EVERY sweeps, drop the people of stopped instances from the pages this instance's
    sockets are on, and tell those pages."""
    global _beats
    if _shared is None or not _present:
        return
    try:
        _shared.set(_alive_key(INSTANCE), "1", px=ALIVE_MS)
        _beats += 1
        if _beats % CHECK_EVERY:
            return
        with _lock:
            pages = {(family_id, page) for family_id, page, _, _ in _present.values()}
        for family_id, page in sorted(pages):
            _people, dropped = _shared_people(_shared, family_id, page)
            if dropped:
                _announce(family_id, page, namespace)
    except Exception:  # a failed look must not stop the sweeper that calls this
        log.warning("presence heartbeat failed", exc_info=True)


def _shared_people(
    store: redis.Redis, family_id: int, page: str
) -> tuple[list[tuple[int, str]], int]:
    """Everyone on the page on a live instance, and how many stopped instances' fields went."""
    key = _key(family_id, page)
    fields: dict[bytes, bytes] = store.hgetall(key)  # type: ignore[assignment]
    by_instance: dict[str, list[tuple[bytes, bytes]]] = {}
    for field, value in fields.items():
        instance = field.decode(errors="replace").split(":", 1)[0]
        by_instance.setdefault(instance, []).append((field, value))
    instances = list(by_instance)
    alive = store.mget([_alive_key(i) for i in instances]) if instances else []
    people: list[tuple[int, str]] = []
    gone: list[bytes] = []
    for instance, flag in zip(instances, alive, strict=True):
        if flag is None:
            gone.extend(field for field, _ in by_instance[instance])
            continue
        for field, value in by_instance[instance]:
            try:
                user_id, name = json.loads(value)
                people.append((int(user_id), str(name)))
            except (ValueError, TypeError):
                gone.append(field)  # not something this code wrote: dropped, not shown
    if gone:
        store.hdel(key, *gone)
    return people, len(gone)


def _names(family_id: int, page: str) -> list[dict[str, Any]]:
    if _shared is not None:
        people, _dropped = _shared_people(_shared, family_id, page)
    else:
        with _lock:
            people = [
                (user_id, name)
                for fid, where, user_id, name in _present.values()
                if fid == family_id and where == page
            ]
    seen: dict[int, str] = {}
    for user_id, name in people:
        seen.setdefault(user_id, name)
    return [{"user_id": uid, "name": name} for uid, name in sorted(seen.items())]


def _announce(family_id: int, page: str, namespace: str) -> list[dict[str, Any]]:
    """Tell the page's room who is there now; returns that list."""
    people = _names(family_id, page)
    socketio.emit(
        "presence",
        {
            "family_id": family_id,
            "type": "presence",
            "page": page,
            "people": people,
            "at": clock.now().isoformat(),
        },
        to=room(family_id, page),
        namespace=namespace,
    )
    return people


def arrive(sid: str, data: Any, user_id: int, name: str, namespace: str) -> dict[str, Any]:
    family_id = data.get("family_id") if isinstance(data, dict) else None
    page = data.get("page") if isinstance(data, dict) else None
    if (
        not isinstance(family_id, int)
        or isinstance(family_id, bool)
        or not isinstance(page, str)
        or page not in PAGES
    ):
        return {"ok": False, "error": "bad_request"}
    connection = registry.get(sid)
    # Only a socket the policy already let into that part of the family (at subscribe).
    if connection is None or page not in connection.families.get(family_id, set()):
        return {"ok": False, "error": "not_subscribed"}
    with _lock:
        _present[sid] = (family_id, page, user_id, name)
    try:
        if _shared is not None:
            key = _key(family_id, page)
            with _shared.pipeline() as pipe:
                pipe.set(_alive_key(INSTANCE), "1", px=ALIVE_MS)
                pipe.hset(key, f"{INSTANCE}:{sid}", json.dumps([user_id, name]))
                pipe.pexpire(key, KEEP_MS)
                pipe.execute()
        return {"ok": True, "people": _announce(family_id, page, namespace)}
    except redis.RedisError:
        log.warning("presence could not be shared", exc_info=True)
        return {"ok": False, "error": "unavailable"}


def leave(sid: str, namespace: str) -> None:
    with _lock:
        was = _present.pop(sid, None)
    if was is None:
        return
    try:
        if _shared is not None:
            _shared.hdel(_key(was[0], was[1]), f"{INSTANCE}:{sid}")
        _announce(was[0], was[1], namespace)
    except redis.RedisError:
        log.warning("presence could not be shared", exc_info=True)
