"""A per-user send rate limit (token bucket), so one sender cannot flood a family's channel.

Kept in this process's memory: with several instances each enforces its own bucket, which still
bounds a sender to N times the rate; a Redis-backed bucket is the next step if that matters."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

BURST = 20  # messages at once
PER_SECOND = 2.0  # sustained


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

    def configure(self, burst: int, per_minute: int) -> None:
        with self._lock:
            self.burst = burst
            self.per_second = per_minute / 60
            self._buckets.clear()

    def take(self, user_id: int) -> float:
        """0 when the user may send now; otherwise the seconds to wait."""
        now = time.monotonic()
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


send_limit = RateLimiter()
