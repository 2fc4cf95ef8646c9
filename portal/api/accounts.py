"""Accounts and sessions: sign up, sign in (password + TOTP), sign out, who am I, TOTP enrolment."""

from __future__ import annotations

from typing import Any

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.access.policy import role_of
from portal.api import bp
from portal.api.common import fail, json_body, login_required, ok, validate
from portal.api.serialize import family_json, user_json
from portal.auth import login, services, totp
from portal.auth.forms import ProfessionalSignUpForm, SignUpForm
from portal.auth.models import KIND_FAMILY, KIND_PROFESSIONAL, User
from portal.core import clock
from portal.core.i18n import select_locale
from portal.family import services as family_services


@bp.post("/accounts")
def create_account() -> Any:
    payload = json_body()
    kind = payload.get("kind", KIND_FAMILY)
    if kind not in (KIND_FAMILY, KIND_PROFESSIONAL):
        raise fail(422, errors=[{"field": "kind", "message": _("Ongeldige keuze.")}])
    form_class = ProfessionalSignUpForm if kind == KIND_PROFESSIONAL else SignUpForm
    # The API has no second password box; the page form's check is satisfied by copying.
    form = validate(form_class, payload, password_again=payload.get("password"))
    professional = isinstance(form, ProfessionalSignUpForm)
    services.sign_up(
        services.SignUp(
            email=form.email.data or "",
            password=form.password.data or "",
            display_name=(form.display_name.data or "").strip(),
            locale=select_locale(),
            kind=kind,
            profession=form.profession.data if professional else None,
            organisation=(form.organisation.data or "").strip() if professional else None,
            register_number=(form.register_number.data or None) if professional else None,
        )
    )
    # The same answer whether or not the address already had an account.
    return ok(
        {"status": "check_your_mail", "email": services.normalise_email(form.email.data or "")}, 202
    )


def session_json() -> dict[str, Any]:
    body: dict[str, Any] = {
        "authenticated": current_user.is_authenticated,
        "csrf_token": generate_csrf(),
    }
    if current_user.is_authenticated:
        body["user"] = user_json(current_user)
    return body


@bp.get("/session")
def get_session() -> Any:
    return ok(session_json())


@bp.post("/session")
def create_session() -> Any:
    payload = json_body()
    email, password, code = (payload.get(k) for k in ("email", "password", "totp_code"))
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise fail(
            422,
            errors=[
                {"field": f, "message": _("Vul dit veld in.")}
                for f, v in (("email", email), ("password", password))
                if not isinstance(v, str) or not v
            ],
        )
    email, password = email[:254], password[:200]
    wait = services.throttled_for(email, request.remote_addr)
    if wait:
        raise fail(429, headers={"Retry-After": str(wait)})
    user = services.authenticate(email, password)
    if user is None:
        services.record_failure(email, request.remote_addr)
        raise fail(401, _("Het e-mailadres of het wachtwoord klopt niet."))
    if user.email_verified_at is None:
        services.send_verification(user)
        raise fail(403, _("Bevestig eerst je e-mailadres. We hebben je een nieuwe link gestuurd."))
    method = "password"
    if user.totp_enabled:
        if not isinstance(code, str) or not code:
            raise fail(
                401, _("Vul de code van 6 cijfers in die de app laat zien."), totp_required=True
            )
        second = services.check_second_factor(user, code[:20])
        if second is None:
            services.record_failure(email, request.remote_addr)
            raise fail(401, _("Deze code klopt niet."), totp_required=True)
        method = second
    services.clear_failures(user.email)
    login.sign_in(user, method, request.remote_addr)
    return ok(session_json())


@bp.delete("/session")
def delete_session() -> Any:
    login.sign_out()
    return "", 204


@bp.get("/me")
@login_required
def me() -> Any:
    user: User = current_user
    today = clock.today()
    families = [
        family_json(family, role_of(member, today))
        for family, member in family_services.my_memberships(user)
    ]
    return ok({"user": user_json(user), "families": families, "grants": _own_grants(user)})


def _own_grants(user: User) -> list[dict[str, Any]]:
    """A professional's grants; an ended one says only that (and when) access ended."""
    from sqlalchemy import select

    from portal import db
    from portal.access.models import Grant
    from portal.access.policy import grant_state
    from portal.api.serialize import own_grant_json
    from portal.family.models import Family

    now = clock.now()
    rows = []
    for grant in db.session.scalars(select(Grant).where(Grant.grantee_id == user.id)):
        state = grant_state(grant, now)
        ended = state in ("expired", "revoked", "denied", "withdrawn")
        family = None if ended else db.session.get(Family, grant.family_id)
        rows.append(own_grant_json(grant, state, family))
    return rows


@bp.post("/me/totp")
@login_required
def enrol_totp() -> Any:
    user: User = current_user
    if user.totp_enabled:
        raise fail(409, _("Tweestapsverificatie staat aan."))
    payload = json_body() if request.content_length else {}
    code = payload.get("code")
    secret = session.get("totp_enrol_secret")
    if code is None or not secret:
        secret = totp.new_secret()
        session["totp_enrol_secret"] = secret
        return ok({"secret": secret, "otpauth_uri": totp.provisioning_uri(user, secret)}, 201)
    if not isinstance(code, str):
        raise fail(422, errors=[{"field": "code", "message": _("Deze code klopt niet.")}])
    codes = services.enable_totp(user, secret, code[:20])
    if codes is None:
        raise fail(422, errors=[{"field": "code", "message": _("Deze code klopt niet.")}])
    session.pop("totp_enrol_secret", None)
    return ok({"totp_enabled": True, "recovery_codes": codes})
