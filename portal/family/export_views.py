"""Downloading everything the family holds (data portability), from a page and the API."""

from __future__ import annotations

from typing import Any

from flask_login import login_required

from portal.access import current_actor, load_family
from portal.api import bp as api_bp
from portal.api.common import api_login_required
from portal.family import export
from portal.family.views import bp


@bp.get("/families/<int:family_id>/export")
@login_required
def export_page(family_id: int) -> Any:
    family = load_family(family_id, "family.export")
    return export.send(family, current_actor())


@api_bp.get("/families/<int:fid>/export")
@api_login_required
def export_family(fid: int) -> Any:
    family = load_family(fid, "family.export")
    return export.send(family, current_actor())
