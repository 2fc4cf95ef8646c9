"""Dutch first, English second: the user's choice, else the session's, else Accept-Language."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel
from flask_login import current_user

from config.settings import LOCALES

babel = Babel()


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(LOCALES)
    return best or "nl"


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["PORTAL_SETTINGS"].default_locale
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Amsterdam"
    babel.init_app(app, locale_selector=select_locale)
