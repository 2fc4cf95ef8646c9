"""A failed URL match (every Socket.IO event's context, every 404) must not leave a reference
cycle behind: the cyclic collector's passes stall every socket of a gevent process."""

from __future__ import annotations

import gc
import weakref

from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound


def test_a_failed_url_match_is_freed_without_the_garbage_collector(app: Flask) -> None:
    gc.collect()
    gc.disable()
    try:
        with app.test_request_context("/socket.io/?EIO=4&transport=websocket"):
            assert isinstance(request.routing_exception, NotFound)  # still raised when asked
            gone = weakref.ref(request._get_current_object())  # type: ignore[attr-defined]
        assert gone() is None, "the request outlived its context: a reference cycle"
    finally:
        gc.enable()


def test_failed_matches_still_answer_404_and_405(client: FlaskClient) -> None:
    assert client.get("/bestaat-niet").status_code == 404
    wrong_method = client.delete("/api/v1/me")
    assert wrong_method.status_code == 405
    assert wrong_method.mimetype == "application/problem+json"
