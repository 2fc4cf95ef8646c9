"""Template helpers: language, dates in the user's language and time zone, navigation."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale, to_user_timezone
from markupsafe import Markup

from portal.core.sanitize import render_markdown


# Babel builds its formatter anew for every value (about 50 µs); a list page shows two dates per
# row. The text depends only on the value, the style and the language (one time zone for all),
# so recent results are kept. The locale is part of the key; the lookup inside uses the same.
@lru_cache(maxsize=8192)
def _datetime_text(value: datetime, style: str, _locale: str) -> str:
    return format_datetime(value, style)


@lru_cache(maxsize=4096)
def _date_text(value: date, style: str, _locale: str) -> str:
    return format_date(value, style)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        locale = get_locale()
        return {
            "current_locale": str(locale) if locale else "nl",
            "portal_settings": app.config["PORTAL_SETTINGS"],
        }

    @app.template_filter("when")
    def _when(value: datetime | None, style: str = "medium") -> str:
        return _datetime_text(value, style, str(get_locale())) if value else ""

    @app.template_filter("markdown")
    def _markdown(value: str | None) -> Markup:
        # The one way user Markdown becomes HTML: through the sanitizer, never `|safe`.
        return render_markdown(value or "")

    @app.template_filter("day")
    def _day(value: date | None, style: str = "long") -> str:
        return _date_text(value, style, str(get_locale())) if value else ""

    @app.template_filter("on_day")
    def _on_day(value: datetime | None) -> str:
        # The day of a moment as people write it ("7 december 2026"), in the reader's zone.
        if not value:
            return ""
        return _date_text(to_user_timezone(value).date(), "long", str(get_locale()))

    @app.template_filter("number")
    def _number(value: int) -> str:
        return format_decimal(value)  # 1.000 in Dutch, 1,000 in English

    @app.template_filter("filesize")
    def _filesize(value: int) -> str:
        # Sizes as people say them: "850 kB", "2,4 MB" (decimal comma in Dutch).
        if value < 1000 * 1000:
            return f"{max(1, round(value / 1000))} kB"
        return format_decimal(round(value / (1000 * 1000), 1)) + " MB"
