"""Absolute links on the configured public base URL, never on the request's Host header."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base = current_app.config["PORTAL_SETTINGS"].base_url.rstrip("/")
    return base + url_for(endpoint, **values)
