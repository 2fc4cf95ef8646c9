"""The public pages: welcome, language choice, and the development mail outbox."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from config.settings import LOCALES
from portal.auth.views import home_for, safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("main/welcome.html")


@bp.route("/locale", methods=["POST"])
def set_locale() -> Any:
    """Switch language at any time; remembered on the account when signed in."""
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/dev/outbox")
def outbox() -> Any:
    """Development only: the mails `make run` would have sent, newest first."""
    settings = current_app.config["PORTAL_SETTINGS"]
    if settings.mail_backend != "outbox" or settings.environment == "production":
        abort(404)
    folder = Path(settings.outbox_dir)
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:50]
    mails = []
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(("plain",))
        mails.append(
            {
                "to": message["To"],
                "subject": message["Subject"],
                "body": body.get_content() if body else "",
            }
        )
    return render_template("main/outbox.html", mails=mails)


@bp.route("/health")
def health() -> Any:
    return {"status": "ok"}
