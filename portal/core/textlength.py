"""What a "character" is when the portal counts text against a limit, in one place.

A character is one Unicode code point, after line breaks are made one: a browser posts a line
break in a text box as CR LF, while its own `value` holds LF, so counting the raw post would make
a text with many lines "longer" on the server than on the page. static/js/textlength.js mirrors
count() exactly (tests/e2e/test_message_length.py runs both on the same strings in a browser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from wtforms import validators


def normalize_breaks(text: str) -> str:
    """CR LF and a lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def count(text: str) -> int:
    """The length of `text` as every limit in the portal counts it."""
    return len(normalize_breaks(text))


def too_long_text(limit: int, counted: int | str) -> str:
    """`counted` as a string is a placeholder the page's script fills in ("{count}")."""
    return _(
        "Hier passen hoogstens %(limit)s tekens; je hebt er %(count)s.",
        limit=format_decimal(limit),
        count=format_decimal(counted) if isinstance(counted, int) else counted,
    )


class Length(validators.Length):
    """WTForms' Length, counting as count() does and saying both numbers when text is too long.

    It sets no `maxlength` on the field: a browser silently cuts pasted text at maxlength, and
    nothing typed may be cut without a word. The limit reaches the page as the `max_chars` flag
    instead (shown by the field macro; static/js/textlength.js guards it before sending)."""

    def __init__(
        self,
        min: int = -1,
        max: int = -1,
        message: str | None = None,
        too_long: Callable[[int, int | str], str] = too_long_text,
    ) -> None:
        super().__init__(min=min, max=max, message=message)
        self.field_flags = {"max_chars": max} if max != -1 else {}
        self.too_long = too_long

    def too_long_text(self, counted: int | str) -> str:
        return self.too_long(self.max, counted)

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data if isinstance(field.data, str) else ""
        counted = count(data)
        if self.max != -1 and counted > self.max:
            raise validators.ValidationError(self.too_long_text(counted))
        if self.min != -1 and counted < self.min:
            super().__call__(form, field)
