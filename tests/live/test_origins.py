"""Which pages may open the live connection: in development the address the page was served
from besides the configured base URL; in production only the base URL; never every origin."""

from __future__ import annotations

from flask import Flask

from config import Settings
from portal.live.origins import allowed_origins

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def opens(app: Flask, served_from: str, origin: str) -> bool:
    """Does the Socket.IO handshake made to `served_from` from a page of `origin` succeed?"""
    response = app.test_client().get(HANDSHAKE, base_url=served_from, headers={"Origin": origin})
    assert response.status_code in (200, 400), response.status_code
    return response.status_code == 200


def test_development_accepts_the_address_the_page_came_from(app: Flask) -> None:
    assert app.config["PORTAL_SETTINGS"].base_url == "http://localhost"
    assert opens(app, "http://localhost", "http://localhost")
    # The base URL says localhost; the page was opened on 127.0.0.1, another port: the same site.
    assert opens(app, "http://127.0.0.1:5000", "http://127.0.0.1:5000")
    assert opens(app, "http://localhost:8080", "http://localhost:8080")
    # Another site is refused, also when it names a host of ours.
    assert not opens(app, "http://127.0.0.1:5000", "http://evil.example")
    assert not opens(app, "http://127.0.0.1:5000", "http://127.0.0.1:5001")
    assert not opens(app, "http://localhost", "null")


def test_production_accepts_only_the_base_url() -> None:
    settings = Settings(
        environment="production", base_url="https://gezin.example.nl/", secret_key="x" * 40
    )
    assert allowed_origins(settings) == ["https://gezin.example.nl"]


def test_never_every_origin() -> None:
    check = allowed_origins(Settings(base_url="http://127.0.0.1:5000"))
    assert callable(check)
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:5000"}
    assert check("http://127.0.0.1:5000", environ)
    assert check("http://127.0.0.1:5000", {"wsgi.url_scheme": "http", "HTTP_HOST": "x"})
    assert not check("http://elsewhere.example", environ)
    assert not check(None, environ)
    assert not check("*", environ)
