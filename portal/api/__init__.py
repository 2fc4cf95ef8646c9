"""JSON API v1 (see ../shared/API.md); the OpenAPI document is at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from portal.core.errors import problem
from portal.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# CSRFProtect would answer before the blueprint's own hook; _guard checks it instead, so that a
# later bearer-token request (which carries no cookie) can skip it.
csrf.exempt(bp)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a professional who signed in with a password but has no TOTP yet may do: enrol.
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
    # Every request so far is cookie-authenticated (or anonymous with a cookie session), so every
    # write needs the token that GET /api/v1/session hands out.
    if request.method not in SAFE_METHODS:
        try:
            csrf.protect()
        except CSRFError:
            return problem(
                400,
                _("Stuur het CSRF-token mee in de header X-CSRFToken (GET /api/v1/session)."),
                csrf_required=True,
            )
    # (Ids no row can have are a 404 before this, for every path: portal._request_hooks.)
    user = current_user
    if (
        user.is_authenticated
        and user.is_professional
        and not user.totp_enabled
        and getattr(user, "signin_method", "") != "oidc"
        and request.endpoint not in ENROLMENT_ENDPOINTS
    ):
        return problem(
            403,
            _("Zet eerst tweestapsverificatie aan. Dat is verplicht voor professionals."),
            totp_enrolment_required=True,
        )
    return None


from portal.api import (  # noqa: E402,F401  (routes register on import)
    accounts,
    audit,
    dossier,
    families,
    files,
    grants,
    members,
    messages,
    plan,
    plan_history,
    plan_parts,
    views,
)
