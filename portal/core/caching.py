"""Fragments of a page drawn once and served again: Flask-Caching, SimpleCache in the process
(embedded) or Redis shared by every instance (PORTAL_REDIS_URL).

A fragment is kept under a key that its caller builds from everything the HTML shows (whose
data and its version, the reader's view, the language, the day, ...): a changed fact is a new
key, and nothing is ever deleted by hand. The key is hashed together with a fingerprint of the
portal's own code, templates and translations, so a new release never meets HTML an older one
drew (Redis outlives a restart).

Nothing a fragment holds may belong to one reader. The CSRF token is per session: a fragment
draws `csrf_value()`, which inside a drawing is a slot, and every copy served gets the current
session's token in the slot. A drawing that holds the session's token anyway is served to its
reader but never kept. Caching replaces drawing only: the caller has decided and logged the
access before it asks for a fragment.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from cachelib.serializers import BaseSerializer
from flask import Flask
from flask_caching import Cache
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.core import shared

log = logging.getLogger(__name__)

cache = Cache(with_jinja2_ext=False)

# Where a reader's token goes. No text from users can put it into a page: every "<" in text is
# escaped.
CSRF_SLOT = Markup("<csrf-slot>")
# The key holds the day, so yesterday's fragments are never asked for again.
TIMEOUT_SECONDS = 25 * 3600
# SimpleCache: fragments of one process (a drawn section is 2-60 kB).
MAX_FRAGMENTS = 1000
# Fragments kept and drawn by this process, per name (tests, and a look at how well it works).
hits: Counter[str] = Counter()
draws: Counter[str] = Counter()

# After the cache failed (Redis away), pages draw without it for a while instead of waiting
# for it on every fragment.
PAUSE_SECONDS = 10.0
_paused_until = 0.0

_drawing: ContextVar[bool] = ContextVar("portal_drawing_fragment", default=False)


class TextSerializer(BaseSerializer):
    """Fragments are text: stored as UTF-8, never pickled (what comes back from Redis is read
    as text, nothing more)."""

    def dumps(self, value: Any, protocol: int = 0) -> bytes:
        return str(value).encode()

    def loads(self, bvalue: bytes | None) -> Any:
        return None if bvalue is None else bvalue.decode()


def code_fingerprint(package: Path | None = None) -> str:
    """What the portal draws with: its Python code, templates and compiled translations."""
    root = package or Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".html", ".mo") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def init_app(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    config: dict[str, Any] = {
        "CACHE_DEFAULT_TIMEOUT": TIMEOUT_SECONDS,
        "CACHE_KEY_PREFIX": f"portal:fragment:{code_fingerprint()}:",
        "CACHE_SERIALIZER": TextSerializer(),
    }
    if settings.redis_url:
        # The process's one client for this URL, with its short timeouts (portal/core/shared).
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_HOST=shared.client(settings.redis_url))
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=MAX_FRAGMENTS)
    cache.init_app(app, config)
    from portal.core.kept_forms import kept_form

    app.jinja_env.globals.update(csrf_value=csrf_value, kept_form=kept_form)


def csrf_value() -> str:
    """The session's CSRF token for a form's hidden field; inside a fragment, the slot."""
    return CSRF_SLOT if _drawing.get() else generate_csrf()


def _draw(name: str, draw: Callable[[], str]) -> str:
    marker = _drawing.set(True)
    try:
        html = str(draw())
    finally:
        _drawing.reset(marker)
    draws[name] += 1
    return html


def _use(operation: Callable[[], Any]) -> Any:
    """Ask the cache; when it is away, None (the fragment is drawn), and a pause before the
    next try."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return None
    try:
        return operation()
    except Exception:  # a cache that is away must not take the page with it
        _paused_until = time.monotonic() + PAUSE_SECONDS
        log.warning("fragment cache unavailable; drawing without it", exc_info=True)
        return None


def fragment(name: str, key: Hashable | None, draw: Callable[[], str]) -> Markup:
    """The fragment `name` as drawn before for `key`, else drawn now and kept. With key None it
    is drawn and not kept (what it shows is not all in a key: a form with typed text, a
    transaction that changed the data itself). `draw` returns HTML (autoescaped)."""
    token = generate_csrf()
    html = None
    digest = None
    if key is not None:
        digest = hashlib.sha256(repr((name, key)).encode()).hexdigest()
        found = _use(lambda: cache.get(digest))
        html = found if isinstance(found, str) else None
        if html is not None:
            hits[name] += 1
    if html is None:
        html = _draw(name, draw)
        if digest is not None:
            if token in html:
                log.error("fragment %s holds a CSRF token: not kept", name)
            else:
                _use(lambda: cache.set(digest, html))
    if _drawing.get():
        # Inside another fragment's drawing (a kept form in a section): that one fills the slot.
        return Markup(html)  # noqa: S704  (drawn with autoescape on)
    # Drawn with autoescape on; only the escaped token is put in.
    return Markup(html.replace(CSRF_SLOT, str(escape(token))))  # noqa: S704
