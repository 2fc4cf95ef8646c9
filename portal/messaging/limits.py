"""A per-user send rate limit (token bucket), so one sender cannot flood a family's channel.

One instance keeps the buckets in memory; several instances (PORTAL_REDIS_URL) share one bucket
per user in Redis, so connecting to another instance gives no fresh tokens."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from redis.commands.core import Script

from portal.core import shared

BURST = 20  # messages at once
PER_SECOND = 2.0  # sustained

log = logging.getLogger(__name__)

# The bucket's refill and take in one step, on Redis's own clock (the instances' clocks differ).
# Returns the seconds to wait as text (a Lua number would come back as an integer).
_TAKE = """
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst / rate) * 1000) + 1000)
return tostring(wait)
"""


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, burst: int = BURST, per_second: float = PER_SECOND) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()
        self._script: Script | None = None  # the shared bucket, with several instances
        # The in-memory buckets' clock; a test can hold it still so that a slow machine
        # refilling tokens mid-test cannot change the outcome.
        self.clock: Callable[[], float] = time.monotonic

    def configure(self, burst: int, per_minute: int, redis_url: str = "") -> None:
        with self._lock:
            self.burst = burst
            self.per_second = per_minute / 60
            self._buckets.clear()
            store = shared.client(redis_url)
            self._script = store.register_script(_TAKE) if store is not None else None

    def take(self, user_id: int) -> float:
        """0 when the user may send now; otherwise the seconds to wait."""
        if self._script is not None:
            try:
                wait = self._script(
                    keys=[f"portal:send-limit:{user_id}"], args=[self.burst, self.per_second]
                )
                return float(wait)
            except redis.RedisError:
                # Redis away: fall back to this instance's own bucket rather than refusing
                # every message or letting every message through.
                log.warning("shared send limit unavailable", exc_info=True)
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(user_id) or _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
            self._buckets[user_id] = bucket
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.per_second

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.clock = time.monotonic


send_limit = RateLimiter()
