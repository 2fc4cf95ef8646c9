"""Fragments in Redis (portal/core/caching.py): instances that share PORTAL_REDIS_URL share what
one of them drew, each copy with its own reader's CSRF token; Redis holds plain text with the
slot, never a token, for a day at most; a page is still drawn when Redis is gone."""

from __future__ import annotations

import redis
from flask import Flask
from flask_wtf.csrf import generate_csrf

from config import Settings
from portal.core import caching
from tests.support.servers import RedisServer


def instance(redis_url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        PORTAL_SETTINGS=Settings(redis_url=redis_url),
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
    )
    caching.init_app(app)
    return app


def test_instances_with_redis_share_what_one_drew() -> None:
    drawn: list[str] = []

    def draw() -> str:
        drawn.append("drawn")
        return f'<p>Samen eten</p><input name="csrf_token" value="{caching.csrf_value()}">'

    with RedisServer() as server:
        first, second = instance(server.url), instance(server.url)
        tokens, pages = [], []
        for app in (first, second):
            with app.test_request_context("/"):
                assert type(caching.cache.cache).__name__ == "RedisCache"
                pages.append(str(caching.fragment("plan.test", ("family", 1, "a1b2"), draw)))
                tokens.append(generate_csrf())
        assert drawn == ["drawn"]  # the second instance served the first one's drawing
        assert tokens[0] != tokens[1]
        assert [tokens[0] in pages[0], tokens[1] in pages[1]] == [True, True]
        assert tokens[0] not in pages[1]
        with redis.Redis.from_url(server.url) as store:
            keys = store.keys("portal:fragment:*")
            assert len(keys) == 1
            kept = store.get(keys[0])
            assert 0 < store.ttl(keys[0]) <= caching.TIMEOUT_SECONDS
        assert kept is not None
        assert kept.decode() == '<p>Samen eten</p><input name="csrf_token" value="<csrf-slot>">'

    # Redis gone: the page is drawn without it.
    with first.test_request_context("/"):
        again = str(caching.fragment("plan.test", ("family", 1, "a1b2"), draw))
        assert generate_csrf() in again
    assert drawn == ["drawn", "drawn"]
    caching._paused_until = 0.0
