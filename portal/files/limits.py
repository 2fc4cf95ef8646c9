"""Upload routes accept larger bodies than the rest of the portal.

Registered before CSRF protection reads the form, so the larger limit applies when the body is
parsed. A file above max_upload_bytes (but within this margin) is refused by our own check with a
clear message while the rest of the form is kept; only far larger bodies meet the plain 413."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_decimal

UPLOAD_ENDPOINTS = frozenset(
    {"messaging.conversation", "api.upload_file", "dossier.new", "dossier.edit"}
)


def body_limit(endpoint: str | None) -> int:
    """The largest request body the portal reads for a POST to this endpoint."""
    settings = current_app.config["PORTAL_SETTINGS"]
    if endpoint in UPLOAD_ENDPOINTS:
        # Room for up to five attachments on the page form, and a too-large one to be named.
        return int(settings.max_upload_bytes * 5 + 1024 * 1024)
    return int(settings.max_content_length)


def _raise_limit_for_uploads() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = body_limit(request.endpoint)


def _page_limit() -> dict[str, Any]:
    """For the page's script (textlength.js): a form posted back to this page's own address
    larger than this would be refused, so the page refuses it before sending."""
    if not has_request_context():
        return {}  # a mail drawn outside a request has no forms
    limit = body_limit(request.endpoint)
    return {"max_body": limit, "max_body_mb": format_decimal(round(limit / (1024 * 1024), 1))}


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_limit_for_uploads)
    app.context_processor(_page_limit)
