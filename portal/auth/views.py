"""Pages for accounts: sign-up, verification, sign-in (password + TOTP), reset, two-factor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portal import db
from portal.auth import api_tokens, login, services, throttle, totp
from portal.auth.forms import (
    ApiTokenForm,
    CodeForm,
    NewPasswordForm,
    ProfessionalSignUpForm,
    ResetRequestForm,
    SignInForm,
    SignUpForm,
)
from portal.auth.models import KIND_FAMILY, KIND_PROFESSIONAL, User
from portal.core import clock
from portal.core.i18n import select_locale

bp = Blueprint("auth", __name__)

PENDING_2FA_MINUTES = 5


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths; anything else could send people to a phishing page."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    return url_for("professional.dashboard" if user.is_professional else "family.index")


def _link_problem(status: str) -> str:
    return {
        "expired": _("Deze link is verlopen."),
        "used": _("Deze link is al gebruikt."),
    }.get(status, _("Deze link klopt niet."))


# --- sign-up ------------------------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    return _signup(SignUpForm(), KIND_FAMILY)


@bp.route("/signup/professional", methods=["GET", "POST"])
def signup_professional() -> Any:
    return _signup(ProfessionalSignUpForm(), KIND_PROFESSIONAL)


def _signup(form: SignUpForm, kind: str) -> Any:
    template = "auth/signup_professional.html" if kind == KIND_PROFESSIONAL else "auth/signup.html"
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template(template, form=form), status
    services.sign_up(
        services.SignUp(
            email=form.email.data or "",
            password=form.password.data or "",
            display_name=(form.display_name.data or "").strip(),
            locale=select_locale(),
            kind=kind,
            **_professional_fields(form),
        )
    )
    session["signup_email"] = services.normalise_email(form.email.data or "")
    return redirect(url_for("auth.check_mail"))


def _professional_fields(form: SignUpForm) -> dict[str, str | None]:
    if not isinstance(form, ProfessionalSignUpForm):
        return {}
    return {
        "profession": form.profession.data,
        "organisation": (form.organisation.data or "").strip(),
        "register_number": (form.register_number.data or "").strip() or None,
    }


@bp.route("/signup/check-your-mail")
def check_mail() -> Any:
    return render_template("auth/check_mail.html", email=session.get("signup_email"))


@bp.route("/verify/<token>")
def verify_email(token: str) -> Any:
    check = services.verify_email(token)
    if check.status == "ok":
        flash(_("Je e-mailadres is bevestigd. Je kunt nu inloggen."), "success")
        if current_user.is_authenticated:
            return redirect(home_for(current_user))
        return redirect(url_for("auth.signin"))
    return render_template(
        "auth/link_problem.html",
        message=_link_problem(check.status),
        retry_url=url_for("auth.resend_verification"),
        retry_label=_("Stuur een nieuwe bevestigingslink"),
    ), 410 if check.status in ("expired", "used") else 404


@bp.route("/verify/resend", methods=["GET", "POST"])
def resend_verification() -> Any:
    form = ResetRequestForm()
    if form.validate_on_submit():
        # Counted per address whether or not it has an account, like the answer.
        if wait := throttle.link_mail(form.email.data or "", request.remote_addr):
            return _throttled(
                "auth/resend.html", wait, throttle.too_many_links_text(wait), form=form
            )
        user = services.find_user(form.email.data or "")
        if user is not None and user.email_verified_at is None:
            services.send_verification(user)
        flash(_("Als dit adres nog niet bevestigd is, krijg je een nieuwe link."), "info")
        return redirect(url_for("auth.signin"))
    return render_template("auth/resend.html", form=form), 422 if request.method == "POST" else 200


# --- sign-in --------------------------------------------------------------------------------


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    if request.method == "POST":
        email = (form.email.data or "")[:254]
        account = throttle.email_account(email)
        if wait := throttle.wait(account, request.remote_addr):
            return _throttled("auth/signin.html", wait, form=form)
        if form.validate():
            user = services.authenticate(email, form.password.data or "")
            if user is not None:
                return _after_password(user)
            throttle.failed(account, request.remote_addr)
        error = _("Het e-mailadres of het wachtwoord klopt niet.")
        return render_template("auth/signin.html", form=form, error=error), 422
    return render_template("auth/signin.html", form=form)


def _throttled(template: str, wait: int, error: str | None = None, **context: Any) -> Response:
    """429 with the page as it was (what was typed stays) and how long to wait."""
    error = error or throttle.too_many_text(wait)
    response = current_app.make_response((render_template(template, error=error, **context), 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _after_password(user: User) -> Response:
    throttle.succeeded(throttle.email_account(user.email))
    if user.email_verified_at is None:
        services.send_verification(user)
        flash(_("Bevestig eerst je e-mailadres. We hebben je een nieuwe link gestuurd."), "info")
        return redirect(url_for("auth.signin"))
    next_url = safe_next(request.args.get("next"))
    if user.totp_enabled:
        session["pending_2fa"] = {
            "user_id": user.id,
            "until": (clock.now() + timedelta(minutes=PENDING_2FA_MINUTES)).isoformat(),
            "next": next_url,
        }
        return redirect(url_for("auth.signin_code"))
    login.sign_in(user, "password", request.remote_addr)
    if user.is_professional:
        return redirect(url_for("auth.totp_enrol"))
    return redirect(next_url or home_for(user))


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    pending = session.get("pending_2fa")
    if not isinstance(pending, dict):
        return None
    try:
        until = clock.now().fromisoformat(pending["until"])
    except (KeyError, TypeError, ValueError):
        return None
    if until < clock.now():
        return None
    user = db.session.get(User, pending.get("user_id"))
    return (user, pending) if user is not None else None


@bp.route("/signin/code", methods=["GET", "POST"])
def signin_code() -> Any:
    found = _pending_user()
    if found is None:
        session.pop("pending_2fa", None)
        flash(_("Log opnieuw in."), "info")
        return redirect(url_for("auth.signin"))
    user, pending = found
    form = CodeForm()
    if request.method == "POST":
        account = throttle.email_account(user.email)
        if wait := throttle.wait(account, request.remote_addr):
            return _throttled("auth/signin_code.html", wait, form=form)
        method = (
            services.check_second_factor(user, form.code.data or "") if form.validate() else None
        )
        if method:
            next_url = pending.get("next")
            login.sign_in(user, method, request.remote_addr)
            throttle.succeeded(account)
            if method == "recovery":
                left = services.remaining_recovery_codes(user)
                flash(_("Je gebruikte een herstelcode. Je hebt er nog %(n)s.", n=left), "info")
            return redirect(safe_next(next_url) or home_for(user))
        throttle.failed(account, request.remote_addr)
        return render_template(
            "auth/signin_code.html", form=form, error=_("Deze code klopt niet.")
        ), 422
    return render_template("auth/signin_code.html", form=form)


@bp.route("/signout", methods=["POST"])
def signout() -> Any:
    login.sign_out()
    flash(_("Je bent uitgelogd."), "success")
    return redirect(url_for("main.index"))


# --- password reset -------------------------------------------------------------------------


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> Any:
    form = ResetRequestForm()
    if form.validate_on_submit():
        # Counted per address whether or not it has an account, like the answer.
        if wait := throttle.link_mail(form.email.data or "", request.remote_addr):
            return _throttled(
                "auth/reset_request.html", wait, throttle.too_many_links_text(wait), form=form
            )
        services.request_password_reset(form.email.data or "")
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/reset_request.html", form=form), (
        422 if request.method == "POST" else 200
    )


@bp.route("/reset/<token>")
def reset_link(token: str) -> Any:
    # Move the token out of the URL at once, so it never shows in history or later requests.
    session["reset_token"] = token
    return redirect(url_for("auth.reset_password"))


@bp.route("/reset/new", methods=["GET", "POST"])
def reset_password() -> Any:
    token = session.get("reset_token")
    check = services.check_link(token or "", services.PURPOSE_RESET)
    if check.status != "ok":
        session.pop("reset_token", None)
        return render_template(
            "auth/link_problem.html",
            message=_link_problem(check.status),
            retry_url=url_for("auth.reset_request"),
            retry_label=_("Vraag een nieuwe link aan"),
        ), 410 if check.status in ("expired", "used") else 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token or "", form.password.data or "")
        session.pop("reset_token", None)
        flash(_("Je wachtwoord is veranderd. Log in met je nieuwe wachtwoord."), "success")
        return redirect(url_for("auth.signin"))
    return render_template("auth/reset_password.html", form=form), (
        422 if request.method == "POST" else 200
    )


# --- two-factor enrolment -------------------------------------------------------------------


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def totp_enrol() -> Any:
    user: User = current_user
    if user.totp_enabled:
        if request.method == "POST":
            return redirect(url_for("auth.totp_enrol"))
        return render_template(
            "auth/totp_status.html", remaining=services.remaining_recovery_codes(user)
        )
    secret = session.get("totp_enrol_secret")
    if not secret:
        secret = totp.new_secret()
        session["totp_enrol_secret"] = secret
    form = CodeForm()
    uri = totp.provisioning_uri(user, secret)
    context = {"form": form, "secret": secret, "qr": totp.qr_data_uri(uri), "uri": uri}
    if form.validate_on_submit():
        codes = services.enable_totp(user, secret, form.code.data or "")
        if codes is not None:
            session.pop("totp_enrol_secret", None)
            flash(_("Tweestapsverificatie staat aan."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
        return render_template(
            "auth/totp_enrol.html", error=_("Deze code klopt niet."), **context
        ), 422
    if request.method == "POST":
        return render_template("auth/totp_enrol.html", **context), 422
    return render_template("auth/totp_enrol.html", **context)


def require_second_factor_for_professionals() -> Any:
    """Professionals signed in with a password must enrol TOTP before anything else."""
    if not current_user.is_authenticated or not login.must_enrol_second_factor(
        current_user, getattr(current_user, "signin_method", "")
    ):
        return None
    allowed = {"auth.totp_enrol", "auth.signout", "static", "main.set_locale", "main.index"}
    # (Not the API-token pages: a professional's token acts with the second factor of the
    # session that made it, so it is made only after enrolment.)
    if request.endpoint in allowed or request.path.startswith("/api/"):
        return None
    flash(_("Zet eerst tweestapsverificatie aan. Dat is verplicht voor professionals."), "info")
    return redirect(url_for("auth.totp_enrol"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notifications() -> Any:
    from portal.messaging.notify import MAIL_CHOICES

    choices = [
        ("15min", _("Als een bericht 15 minuten ongelezen is")),
        ("daily", _("Eén keer per dag een overzicht")),
        ("off", _("Nooit")),
    ]
    if request.method == "POST":
        choice = request.form.get("message_mail", "")
        if choice not in MAIL_CHOICES:
            flash(_("Kies een van de mogelijkheden."), "error")
            return render_template(
                "auth/notifications.html", choices=choices, current=current_user.message_mail
            ), 422
        current_user.message_mail = choice
        if not current_user.is_professional:
            current_user.send_read_receipts = request.form.get("send_read_receipts") == "on"
        flash(_("Je keuze is opgeslagen."), "success")
        return redirect(url_for("auth.notifications"))
    return render_template(
        "auth/notifications.html", choices=choices, current=current_user.message_mail
    )


# --- API tokens -------------------------------------------------------------------------------


def _token_problem(code: str) -> str:
    return {
        "name_required": _("Vul dit veld in."),
        "name_too_long": _("Gebruik hoogstens 80 tekens."),
        "bad_lifetime": _("Kies een van de mogelijkheden."),
        "too_many": _(
            "Je hebt al %(n)s werkende tokens. Trek er eerst een in die je niet meer gebruikt.",
            n=api_tokens.MAX_ACTIVE,
        ),
    }.get(code, _("Dit klopt niet."))


def _tokens_page(form: ApiTokenForm, status: int = 200, created: Any = None) -> Any:
    now = clock.now()
    tokens = [(token, api_tokens.state(token, now)) for token in api_tokens.tokens_of(current_user)]
    return render_template(
        "auth/api_tokens.html", form=form, tokens=tokens, created=created
    ), status


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def api_token_list() -> Any:
    """Personal tokens for the JSON API: make one (shown once), see them, revoke them."""
    form = ApiTokenForm()
    if request.method == "GET":
        return _tokens_page(form)
    if not form.validate_on_submit():
        return _tokens_page(form, 422)
    try:
        created = api_tokens.create(current_user, form.name.data or "", form.days.data or 0)
    except api_tokens.TokenError as exc:
        getattr(form, exc.field).errors = [_token_problem(exc.code)]
        return _tokens_page(form, 422)
    # Shown in this answer only: not put in a flash message, which would travel in the cookie.
    return _tokens_page(ApiTokenForm(formdata=None), 201, created)


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def api_token_revoke(token_id: int) -> Any:
    token = api_tokens.own_token(current_user, token_id)
    if token is None:  # someone else's token is not there for you
        abort(404)
    if request.method == "POST":  # (CSRF is checked for every page form: CSRFProtect)
        if api_tokens.revoke(token):
            flash(
                _("Het token „%(name)s” is ingetrokken. Het werkt niet meer.", name=token.name),
                "success",
            )
        else:
            flash(_("Dit token werkte al niet meer."), "info")
        return redirect(url_for("auth.api_token_list"))
    return render_template("auth/api_token_revoke.html", token=token)
