"""Typed settings with environment overrides, validated when the app starts.

Every variable is `PORTAL_<FIELD NAME IN CAPITALS>`; e.g. PORTAL_DATABASE_URL, PORTAL_SMTP_PORT.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
ENVIRONMENTS = ("development", "production", "test")
MAIL_BACKENDS = ("smtp", "outbox")
LOCALES = ("nl", "en")
# threading: `make run` and the tests; gevent: production /socket.io/ instances (see README).
ASYNC_MODES = ("threading", "gevent")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class OIDCProvider:
    """An organisation's OpenID Connect provider for professional sign-in."""

    name: str  # short slug used in URLs
    label: str  # shown on the sign-in button
    issuer: str  # discovery is read from {issuer}/.well-known/openid-configuration
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'portal.db'}"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    default_locale: str = "nl"
    mail_backend: str = "smtp"
    mail_sender: str = "Gezinsportaal <noreply@gezinsportaal.localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    outbox_dir: str = str(INSTANCE_DIR / "outbox")
    redis_url: str = ""
    # Flask-SocketIO's async mode. gevent needs the process monkey-patched before anything else
    # is imported: `python -m portal` does that itself, gunicorn does it with `-k gevent`.
    async_mode: str = "threading"
    oidc_providers: tuple[OIDCProvider, ...] = ()
    # Request bodies larger than this are refused with 413; upload routes allow a little more
    # than max_upload_bytes, so that a too-large file gets a clear message and the form survives.
    max_content_length: int = 2 * 1024 * 1024
    # One uploaded file (attachment) at most.
    max_upload_bytes: int = 10 * 1024 * 1024
    # Sign-in throttling: failures per address and per client within the window. The same
    # limits hold for second-factor codes and for a professional's guesses at family codes.
    signin_max_failures_per_account: int = 5
    signin_max_failures_per_client: int = 20
    signin_window_seconds: int = 900
    # Mails with a link that anyone may ask for (password reset, a new verification link):
    # requests per address and per client within the window.
    link_mail_max_per_account: int = 5
    link_mail_max_per_client: int = 20
    link_mail_window_seconds: int = 3600
    # argon2id cost; production keeps the library's RFC 9106 low-memory profile.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    session_lifetime_hours: int = 12
    # Messages one person may send at once, and per minute after that (per instance).
    message_burst: int = 20
    message_per_minute: int = 120
    email_token_hours: int = 24
    reset_token_minutes: int = 60
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"PORTAL_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        values.update(overrides)
        return replace(cls(), **values).validated()

    def validated(self) -> Settings:
        if self.environment not in ENVIRONMENTS:
            raise SettingsError(f"PORTAL_ENVIRONMENT must be one of {ENVIRONMENTS}")
        if self.mail_backend not in MAIL_BACKENDS:
            raise SettingsError(f"PORTAL_MAIL_BACKEND must be one of {MAIL_BACKENDS}")
        if self.default_locale not in LOCALES:
            raise SettingsError(f"PORTAL_DEFAULT_LOCALE must be one of {LOCALES}")
        if self.async_mode not in ASYNC_MODES:
            raise SettingsError(f"PORTAL_ASYNC_MODE must be one of {ASYNC_MODES}")
        if not self.base_url.startswith(("http://", "https://")):
            raise SettingsError("PORTAL_BASE_URL must start with http:// or https://")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError("PORTAL_DATABASE_URL must be an sqlite or postgresql URL")
        if self.environment == "production":
            if len(self.secret_key) < 32:
                raise SettingsError("PORTAL_SECRET_KEY must be set (32+ characters) in production")
            if not self.is_https:
                raise SettingsError("PORTAL_BASE_URL must be https in production")
            if self.mail_backend != "smtp":
                raise SettingsError("PORTAL_MAIL_BACKEND must be smtp in production")
        if not self.secret_key:
            return replace(self, secret_key=_development_secret())
        return self


def _parse(name: str, type_name: Any, raw: str) -> Any:
    type_text = str(type_name)
    try:
        if type_text == "int":
            return int(raw)
        if "OIDCProvider" in type_text:
            return tuple(OIDCProvider(**item) for item in json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"PORTAL_{name.upper()} is invalid: {exc}") from exc
    return raw


def _development_secret() -> str:
    """Keep one random key per checkout so development sessions survive restarts."""
    path = INSTANCE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
