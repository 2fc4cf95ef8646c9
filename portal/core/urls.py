"""Absolute links on the configured public base URL, never on the request's Host header."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values: Any) -> str:
    base = current_app.config["PORTAL_SETTINGS"].base_url.rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    # Mail sent from a command (reminders) has no request to build URLs from.
    with current_app.test_request_context("/"):
        return base + url_for(endpoint, **values)
