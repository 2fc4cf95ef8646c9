"""Accounts and sessions: sign up, sign in (password + TOTP), sign out, who am I, TOTP enrolment."""

from __future__ import annotations

from typing import Any

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.access.policy import role_of
from portal.api import bp
from portal.api.common import (
    api_login_required,
    fail,
    field_error,
    invalid,
    json_body,
    no_content,
    ok,
    optional_json_body,
    text_problem,
    validate,
)
from portal.api.serialize import family_json, user_json
from portal.auth import login, services, throttle, totp
from portal.auth.forms import ProfessionalSignUpForm, SignInForm, SignUpForm
from portal.auth.models import KIND_FAMILY, KIND_PROFESSIONAL, User
from portal.core import clock
from portal.core.i18n import select_locale
from portal.family import services as family_services

MAX_CODE_LENGTH = 64  # TOTP codes have 6 digits, recovery codes 12 characters plus separators


@bp.post("/accounts")
def create_account() -> Any:
    payload = dict(json_body())
    kind = payload.pop("kind", KIND_FAMILY)
    if kind not in (KIND_FAMILY, KIND_PROFESSIONAL):
        raise field_error("kind", _("Ongeldige keuze."))
    form_class = ProfessionalSignUpForm if kind == KIND_PROFESSIONAL else SignUpForm
    # The API has no second password box; the page form's check is satisfied by copying.
    password = payload.get("password")
    fill = {"password_again": password} if isinstance(password, str) else None
    form = validate(form_class, payload, skip=("password_again",), fill=fill)
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
            register_number=(form.register_number.data or "").strip() or None
            if professional
            else None,
        )
    )
    # The same answer whether or not the address already had an account: its owner gets a mail.
    email = services.normalise_email(form.email.data or "")
    return ok({"status": "check_your_mail", "email": email}, 202)


def session_json() -> dict[str, Any]:
    body: dict[str, Any] = {
        "authenticated": current_user.is_authenticated,
        "csrf_token": generate_csrf(),
    }
    if current_user.is_authenticated:
        user: User = current_user
        body["user"] = user_json(user)
        body["totp_enrolment_required"] = (
            user.is_professional
            and not user.totp_enabled
            and getattr(user, "signin_method", "") != "oidc"
        )
    return body


@bp.get("/session")
def get_session() -> Any:
    return ok(session_json())


@bp.post("/session")
def create_session() -> Any:
    payload = dict(json_body())
    code = payload.pop("totp_code", None)
    if code is not None and (message := text_problem(code)) is not None:
        raise invalid([{"field": "totp_code", "message": message}])
    form = validate(SignInForm, payload)
    email, password = form.email.data or "", form.password.data or ""
    # Counted per address whether or not it has an account, so a 429 tells nothing about accounts.
    account = throttle.email_account(email)
    if wait := throttle.wait(account, request.remote_addr):
        raise fail(429, throttle.too_many_text(wait), headers={"Retry-After": str(wait)})
    user = services.authenticate(email, password)
    if user is None:
        throttle.failed(account, request.remote_addr)
        raise fail(401, _("Het e-mailadres of het wachtwoord klopt niet."))
    if user.email_verified_at is None:
        services.send_verification(user)
        raise fail(403, _("Bevestig eerst je e-mailadres. We hebben je een nieuwe link gestuurd."))
    method = "password"
    if user.totp_enabled:
        if not code:
            raise fail(
                401, _("Vul de code van 6 cijfers in die de app laat zien."), totp_required=True
            )
        second = services.check_second_factor(user, str(code)[:MAX_CODE_LENGTH])
        if second is None:
            throttle.failed(account, request.remote_addr)
            raise fail(401, _("Deze code klopt niet."), totp_required=True)
        method = second
    throttle.succeeded(account)
    login.sign_in(user, method, request.remote_addr)
    return ok(session_json())


@bp.delete("/session")
def delete_session() -> Any:
    login.sign_out()  # ends the server-side session row, so a copied cookie is worthless too
    return no_content()


@bp.get("/me")
@api_login_required
def me() -> Any:
    user: User = current_user
    today = clock.today()
    families = [
        family_json(family, role_of(member, today))
        for family, member in sorted(
            family_services.my_memberships(user), key=lambda row: row[0].id
        )
    ]
    return ok({"user": user_json(user), "families": families, "grants": _own_grants(user)})


@bp.patch("/me")
@api_login_required
def update_me() -> Any:
    """Message settings: `message_mail` (15min, daily, off) and, for family members,
    `send_read_receipts`."""
    from portal.messaging.notify import MAIL_CHOICES

    payload = json_body()
    unknown = set(payload) - {"message_mail", "send_read_receipts"}
    if unknown:
        raise field_error(sorted(unknown)[0], _("Dit veld bestaat niet."))
    user: User = current_user
    if "message_mail" in payload:
        if payload["message_mail"] not in MAIL_CHOICES:
            raise field_error("message_mail", _("Kies 15min, daily of off."))
        user.message_mail = payload["message_mail"]
    if "send_read_receipts" in payload:
        value = payload["send_read_receipts"]
        if not isinstance(value, bool):
            raise field_error("send_read_receipts", _("Kies true of false."))
        if user.is_professional and not value:
            raise field_error(
                "send_read_receipts",
                _("Van professionals ziet het gezin altijd of ze een bericht gelezen hebben."),
            )
        user.send_read_receipts = value
    return ok(user_json(user))


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
@api_login_required
def enrol_totp() -> Any:
    """Without a code: a new secret (kept in the session as pending). With {code}: confirm."""
    user: User = current_user
    payload = optional_json_body()
    unknown = sorted(set(payload) - {"code"})
    if unknown:
        raise invalid([{"field": f, "message": _("Dit veld bestaat niet.")} for f in unknown])
    if user.totp_enabled:
        raise fail(409, _("Tweestapsverificatie staat aan."))
    code = payload.get("code")
    if code is None:
        secret = totp.new_secret()
        session["totp_enrol_secret"] = secret
        return ok({"secret": secret, "otpauth_uri": totp.provisioning_uri(user, secret)}, 201)
    if (message := text_problem(code)) is not None:
        raise field_error("code", message)
    pending = session.get("totp_enrol_secret")
    codes = services.enable_totp(user, pending, str(code)[:MAX_CODE_LENGTH]) if pending else None
    if codes is None:
        raise field_error("code", _("Deze code klopt niet."))
    session.pop("totp_enrol_secret", None)
    return ok({"totp_enabled": True, "recovery_codes": codes})
