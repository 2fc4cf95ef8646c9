"""The /live namespace: connect, subscribe, the client's events, and ending what is no longer
allowed (on news of a revocation, a removal or a sign-out, by expiry, or by the sweep)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from flask_socketio import Namespace, join_room, leave_room

from portal import db
from portal.access import repeats
from portal.access.guard import current_actor, record_decision
from portal.access.policy import Actor, decide, grant_state
from portal.auth.models import User
from portal.core import clock
from portal.core.args import MAX_ID
from portal.core.tokens import token_hash
from portal.extensions import socketio
from portal.family.models import Family
from portal.live import endings, presence, sweep
from portal.live.answers import answered, refusal
from portal.live.events import reader_room, room
from portal.live.registry import Connection, registry

NAMESPACE = "/live"
SWEEP_SECONDS = sweep.SWEEP_SECONDS
LIVE_PARTS = {"plan": "plan.view", "dossier": "dossier.view"}
log = logging.getLogger(__name__)


def allowed_parts(actor: Actor, family: Family) -> set[str]:
    return {part for part, action in LIVE_PARTS.items() if decide(actor, action, family).allowed}


# The events a client may send. Anything else (the lifecycle names "connect" and "disconnect",
# a name the portal does not know, a name that is not text) is refused with an answer and
# changes nothing: only python-socketio's own connect and disconnect reach those handlers.
CLIENT_EVENTS = frozenset(
    {"subscribe", "unsubscribe", "presence", "message.send", "typing", "read"}
)


class LiveNamespace(Namespace):
    def trigger_event(self, event: Any, *args: Any) -> Any:
        sid = args[0] if args else None
        if event == "connect" and _real_connect(sid, args):
            return super().trigger_event("connect", *args)
        if event == "disconnect" and _real_disconnect(sid):
            return super().trigger_event("disconnect", *args)
        if isinstance(event, str) and event in CLIENT_EVENTS:
            # The contract's event names have dots ("message.send"); methods use underscores.
            return super().trigger_event(event.replace(".", "_"), *args)
        return super().trigger_event("refused_event", sid)

    def on_connect(self, auth: Any = None) -> None:
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        token = current_user.session_token or ""
        session_hash = token_hash(token)
        registry.add(Connection(request.sid, current_user.id, session_hash))  # type: ignore[attr-defined]
        join_room(f"session:{session_hash}")
        join_room(f"user:{current_user.id}")  # what is this person's alone (unread counts)
        app = _current_app()
        sweep.ensure_running(app, NAMESPACE)
        endings.ensure_listening(app)

    def on_disconnect(self, reason: Any = None) -> None:
        registry.remove(request.sid)  # type: ignore[attr-defined]
        presence.leave(request.sid, NAMESPACE)  # type: ignore[attr-defined]
        # Its counts of repeated refusals are due now; the sweep writes them within a pass.
        repeats.counter.socket_closed(request.sid)  # type: ignore[attr-defined]

    @answered
    def on_refused_event(self) -> dict[str, Any]:
        return refusal("unknown_event")

    @answered
    def on_presence(self, data: Any = None) -> dict[str, Any]:
        """`presence {family_id, page}`: tell the others on that page who is looking."""
        if not current_user.is_authenticated:
            return {"ok": False, "error": "unauthorized"}
        return presence.arrive(
            request.sid,  # type: ignore[attr-defined]
            data,
            current_user.id,
            current_user.display_name,
            NAMESPACE,
        )

    @answered
    def on_subscribe(self, data: Any = None) -> dict[str, Any]:
        """Join a family's rooms after the policy says yes; the reply says what will arrive."""
        raw = data.get("family_id") if isinstance(data, dict) else None
        family_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        if family_id is None or not 0 < family_id < MAX_ID:
            return {"ok": False, "error": "bad_request"}
        if not current_user.is_authenticated:  # the session may have ended since connect
            return {"ok": False, "error": "unauthorized"}
        family = db.session.get(Family, family_id)
        actor = current_actor()
        if family is None:
            record_decision(
                actor,
                "live.subscribe",
                None,
                "family",
                family_id,
                allowed=False,
                reason="not_found",
            )
            db.commit()
            return {"ok": False, "error": "not_found"}
        decision = decide(actor, "family.view", family)
        record_decision(actor, "live.subscribe", family.id, "family", family.id, decision=decision)
        parts = allowed_parts(actor, family) if decision.allowed else set()
        messages = decision.allowed and decide(actor, "conversation.list", family).allowed
        ends_at = access_ends(actor, family.id) if decision.allowed else None
        db.commit()
        if not decision.allowed:
            return {"ok": False, "error": "not_found" if decision.hide else "forbidden"}
        sid: str = request.sid  # type: ignore[attr-defined]
        try:
            session_hash = token_hash(current_user.session_token or "")
            for part in parts:
                join_room(room(family.id, part))
                join_room(reader_room(current_user.id, session_hash, family.id, part))
            if messages:
                from portal.messaging.live import join_messages

                join_messages(sid, session_hash, family.id)
                parts.add("messages")
        except (KeyError, ValueError):
            # The socket went away while this subscribe was being decided (a page left or
            # reloaded): python-socketio says so with KeyError, or ValueError when it was the
            # namespace's last socket. Nothing to join; the client is gone anyway.
            return {"ok": False, "error": "gone"}
        registry.subscribe(sid, family.id, parts)
        if ends_at is not None:
            sweep.expire_later(_current_app(), sid, family.id, ends_at)
        return {"ok": True, "family_id": family.id, "parts": sorted(parts)}

    @answered
    def on_message_send(self, data: Any = None) -> dict[str, Any]:
        from portal.messaging.live import on_message_send

        return on_message_send(data)

    @answered
    def on_typing(self, data: Any = None) -> dict[str, Any]:
        from portal.messaging.live import on_typing

        return on_typing(data)

    @answered
    def on_read(self, data: Any = None) -> dict[str, Any]:
        from portal.messaging.live import on_read

        return on_read(data)

    @answered
    def on_unsubscribe(self, data: Any = None) -> dict[str, Any]:
        family_id = data.get("family_id") if isinstance(data, dict) else None
        if not isinstance(family_id, int) or isinstance(family_id, bool):
            return {"ok": False, "error": "bad_request"}
        connection = registry.get(request.sid)  # type: ignore[attr-defined]
        if connection is not None and family_id in connection.families:
            _leave(connection.sid, connection.user_id, family_id)
        return {"ok": True}


