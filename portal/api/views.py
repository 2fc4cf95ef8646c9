"""API routes."""

from __future__ import annotations

from typing import Any

from portal.api import bp
from portal.api.openapi import document


@bp.route("/openapi.json")
def openapi() -> Any:
    return document()
