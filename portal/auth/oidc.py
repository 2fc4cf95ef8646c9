"""Professional sign-in through an organisation's OpenID Connect provider (authlib).

Authorization code flow with PKCE (S256); authlib keeps state and nonce in the session and checks
both on the way back. Accounts are keyed on issuer + subject, never on the e-mail claim alone.
"""

from __future__ import annotations

from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal import db
from portal.auth import login, services
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.core.urls import external_url

bp = Blueprint("oidc", __name__)


def _oauth() -> OAuth:
    """One OAuth registry per app, filled from the settings on first use."""
    oauth: OAuth | None = current_app.extensions.get("portal_oauth")
    if oauth is None:
        oauth = OAuth(current_app)
        for provider in current_app.config["PORTAL_SETTINGS"].oidc_providers:
            oauth.register(
                name=provider.name,
                client_id=provider.client_id,
                client_secret=provider.client_secret,
                server_metadata_url=provider.issuer.rstrip("/")
                + "/.well-known/openid-configuration",
                client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
            )
        current_app.extensions["portal_oauth"] = oauth
    return oauth


def _provider(name: str) -> Any:
    settings = current_app.config["PORTAL_SETTINGS"]
    config = next((p for p in settings.oidc_providers if p.name == name), None)
    if config is None:
        abort(404)
    return config, _oauth().create_client(name)


@bp.route("/signin/oidc/<name>", methods=["POST"])
def start(name: str) -> Any:
    _config, client = _provider(name)
    redirect_uri = external_url("oidc.callback", name=name)
    try:
        return client.authorize_redirect(redirect_uri)
    except (AuthlibBaseError, OSError, ValueError):
        current_app.logger.exception("OIDC provider %s unreachable", name)
        return _failed(_("De inlogdienst van je organisatie is nu niet bereikbaar."), 502)


def _failed(message: str, status: int = 400) -> Any:
    return render_template("auth/oidc_error.html", message=message), status


@bp.route("/signin/oidc/<name>/callback")
def callback(name: str) -> Any:
    config, client = _provider(name)
    if request.args.get("error"):
        return _failed(_("Inloggen bij je organisatie is afgebroken."))
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, OSError, ValueError, KeyError):
        current_app.logger.info("OIDC callback refused", exc_info=True)
        return _failed(_("Inloggen bij je organisatie is niet gelukt. Probeer het opnieuw."))
    claims = token.get("userinfo") or {}
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    if not issuer or not subject:
        return _failed(_("Inloggen bij je organisatie is niet gelukt. Probeer het opnieuw."))
    user = db.session.scalar(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )
    if user is None:
        email = services.normalise_email(str(claims.get("email") or ""))
        if not email or services.find_user(email) is not None:
            # Linking to an existing password account would let an IdP take that account over.
            return _failed(
                _(
                    "Er bestaat al een account met dit e-mailadres, of je organisatie gaf geen "
                    "e-mailadres door. Log in met je wachtwoord."
                )
            )
        user = User(
            email=email,
            display_name=str(claims.get("name") or email)[:100],
            kind=KIND_PROFESSIONAL,
            profession="other",
            organisation=config.label[:120],
            oidc_issuer=issuer,
            oidc_subject=subject,
            email_verified_at=clock.now(),
            password_hash=None,
        )
        db.session.add(user)
        db.session.flush()
    elif not user.is_professional:
        return _failed(_("Inloggen via een organisatie kan alleen voor professionals."))
    login.sign_in(user, "oidc", request.remote_addr)
    flash(_("Je bent ingelogd via %(org)s.", org=config.label), "success")
    return redirect(url_for("professional.dashboard"))