def _real_connect(sid: Any, args: tuple[Any, ...]) -> bool:
    """python-socketio's own connect passes the connection's WSGI environ, the very object it
    keeps for the socket; an event a client sends can only carry JSON."""
    return (
        isinstance(sid, str)
        and len(args) > 1
        and args[1] is socketio.server.get_environ(sid, namespace=NAMESPACE)
    )


def _real_disconnect(sid: Any) -> bool:
    """python-socketio marks a socket as leaving before it calls the disconnect handler; a
    client's own events are handled only while it is connected."""
    return isinstance(sid, str) and not socketio.server.manager.is_connected(sid, NAMESPACE)


def access_ends(actor: Actor, family_id: int) -> datetime | None:
    """When a guest's access to the family ends by itself (the last active grant expires);
    None for a member."""
    if actor.membership(family_id) is not None:
        return None
    now = clock.now()
    active = [g.expires_at for g in actor.grants(family_id) if grant_state(g, now) == "active"]
    return max(active) if active else None


def _leave(sid: str, user_id: int, family_id: int) -> None:
    from portal.messaging.live import person_room

    presence.leave(sid, NAMESPACE)
    connection = registry.get(sid)
    for part in LIVE_PARTS:
        leave_room(room(family_id, part), sid=sid, namespace=NAMESPACE)
        if connection is not None:
            mine = reader_room(user_id, connection.session_hash, family_id, part)
            leave_room(mine, sid=sid, namespace=NAMESPACE)
    if connection is not None:
        room_name = person_room(user_id, connection.session_hash, family_id)
        leave_room(room_name, sid=sid, namespace=NAMESPACE)
    registry.unsubscribe(sid, family_id)


