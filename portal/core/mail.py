"""Outgoing mail through SMTP, sent after the request commits; in development an outbox folder."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from portal import db
from portal.core.urls import external_url as link  # noqa: F401  (mail templates' links)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def send(to: str, template: str, locale: str = "nl", **context: object) -> None:
    """Render `mail/<template>.txt` in the recipient's language and send it once committed.

    The template's first line is the subject.
    """
    with force_locale(locale):
        text = render_template(f"mail/{template}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    mail = Mail(to=to, subject=subject.strip(), body=body.strip() + "\n")
    settings = current_app.config["PORTAL_SETTINGS"]
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def deliver() -> None:
        message = EmailMessage()
        message["From"] = settings.mail_sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain="gezinsportaal.localhost")
        message.set_content(mail.body)
        if settings.mail_backend == "outbox":
            outbox = Path(settings.outbox_dir)
            outbox.mkdir(parents=True, exist_ok=True)
            name = message["Message-ID"].strip("<>").replace("@", "_")
            (outbox / f"{name}.eml").write_bytes(bytes(message))
            app.logger.info("Mail to %s stored in outbox: %s", mail.to, mail.subject)
            return
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException):
            # The user's action has been saved; a lost mail is logged and can be re-sent.
            app.logger.exception("Could not send mail to %s", mail.to)

    db.after_commit(deliver)
