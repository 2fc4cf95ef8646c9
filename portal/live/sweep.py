"""The safety net under the live layer's endings, and the local timers for expiry.

Endings are published after commit (portal/live/endings.py); a message can still be lost (Redis
restarted between commit and publish). So every pass of the sweep re-checks every (person,
family) pair this instance's sockets follow, and every sign-in behind them, in a few batched
queries, without a watermark: a change that committed late (after waiting for a lock) is seen on
the next pass just the same. An expiry has no commit: each subscription carries the moment its
grant ends, and a timer re-checks it then.

Every pass also writes the counts of repeated refusals that are due (portal/access/repeats.py):
of a minute that is over, or of a socket that went away; the rest when the process stops."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access import repeats
from portal.access.audience import pair_actors
from portal.auth.models import UserSession
from portal.core import clock
from portal.extensions import socketio
from portal.family.models import Family
from portal.live import presence
from portal.live.registry import Connection, registry

SWEEP_SECONDS = 0.5
# The access re-check runs every 10th pass (5 s): endings arrive as news and expiry by timer,
# so this only catches what was lost, and a pass over 500 sockets holds the gevent hub for tens
# of milliseconds (bench/bench_messaging.py, rooms of 5: p99 ~50 ms when it ran every pass).
RECHECK_EVERY = 10
log = logging.getLogger(__name__)
_started = threading.Lock()
_running = False


def ensure_running(app: Flask, namespace: str) -> None:
    global _running
    with _started:
        if _running:
            return
        _running = True
    atexit.register(write_counts, app, repeats.counter.take_all)
    socketio.start_background_task(_sweep_forever, app, namespace)


def write_counts(app: Flask, take: Callable[[], list[dict[str, Any]]]) -> None:
    """Write the counts of repeated refusals that `take` hands over, in a transaction of their
    own (one that fails leaves them for the next pass, and says so in the log)."""
    rows = take()
    if not rows:
        return
    try:
        with app.app_context():
            repeats.write(rows)
    finally:
        db.session.remove()


def _sweep_forever(app: Flask, namespace: str) -> None:
    passes = 0
    while True:
        socketio.sleep(SWEEP_SECONDS)
        presence.heartbeat(namespace)  # with several instances: this one's people still count
        write_counts(app, repeats.counter.take_due)
        passes += 1
        if passes % RECHECK_EVERY or not len(registry):
            continue
        try:
            # Reads only; without SQLite's write lock, which a pass must not hold while it
            # tells sockets (a yield to the gevent hub) and other greenlets wait for it.
            with app.app_context(), db.reading():
                sweep()
        except Exception as exc:  # a failed pass (database away) must not stop the next one
            log.warning("live sweep failed: %s", exc)
        finally:
            db.session.remove()


# Sockets re-checked per batch; the sweep lets the other greenlets run between batches, so a
# pass over many sockets is many short pauses instead of one long one.
BATCH = 50
# And it waits a moment between them. Yielding alone (sleep(0)) let a pass take turns with the
# message handlers that waited meanwhile: a pass over 600 sockets (~50 ms of work) halved their
# speed for ~100 ms, and the messages sent then arrived up to 50 ms late (the p99 of
# bench/bench_messaging.py's rooms of 5: 26-65 ms with the re-check, 14-16 ms without). Spread
# out, a pass costs a message at most one batch (~5 ms); 12 batches take a quarter second.
BATCH_PAUSE = 0.02


def sweep() -> None:
    """Re-check every local socket: its sign-in still live, its families still allowed."""
    connections = registry.snapshot()
    for start in range(0, len(connections), BATCH):
        if start:
            socketio.sleep(BATCH_PAUSE)
        _sweep_batch(connections[start : start + BATCH])
        db.session.rollback()


def _sweep_batch(connections: list[Connection]) -> None:
    from portal.live.namespace import Verdict, apply, end, verdict

    now = clock.now()
    hashes = {c.session_hash for c in connections}
    live = set(
        db.session.scalars(
            select(UserSession.token_hash).where(
                UserSession.token_hash.in_(hashes),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
        )
    )
    pairs = {(c.user_id, fid) for c in connections if c.session_hash in live for fid in c.families}
    keys, actors = pair_actors(pairs)
    family_ids = {fid for _, fid in pairs}
    families = (
        {f.id: f for f in db.session.scalars(select(Family).where(Family.id.in_(family_ids)))}
        if family_ids
        else {}
    )
    verdicts: dict[tuple[object, ...], Verdict] = {}
    for connection in connections:
        if connection.session_hash not in live:
            end(connection.sid, None, "signed_out")
            continue
        for family_id in list(connection.families):
            key = keys[(connection.user_id, family_id)]
            if key not in verdicts:
                verdicts[key] = verdict(actors.get(key), families.get(family_id))
            if not apply(connection, family_id, verdicts[key]):
                break  # that socket is closed now


def expire_later(app: Flask, sid: str, family_id: int, ends_at: datetime) -> None:
    """Re-check this socket's subscription the moment its grant ends."""
    seconds = (ends_at - clock.now()).total_seconds()
    socketio.start_background_task(_expire, app, sid, family_id, max(seconds, 0) + 0.05)


def _expire(app: Flask, sid: str, family_id: int, seconds: float) -> None:
    from portal.live.namespace import recheck_socket

    # In steps, so that the timer of a socket that closed meanwhile (a page reloaded) ends
    # within a minute instead of sleeping until a grant's end weeks away.
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        socketio.sleep(min(left, 60))
        connection = registry.get(sid)
        if connection is None or family_id not in connection.families:
            return
    connection = registry.get(sid)
    if connection is None:
        return
    try:
        with app.app_context(), db.reading():
            recheck_socket(connection, family_id)
            db.rollback()
    except Exception as exc:  # the sweep tries again within a pass
        log.warning("live expiry check failed: %s", exc)
    finally:
        db.session.remove()
