"""JSON API v1 (see ../shared/API.md); the OpenAPI document is at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.errors import problem
from portal.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below, for cookie-authenticated writes only

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A professional who signed in with a password but has no TOTP yet may only enrol.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "api.get_session",
        "api.create_session",
        "api.delete_session",
        "api.me",
        "api.enrol_totp",
        "api.openapi",
    }
)


@bp.before_request
def _guard() -> Any:
    if request.method not in SAFE_METHODS and request.endpoint != "api.create_account":
        csrf.protect()
    user = current_user
    if (
        user.is_authenticated
        and user.is_professional
        and not user.totp_enabled
        and user.signin_method != "oidc"
        and request.endpoint not in ENROLMENT_ENDPOINTS
    ):
        return problem(
            403, _("Zet eerst tweestapsverificatie aan. Dat is verplicht voor professionals.")
        )
    return None


from portal.api import accounts, audit, families, grants, views  # noqa: E402,F401  (routes)
