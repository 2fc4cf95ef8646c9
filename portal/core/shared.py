"""Redis for what several instances must share (who is looking, send limits).

Without PORTAL_REDIS_URL there is one instance and that state stays in its memory."""

from __future__ import annotations

import threading

import redis

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def client(url: str) -> redis.Redis | None:
    """One client (with its connection pool) per URL per process; None without a URL."""
    if not url:
        return None
    with _lock:
        found = _clients.get(url)
        if found is None:
            # Short timeouts: a Redis that hangs must not hang a socket event for long.
            found = _clients[url] = redis.Redis.from_url(
                url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
            )
        return found
