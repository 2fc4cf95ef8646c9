"""Sending a stored file back: always as a download, never rendered by the browser; only the
portal's own redrawn preview of a photo is shown inline."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from portal.files.models import FilePreview, StoredFile
from portal.files.services import content_of


def download(stored: StoredFile) -> Response:
    ascii_name = stored.name.encode("ascii", "ignore").decode().replace('"', "") or "bestand"
    response = Response(content_of(stored), mimetype=stored.content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name)}"
    )
    return _guarded(response)


def show_preview(preview: FilePreview) -> Response:
    """The redrawn photo (portal/files/previews.py), for an <img> on the family's own pages."""
    response = Response(preview.data, mimetype=preview.content_type)
    extension = "png" if preview.content_type == "image/png" else "jpg"
    response.headers["Content-Disposition"] = f'inline; filename="voorbeeld.{extension}"'
    return _guarded(response)


def _guarded(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser ignored the attachment, nothing in the file may run or load.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Not kept by the browser: access that ends must end for what was already seen too.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
