"""The page route for downloading a file (the API has its own under /api/v1)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_login import login_required

from portal.access import load_family
from portal.files.access import load_file, load_preview
from portal.files.serve import download, show_preview

bp = Blueprint("files", __name__)


@bp.get("/families/<int:family_id>/files/<int:file_id>")
@login_required
def get(family_id: int, file_id: int) -> Any:
    family = load_family(family_id, "family.view", record=False)
    return download(load_file(family, file_id, "file.download"))


@bp.get("/families/<int:family_id>/files/<int:file_id>/preview")
@login_required
def preview(family_id: int, file_id: int) -> Any:
    family = load_family(family_id, "family.view", record=False)
    found = load_preview(family, file_id)
    if found is None:
        abort(404)  # not a photo, or one that could not be drawn: the download still works
    return show_preview(found)
