"""The /live namespace: connect, subscribe, and the sweeper that ends what is no longer allowed."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from flask_socketio import Namespace, join_room, leave_room
from sqlalchemy import select

from portal import db
from portal.access.guard import current_actor, record_decision
from portal.access.models import Grant
from portal.access.policy import Actor, decide
from portal.auth.models import User, UserSession
from portal.core import clock
from portal.core.args import MAX_ID
from portal.core.tokens import token_hash
from portal.extensions import socketio
from portal.family.models import Family, Member
from portal.live import presence
from portal.live.events import room
from portal.live.registry import Connection, registry
from portal.messaging.models import Conversation, Participant

NAMESPACE = "/live"
SWEEP_SECONDS = 0.5
LIVE_PARTS = {"plan": "plan.view", "dossier": "dossier.view"}
log = logging.getLogger(__name__)


def allowed_parts(actor: Actor, family: Family) -> set[str]:
    return {part for part, action in LIVE_PARTS.items() if decide(actor, action, family).allowed}


class LiveNamespace(Namespace):
    def trigger_event(self, event: str, *args: Any) -> Any:
        # The contract's event names have dots ("message.send"); methods use underscores.
        return super().trigger_event((event or "").replace(".", "_"), *args)

    def on_connect(self, auth: Any = None) -> None:
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        token = current_user.session_token or ""
        session_hash = token_hash(token)
        registry.add(Connection(request.sid, current_user.id, session_hash))  # type: ignore[attr-defined]
        join_room(f"session:{session_hash}")
        join_room(f"user:{current_user.id}")  # what is this person's alone (unread counts)
        _ensure_sweeper()

    def on_disconnect(self, reason: Any = None) -> None:
        registry.remove(request.sid)  # type: ignore[attr-defined]
        presence.leave(request.sid, NAMESPACE)  # type: ignore[attr-defined]

    def on_presence(self, data: Any) -> dict[str, Any]:
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

    def on_subscribe(self, data: Any) -> dict[str, Any]:
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
        conversations: list[int] | None = None
        if decision.allowed and decide(actor, "conversation.list", family).allowed:
            from portal.messaging.live import conversations_to_join

            conversations = conversations_to_join(family.id)  # read in this same transaction
        db.commit()
        if not decision.allowed:
            return {"ok": False, "error": "not_found" if decision.hide else "forbidden"}
        try:
            for part in parts:
                join_room(room(family.id, part))
            if conversations is not None:
                from portal.messaging.live import join_conversations

                join_conversations(request.sid, conversations)  # type: ignore[attr-defined]
                parts.add("messages")
        except (KeyError, ValueError):
            # The socket went away while this subscribe was being decided (a page left or
            # reloaded): python-socketio says so with KeyError, or ValueError when it was the
            # namespace's last socket. Nothing to join; the client is gone anyway.
            return {"ok": False, "error": "gone"}
        registry.subscribe(request.sid, family.id, parts)  # type: ignore[attr-defined]
        return {"ok": True, "family_id": family.id, "parts": sorted(parts)}

    def on_message_send(self, data: Any) -> dict[str, Any]:
        from portal.messaging.live import on_message_send

        return on_message_send(data)

    def on_typing(self, data: Any) -> dict[str, Any]:
        from portal.messaging.live import on_typing

        return on_typing(data)

    def on_read(self, data: Any) -> dict[str, Any]:
        from portal.messaging.live import on_read

        return on_read(data)

    def on_unsubscribe(self, data: Any) -> dict[str, Any]:
        family_id = data.get("family_id") if isinstance(data, dict) else None
        if isinstance(family_id, int):
            _leave(request.sid, family_id)  # type: ignore[attr-defined]
        return {"ok": True}


def _leave(sid: str, family_id: int) -> None:
    presence.leave(sid, NAMESPACE)
    for part in LIVE_PARTS:
        leave_room(room(family_id, part), sid=sid, namespace=NAMESPACE)
    for name in socketio.server.rooms(sid, namespace=NAMESPACE):
        if name.startswith("conversation:"):
            leave_room(name, sid=sid, namespace=NAMESPACE)
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
            _leave(sid, fid)
    socketio.server.disconnect(sid, namespace=NAMESPACE)


# --- the sweeper --------------------------------------------------------------------------------

_sweeper_started = threading.Lock()
_sweeper_running = False


def _ensure_sweeper() -> None:
    global _sweeper_running
    with _sweeper_started:
        if _sweeper_running:
            return
        _sweeper_running = True
    socketio.start_background_task(_sweep_forever, _current_app())


def _current_app() -> Flask:
    from flask import current_app

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _sweep_forever(app: Flask) -> None:
    last = clock.now()
    while True:
        socketio.sleep(SWEEP_SECONDS)
        presence.heartbeat(NAMESPACE)  # with several instances: this one's people still count
        if not len(registry):
            last = clock.now()
            continue
        try:
            with app.app_context():
                last = sweep(last)
        except Exception:  # a bad sweep must not stop the next one
            log.exception("live sweep failed")
        finally:
            db.session.remove()


def sweep(since: datetime) -> datetime:
    """Re-check every local socket touched by a change since `since`; return the new mark.

    Four small queries a sweep: revoked or expired grants, ended sessions, removed members,
    people added to or removed from a conversation.
    Expiry and future validity need no event: the clock crossing expires_at is the change.
    """
    now = clock.now()
    changed_pairs: set[tuple[int, int]] = set()
    for grant in db.session.scalars(
        select(Grant).where(
            ((Grant.revoked_at > since) & (Grant.revoked_at <= now))
            | ((Grant.expires_at > since) & (Grant.expires_at <= now))
        )
    ):
        if grant.grantee_id:
            changed_pairs.add((grant.grantee_id, grant.family_id))
    for member in db.session.scalars(
        select(Member).where(Member.removed_at > since, Member.removed_at <= now)
    ):
        if member.user_id:
            changed_pairs.add((member.user_id, member.family_id))
    for row in db.session.scalars(
        select(Participant).where(
            ((Participant.removed_at > since) & (Participant.removed_at <= now))
            | ((Participant.added_at > since) & (Participant.added_at <= now))
        )
    ):
        conversation = db.session.get(Conversation, row.conversation_id)
        if conversation is not None:
            refresh_conversation(conversation.id, conversation.family_id, row.user_id)
    ended_sessions = set(
        db.session.scalars(
            select(UserSession.token_hash).where(
                ((UserSession.revoked_at > since) & (UserSession.revoked_at <= now))
                | ((UserSession.expires_at > since) & (UserSession.expires_at <= now))
            )
        )
    )
    if not changed_pairs and not ended_sessions:
        return now  # nothing changed: no need to copy the registry (hundreds of sockets)
    for connection in registry.snapshot():
        if connection.session_hash in ended_sessions:
            end(connection.sid, None, "signed_out")
            continue
        families = [
            fid for fid in connection.families if (connection.user_id, fid) in changed_pairs
        ]
        if families:
            recheck(connection, families)
    return now


def recheck(connection: Connection, family_ids: list[int]) -> None:
    user = db.session.get(User, connection.user_id)
    actor = Actor(user=user)
    for family_id in family_ids:
        family = db.session.get(Family, family_id)
        if family is None or not decide(actor, "family.view", family).allowed:
            end(connection.sid, family_id, "access_ended")
            return
        parts = allowed_parts(actor, family)
        had_messages = "messages" in connection.families.get(family_id, set())
        if had_messages and not decide(actor, "conversation.list", family).allowed:
            end(connection.sid, family_id, "access_ended")
            return
        for part in set(LIVE_PARTS) - parts:
            leave_room(room(family_id, part), sid=connection.sid, namespace=NAMESPACE)
            if part in presence.PAGES:
                presence.leave(connection.sid, NAMESPACE)
        registry.subscribe(
            connection.sid, family_id, parts | ({"messages"} if had_messages else set())
        )


def refresh_conversation(conversation_id: int, family_id: int, user_id: int) -> None:
    """Put this user's local sockets in or out of a conversation's room, as the policy says now;
    a socket taken out is told (conversation.removed) and hears nothing more from it."""
    from portal.messaging.live import conversation_room

    mine = [
        c
        for c in registry.snapshot()
        if c.user_id == user_id and "messages" in c.families.get(family_id, set())
    ]
    if not mine:
        return
    conversation = db.session.get(Conversation, conversation_id)
    actor = Actor(user=db.session.get(User, user_id))
    inside = conversation is not None and decide(actor, "message.view", conversation).allowed
    name = conversation_room(conversation_id)
    for connection in mine:
        try:
            if inside:
                socketio.server.enter_room(connection.sid, name, namespace=NAMESPACE)
                continue
            joined = name in socketio.server.rooms(connection.sid, namespace=NAMESPACE)
        except (KeyError, ValueError):
            continue  # that socket closed meanwhile (see on_subscribe); the sweep forgets it
        if joined:
            leave_room(name, sid=connection.sid, namespace=NAMESPACE)
            socketio.emit(
                "conversation.removed",
                {
                    "family_id": family_id,
                    "type": "conversation.removed",
                    "conversation_id": conversation_id,
                    "at": clock.now().isoformat(),
                },
                to=connection.sid,
                namespace=NAMESPACE,
            )


def recheck_now(user_id: int, family_id: int) -> None:
    """After a revocation or removal on this instance: act at once (other instances sweep)."""

    def run() -> None:
        for connection in registry.snapshot():
            if connection.user_id == user_id and family_id in connection.families:
                recheck(connection, [family_id])

    db.after_commit(run)


def end_session_now(token: str | None) -> None:
    if not token:
        return
    session_hash = token_hash(token)
    for connection in registry.snapshot():
        if connection.session_hash == session_hash:
            end(connection.sid, None, "signed_out")


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
    socketio.on_namespace(LiveNamespace(NAMESPACE))
