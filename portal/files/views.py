"""The page route for downloading a file (the API has its own under /api/v1)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import login_required

from portal.access import load_family
from portal.files.access import load_file
from portal.files.serve import download

bp = Blueprint("files", __name__)


@bp.get("/families/<int:family_id>/files/<int:file_id>")
@login_required
def get(family_id: int, file_id: int) -> Any:
    family = load_family(family_id, "family.view", record=False)
    return download(load_file(family, file_id))
