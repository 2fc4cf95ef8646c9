"""Typed settings with environment overrides, validated at start."""

from __future__ import annotations

import json

import pytest

from config import OIDCProvider, Settings, SettingsError


def test_environment_overrides() -> None:
    env = {
        "PORTAL_DATABASE_URL": "postgresql+psycopg://u@db/portal",
        "PORTAL_SMTP_HOST": "mail.example",
        "PORTAL_SMTP_PORT": "2525",
        "PORTAL_BASE_URL": "https://portal.example",
        "PORTAL_DEFAULT_LOCALE": "en",
        "PORTAL_SECRET_KEY": "k" * 40,
        "PORTAL_OIDC_PROVIDERS": json.dumps(
            [
                {
                    "name": "cjg",
                    "label": "CJG",
                    "issuer": "https://id",
                    "client_id": "a",
                    "client_secret": "b",
                }
            ]
        ),
    }
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql")
    assert (settings.smtp_host, settings.smtp_port) == ("mail.example", 2525)
    assert settings.is_https and settings.default_locale == "en"
    assert settings.oidc_providers == (OIDCProvider("cjg", "CJG", "https://id", "a", "b"),)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORTAL_SMTP_PORT": "twenty-five"}, "PORTAL_SMTP_PORT"),
        ({"PORTAL_DEFAULT_LOCALE": "de"}, "PORTAL_DEFAULT_LOCALE"),
        ({"PORTAL_MAIL_BACKEND": "pigeon"}, "PORTAL_MAIL_BACKEND"),
        ({"PORTAL_DATABASE_URL": "mysql://x"}, "PORTAL_DATABASE_URL"),
        ({"PORTAL_OIDC_PROVIDERS": "[{}]"}, "PORTAL_OIDC_PROVIDERS"),
        ({"PORTAL_ENVIRONMENT": "production", "PORTAL_BASE_URL": "https://x"}, "SECRET_KEY"),
        ({"PORTAL_ENVIRONMENT": "production", "PORTAL_SECRET_KEY": "k" * 40}, "https"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def _gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    from pathlib import Path

    for name in ("PORTAL_ASYNC_MODE", "PORTAL_WORKERS", "PORTAL_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = Path(__file__).resolve().parent.parent / "config" / "gunicorn.conf.py"
    settings: dict[str, object] = {}
    exec(compile(path.read_text(), str(path), "exec"), settings)  # noqa: S102 - our own file
    return settings


def test_gunicorn_page_instances_may_run_several_processes_socket_instances_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = _gunicorn_settings(monkeypatch)
    assert (plain["worker_class"], plain["workers"], plain["threads"]) == ("gthread", 1, 8)
    pages = _gunicorn_settings(monkeypatch, PORTAL_WORKERS="2", PORTAL_THREADS="2")
    assert (pages["workers"], pages["threads"]) == (2, 2)
    sockets = _gunicorn_settings(monkeypatch, PORTAL_ASYNC_MODE="gevent", PORTAL_WORKERS="4")
    assert (sockets["worker_class"], sockets["workers"]) == ("gevent", 1)
