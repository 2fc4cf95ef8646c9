"""Which pages may open the live connection (the Origin a browser sends with Socket.IO).

In production only the configured base URL. In development and tests also the address the
connection itself was made to: a page opened on http://localhost:5000 while the base URL says
http://127.0.0.1:5000 (or served on another port) connects to the address it came from, and
that is the same site. Never every origin ('*')."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from config.settings import Settings


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(settings: Settings) -> list[str] | Callable[[str | None, dict[str, Any]], bool]:
    configured = origin_of(settings.base_url)
    if settings.environment == "production":
        return [configured]

    def allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return False
        served_from = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin in (configured, served_from)

    return allowed
