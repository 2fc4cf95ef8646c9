"""Dutch first, English second: the user's choice, else the session's, else Accept-Language."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session
from flask_babel import Babel, get_translations
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept

from config.settings import LOCALES

babel = Babel()


def select_locale() -> str:
    user_locale = current_user.locale if current_user and current_user.is_authenticated else None
    return choose_locale(user_locale, session.get("locale"), request.accept_languages)


def choose_locale(user_locale: object, session_locale: object, accepted: LanguageAccept) -> str:
    """The account's language, else the one chosen in this session, else the browser's best
    match, else Dutch."""
    if user_locale in LOCALES:
        return str(user_locale)
    if session_locale in LOCALES:
        return str(session_locale)
    return accepted.best_match(LOCALES) or "nl"


def _translations() -> Any:
    """Flask-Babel's translations for the current locale, looked up once per locale and request.

    Flask-Babel resolves context, domain and locale on every call (about 20 µs in a template);
    a page with 150 strings spent 3 ms on it. The cache sits next to Flask-Babel's own state
    and is keyed by its locale and domain objects, so `force_locale` (mail in the recipient's
    language) still switches language."""
    state = getattr(g, "_flask_babel", None)
    if state is not None:
        cached = getattr(state, "portal_translations", None)
        if (
            cached is not None
            and cached[0] is getattr(state, "babel_locale", None)
            and cached[1] is getattr(state, "babel_domain", None)
        ):
            return cached[2]
    translations = get_translations()
    state = getattr(g, "_flask_babel", None)
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.portal_translations = (state.babel_locale, state.babel_domain, translations)
    return translations


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["PORTAL_SETTINGS"].default_locale
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Amsterdam"
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
