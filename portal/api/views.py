"""The OpenAPI document route."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from portal.api import bp
from portal.api.openapi import document


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(document())
