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
# bearer-token request (which carries no cookie) can skip it.
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


# What only a cookie session can do: sign in or out, and enrol TOTP (the pending secret is
# kept in the session). A bearer token is revoked in the settings, not signed out.
SESSION_ENDPOINTS = frozenset({"api.create_session", "api.delete_session", "api.enrol_totp"})


def _bearer() -> str | None:
    """The token of an `Authorization: Bearer …` header; None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _space, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _authenticate_bearer(secret: str) -> Any:
    """Sign this request in as the token's owner, or refuse it (RFC 6750: 401 with
    WWW-Authenticate). A token is never combined with the cookie: it alone decides."""
    from portal.auth import api_tokens, login

    found = api_tokens.authenticate(secret)
    if found is None:
        return problem(
            401,
            _(
                "Dit API-token werkt niet (meer): het klopt niet, is verlopen of is "
                "ingetrokken. Maak een nieuw token bij Beveiliging."
            ),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    user, token = found
    login.adopt_bearer(user, token.created_with)
    if request.endpoint in SESSION_ENDPOINTS:
        return problem(
            400,
            _(
                "Dit kan alleen met een sessie, niet met een API-token. Een token trek je in "
                "bij Beveiliging."
            ),
            session_required=True,
        )
    return None


@bp.before_request
def _guard() -> Any:
    secret = _bearer()
    if secret is not None:
        refused = _authenticate_bearer(secret)
        if refused is not None:
            return refused
    # A cookie request (signed in or anonymous) needs, for every write, the token that
    # GET /api/v1/session hands out; a bearer request does not (see adopt_bearer).
    elif request.method not in SAFE_METHODS:
        try:
            csrf.protect()
        except CSRFError:
            return problem(
                400,
                _("Stuur het CSRF-token mee in de header X-CSRFToken (GET /api/v1/session)."),
                csrf_required=True,
            )
    # (Ids no row can have are a 404 before this, for every path: portal._request_hooks.)
    from portal.auth.login import must_enrol_second_factor

    user = current_user
    if (
        user.is_authenticated
        and must_enrol_second_factor(user, getattr(user, "signin_method", ""))
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
