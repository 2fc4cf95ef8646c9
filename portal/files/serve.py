"""Sending a stored file back: always as a download, never rendered by the browser."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from portal.files.models import StoredFile
from portal.files.services import content_of


def download(stored: StoredFile) -> Response:
    ascii_name = stored.name.encode("ascii", "ignore").decode().replace('"', "") or "bestand"
    response = Response(content_of(stored), mimetype=stored.content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser ignored the attachment, nothing in the file may run or load.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