def end(sid: str, family_id: int | None, reason: str) -> None:
    """Tell the client why, stop its events, and disconnect it."""
    socketio.emit(
        "access.revoked",
        {
            "family_id": family_id,
            "type": "access.revoked",
            "reason": reason,
            "at": clock.now().isoformat(),
        },
        to=sid,
        namespace=NAMESPACE,
    )
    connection = registry.get(sid)
    if connection is not None:
        for fid in list(connection.families):
            _leave(sid, connection.user_id, fid)
    socketio.server.disconnect(sid, namespace=NAMESPACE)


def _current_app() -> Flask:
    from flask import current_app

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


@dataclass(frozen=True)
class Verdict:
    """What the policy says now about someone's subscription to a family."""

    view: bool  # the family may be seen at all
    parts: frozenset[str]  # the live parts it may follow (plan, dossier)
    messages: bool  # its conversations may be listed


def verdict(actor: Actor | None, family: Family | None) -> Verdict:
    if actor is None or family is None or not decide(actor, "family.view", family).allowed:
        return Verdict(False, frozenset(), False)
    return Verdict(
        True,
        frozenset(allowed_parts(actor, family)),
        decide(actor, "conversation.list", family).allowed,
    )


def apply(connection: Connection, family_id: int, now: Verdict) -> bool:
    """Close the socket when the family may no longer be seen (or its messages, which it
    followed); leave the parts no longer shared. Returns whether the socket stays open."""
    had = connection.families.get(family_id, set())
    if not now.view or ("messages" in had and not now.messages):
        end(connection.sid, family_id, "access_ended")
        return False
    lost = (had & set(LIVE_PARTS)) - now.parts
    for part in lost:
        leave_room(room(family_id, part), sid=connection.sid, namespace=NAMESPACE)
        mine = reader_room(connection.user_id, connection.session_hash, family_id, part)
        leave_room(mine, sid=connection.sid, namespace=NAMESPACE)
        if part in presence.PAGES:
            presence.leave(connection.sid, NAMESPACE)
    if lost:
        registry.subscribe(connection.sid, family_id, set(had) - lost)
    return True


def recheck(
    connection: Connection, family_id: int, actor: Actor | None, family: Family | None
) -> bool:
    return apply(connection, family_id, verdict(actor, family))


def recheck_socket(connection: Connection, family_id: int) -> bool:
    user = db.session.get(User, connection.user_id)
    return recheck(
        connection,
        family_id,
        Actor(user=user) if user is not None else None,
        db.session.get(Family, family_id),
    )


def _access_ended(user_id: int, family_id: int) -> None:
    """News of an ended grant or membership: this person's local sockets re-check at once."""
    for connection in registry.snapshot():
        if connection.user_id == user_id and family_id in connection.families:
            recheck_socket(connection, family_id)
    db.session.rollback()  # end the read here; the caller may still have work to do


def _session_ended(session_hash: str) -> None:
    for connection in registry.snapshot():
        if connection.session_hash == session_hash:
            end(connection.sid, None, "signed_out")


def recheck_now(user_id: int, family_id: int) -> None:
    """After a revocation or removal commits: this person's sockets re-check on every instance."""
    endings.access_ended(user_id, family_id)


def end_session_now(token: str | None) -> None:
    """After a sign-out commits: the sockets of that sign-in close on every instance."""
    endings.session_ended(token)


class _SocketAwareSessions(SecureCookieSessionInterface):
    """Flask opens the session cookie (signature check, JSON) for every request context, and
    Flask-SocketIO pushes one per socket event, then swaps in the copy of the session it keeps
    for that socket ("saved_session", made at connect from the cookie). For those events the
    cookie was read once already: skip the second reading."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "saved_session" in request.environ:
            return self.session_class()  # replaced by the socket's own copy right after
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = _SocketAwareSessions()
    endings.configure(app.config["PORTAL_SETTINGS"].redis_url, _access_ended, _session_ended)
    socketio.on_namespace(LiveNamespace(NAMESPACE))
