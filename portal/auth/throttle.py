"""Throttling of guesses and of link mails, counted by the `limits` library (moving window).

Guesses (a password, a second-factor code, a family's code) count only when wrong, per account
and per client address: `signin_max_failures_per_account` / `_per_client` within
`signin_window_seconds`. A right answer clears the account's count. Mails with a link that anyone
may ask for (a password reset, a new verification link) count every request in the same two ways.

An account is a keyed hash of the typed e-mail address, made the same way whether or not the
address has an account, so a 429 tells nothing about accounts (and Redis holds no addresses).
Counts live in this process's memory, or in Redis when the portal has PORTAL_REDIS_URL, so
that every instance behind nginx adds to the same count."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app
from flask_babel import gettext as _
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from config import Settings
from portal.core import shared

EXTENSION = "portal_throttle"
T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """How many per account and per client address, within one window."""

    per_account: RateLimitItem
    per_client: RateLimitItem

    @classmethod
    def of(cls, name: str, per_account: int, per_client: int, window_seconds: int) -> Rule:
        return cls(
            RateLimitItemPerSecond(per_account, window_seconds, namespace=name),
            RateLimitItemPerSecond(per_client, window_seconds, namespace=name),
        )


class Throttle:
    """One per app: its rules from the settings and where the counts live."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.secret_key.encode()
        self.guesses = Rule.of(
            "guesses",
            settings.signin_max_failures_per_account,
            settings.signin_max_failures_per_client,
            settings.signin_window_seconds,
        )
        self.link_mails = Rule.of(
            "link-mails",
            settings.link_mail_max_per_account,
            settings.link_mail_max_per_client,
            settings.link_mail_window_seconds,
        )
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        store = shared.client(settings.redis_url)
        if store is not None:  # the process's one pool for this Redis
            self.shared = MovingWindowRateLimiter(
                RedisStorage(
                    settings.redis_url,
                    connection_pool=store.connection_pool,
                    key_prefix="portal:throttle",
                    wrap_exceptions=True,
                )
            )

    def run(self, step: Callable[[MovingWindowRateLimiter], T]) -> T:
        if self.shared is not None:
            try:
                return step(self.shared)
            except StorageError as exc:
                # Redis away: count on this instance rather than refuse every sign-in or let
                # every guess through. One line per request, no traceback: it is not a bug.
                log.warning("shared throttle unavailable, counting here: %s", exc)
        return step(self.local)

    def account(self, email: str) -> str:
        normalised = (email or "").strip().lower()
        return hmac.new(self.secret, normalised.encode(), hashlib.sha256).hexdigest()[:32]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Throttle(app.config["PORTAL_SETTINGS"])


def _throttle() -> Throttle:
    found: Throttle = current_app.extensions[EXTENSION]
    return found


def _keys(rule: Rule, account: str, address: str | None) -> list[tuple[RateLimitItem, str, str]]:
    return [
        (rule.per_account, "account", account),
        (rule.per_client, "client", address or "-"),
    ]


def _wait(limiter: MovingWindowRateLimiter, rule: Rule, account: str, address: str | None) -> int:
    """Seconds until both counts leave room for one more, 0 when they do now."""
    wait = 0.0
    for item, *ids in _keys(rule, account, address):
        stats = limiter.get_window_stats(item, *ids)
        if stats.remaining <= 0:
            wait = max(wait, stats.reset_time - time.time())
    return max(1, math.ceil(wait)) if wait > 0 else 0


# --- guesses -----------------------------------------------------------------------------------


def email_account(email: str) -> str:
    """The account a typed e-mail address counts under (the same for unknown addresses)."""
    return _throttle().account(email)


def family_code_account(user_id: int) -> str:
    """A professional's guesses at families' codes count under their own account."""
    return f"family-codes-{user_id}"


def wait(account: str, address: str | None) -> int:
    """Seconds to wait before another guess is heard, 0 when not throttled."""
    throttle = _throttle()
    return throttle.run(lambda limiter: _wait(limiter, throttle.guesses, account, address))


def failed(account: str, address: str | None) -> None:
    throttle = _throttle()

    def count(limiter: MovingWindowRateLimiter) -> None:
        for item, *ids in _keys(throttle.guesses, account, address):
            limiter.hit(item, *ids)

    throttle.run(count)


def succeeded(account: str) -> None:
    """A right answer: the account's wrong guesses no longer count (the client's still do)."""
    throttle = _throttle()
    throttle.run(lambda limiter: limiter.clear(throttle.guesses.per_account, "account", account))


# --- link mails --------------------------------------------------------------------------------


def link_mail(email: str, address: str | None) -> int:
    """Count a request for a link mail; seconds to wait (and nothing counted) when too many."""
    throttle = _throttle()
    account = throttle.account(email)

    def ask(limiter: MovingWindowRateLimiter) -> int:
        waiting = _wait(limiter, throttle.link_mails, account, address)
        if not waiting:
            for item, *ids in _keys(throttle.link_mails, account, address):
                limiter.hit(item, *ids)
        return waiting

    return throttle.run(ask)


# --- answers -----------------------------------------------------------------------------------


def too_many_text(wait: int) -> str:
    return _(
        "Te veel pogingen. Probeer het over %(minutes)s minuten opnieuw.",
        minutes=max(1, wait // 60),
    )


def too_many_links_text(wait: int) -> str:
    return _(
        "Je hebt al vaak een link gevraagd. Probeer het over %(minutes)s minuten opnieuw.",
        minutes=max(1, wait // 60),
    )


def reset(app: Flask) -> None:
    """Forget every count (tests)."""
    throttle: Throttle = app.extensions[EXTENSION]
    throttle.local.storage.reset()
    if throttle.shared is not None:
        throttle.shared.storage.reset()
