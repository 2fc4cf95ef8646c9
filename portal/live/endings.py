"""Ending access is an event: after the commit that revokes a grant, removes a member or ends a
session, the instance that made it says so on the message queue, and every instance closes its
affected sockets at once.

With PORTAL_REDIS_URL the news goes out on a Redis channel that every instance listens to; the
instance that made the change acts on it itself without waiting for the round trip. Without
Redis there is one instance, and it acts directly. A message lost on the way (Redis restarted)
is caught by the sweep (portal/live/sweep.py), which re-checks every subscription."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask

from portal import db
from portal.core import shared
from portal.core.tokens import token_hash
from portal.extensions import socketio

CHANNEL = "portal:live:endings"
INSTANCE = uuid.uuid4().hex  # this process: it skips its own news when the channel echoes it
log = logging.getLogger(__name__)

_url = ""
_listening = threading.Lock()
_listener_started = False
# What an ending means on this instance (set by portal/live/namespace.py, which owns the sockets).
_on_access_ended: Callable[[int, int], None] | None = None
_on_session_ended: Callable[[str], None] | None = None


def configure(
    redis_url: str,
    on_access_ended: Callable[[int, int], None],
    on_session_ended: Callable[[str], None],
) -> None:
    global _url, _on_access_ended, _on_session_ended
    _url = redis_url
    _on_access_ended = on_access_ended
    _on_session_ended = on_session_ended


def access_ended(user_id: int, family_id: int) -> None:
    """After this transaction commits: this person's sockets re-check their access to the family
    on every instance (a grant revoked, a membership ended)."""
    db.after_commit(
        lambda: _publish({"kind": "access", "user_id": user_id, "family_id": family_id})
    )


def session_ended(token: str | None) -> None:
    """After this transaction commits: the sockets of this sign-in close on every instance."""
    if not token:
        return
    news = {"kind": "session", "session_hash": token_hash(token)}
    db.after_commit(lambda: _publish(news))


def _publish(news: dict[str, Any]) -> None:
    with db.reading():  # the change is committed; acting on it only reads
        _apply(news)  # this instance at once
    if not _url:
        return
    try:
        store = shared.client(_url)
        assert store is not None
        store.publish(CHANNEL, json.dumps({**news, "from": INSTANCE}))
    except redis.RedisError as exc:
        # The change is committed; the others' sweeps find it within a pass.
        log.warning("could not publish the end of access: %s", exc)


def _apply(news: dict[str, Any]) -> None:
    if news.get("kind") == "access" and _on_access_ended is not None:
        user_id, family_id = news.get("user_id"), news.get("family_id")
        if isinstance(user_id, int) and isinstance(family_id, int):
            _on_access_ended(user_id, family_id)
    elif news.get("kind") == "session" and _on_session_ended is not None:
        session_hash = news.get("session_hash")
        if isinstance(session_hash, str):
            _on_session_ended(session_hash)


def ensure_listening(app: Flask) -> None:
    """Listen to the other instances' news (once per process, from its first socket on)."""
    global _listener_started
    if not _url:
        return
    with _listening:
        if _listener_started:
            return
        _listener_started = True
    socketio.start_background_task(_listen_forever, app, _url)


def _listen_forever(app: Flask, url: str) -> None:
    while True:
        try:
            store = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
            channel = store.pubsub(ignore_subscribe_messages=True)
            channel.subscribe(CHANNEL)
            while True:
                message = channel.get_message(timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                try:
                    _receive(app, message["data"])
                except Exception:  # one bad re-check must not stop the listening
                    log.exception("live endings: acting on news failed")
        except redis.RedisError as exc:  # Redis went away: listen again; the sweep covers the gap
            log.warning("live endings: listening to Redis failed: %s", exc)
            socketio.sleep(1)


def _receive(app: Flask, data: bytes) -> None:
    try:
        news = json.loads(data)
    except ValueError:
        return
    if not isinstance(news, dict) or news.get("from") == INSTANCE:
        return
    try:
        with app.app_context(), db.reading():  # re-checks read; see portal/live/sweep.py
            _apply(news)
    finally:
        db.session.remove()
