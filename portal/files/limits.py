"""Upload routes accept larger bodies than the rest of the portal.

Registered before CSRF protection reads the form, so the larger limit applies when the body is
parsed. A file above max_upload_bytes (but within this margin) is refused by our own check with a
clear message while the rest of the form is kept; only far larger bodies meet the plain 413."""

from __future__ import annotations

from flask import Flask, current_app, request

UPLOAD_ENDPOINTS = frozenset(
    {"messaging.conversation", "api.upload_file", "family.dossier_new", "family.dossier_edit"}
)


def _raise_limit_for_uploads() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        limit: int = current_app.config["PORTAL_SETTINGS"].max_upload_bytes
        # Room for up to five attachments on the page form, and a too-large one to be named.
        request.max_content_length = limit * 5 + 1024 * 1024


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_limit_for_uploads)
