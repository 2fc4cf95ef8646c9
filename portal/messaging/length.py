"""How long a message is, counted as every limit in the portal counts (portal/core/textlength),
and the words that say so when it is too long."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from portal.core.textlength import count, normalize_breaks
from portal.messaging.models import MAX_BODY


def clean_body(body: str) -> str:
    """The text as it is stored: no NUL, one kind of line break, no space around it."""
    return normalize_breaks(body.replace("\x00", "")).strip()


def body_length(body: str) -> int:
    return count(clean_body(body))


def too_long_text(limit: int = MAX_BODY, counted: int | str = 0) -> str:
    return _(
        "Een bericht kan hoogstens %(limit)s tekens hebben; dit zijn er %(count)s.",
        limit=format_decimal(limit),
        count=format_decimal(counted) if isinstance(counted, int) else counted,
    )
