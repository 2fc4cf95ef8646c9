"""One request path: apart from Engine.IO's own /socket.io/, every request is answered by
Flask's request handling (docs/decisions/0001-one-request-path.md)."""

from __future__ import annotations

import importlib.util

from engineio.middleware import WSGIApp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix


def test_only_engine_io_stands_between_the_server_and_flask(app: Flask) -> None:
    outer = app.wsgi_app
    if isinstance(outer, ProxyFix):  # production: the client address from nginx, no answers
        outer = outer.app
    assert isinstance(outer, WSGIApp), f"something else wraps the application: {outer!r}"
    assert outer.engineio_path.rstrip("/") == "/socket.io"
    assert not outer.static_files
    inner = outer.wsgi_app
    assert getattr(inner, "__self__", None) is app
    assert getattr(inner, "__func__", None) is Flask.wsgi_app


def test_a_path_beside_socket_io_is_flasks_to_answer(client: FlaskClient) -> None:
    # Engine.IO takes only its own path; a look-alike goes to Flask and gets the portal's 404.
    answer = client.get("/socket.io-not/")
    assert answer.status_code == 404
    assert "Content-Security-Policy" in answer.headers  # drawn by the application


def test_no_second_lane_is_left() -> None:
    for name in (
        "portal.core.express",
        "portal.core.kept_pages",
        "portal.core.prepared",
        "portal.core.data_version",
        "portal.api.express_reads",
        "portal.access.audit_commit",
    ):
        assert importlib.util.find_spec(name) is None, name
