"""What a client event is answered with when it cannot be done: `{ok: false, error: {code,
message}}` (see ../shared/API.md), the message in the user's language, for the page to show."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from portal import db
from portal.core.i18n import choose_locale

log = logging.getLogger(__name__)

# What the database driver raises when it cannot be reached or has gone away; the event could
# not be decided, so it is answered "unavailable" and the page tries again later.
UNREACHABLE = (DBAPIError, PoolTimeout, redis.ConnectionError, redis.TimeoutError, OSError)


def _text(code: str) -> str:
    texts = {
        "bad_request": _("Dit verzoek klopt niet."),
        "unknown_event": _("Dit verzoek kent de portal niet."),
        "unauthorized": _("Je bent niet meer ingelogd. Log opnieuw in."),
        "not_found": _("Dit gesprek of gezin bestaat niet, of je mag het niet zien."),
        "forbidden": _("Dit mag je hier niet doen."),
        "gone": _("De verbinding was al gesloten."),
        "bad_characters": _("Er staan tekens in die de portal niet kan bewaren."),
        "rate_limited": _(
            "Je stuurt veel berichten achter elkaar. Wacht even, dan gaat het verder."
        ),
        "unavailable": _("Dit lukt nu even niet. Je bericht blijft staan; probeer het zo opnieuw."),
        "not_subscribed": _("Open eerst de pagina van het gezin opnieuw."),
        "failed": _("Er ging iets mis. Probeer het opnieuw."),
    }
    if code in texts:
        return texts[code]
    from portal.api.messages import messaging_error_text

    return messaging_error_text(code)


def refusal(code: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": _text(code)}, **extra}


def unavailable() -> dict[str, Any]:
    """`unavailable`, in the language the socket's session or browser asked for: the account's
    own choice cannot be read while the database is away."""
    from flask import request, session

    locale = choose_locale(None, session.get("locale"), request.accept_languages)
    with force_locale(locale):
        return refusal("unavailable")


def as_answer(result: Any) -> Any:
    """A handler's refusal (`{"ok": False, "error": "code"}`) in the contract's shape."""
    if isinstance(result, dict) and result.get("ok") is False:
        error = result.get("error")
        if isinstance(error, str):
            extra = {k: v for k, v in result.items() if k not in ("ok", "error", "message")}
            answer = refusal(error, **extra)
            if isinstance(result.get("message"), str):  # the handler's own words (a count, a limit)
                answer["error"]["message"] = result["message"]
            return answer
    return result


def answered(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Every client event gets an answer: its handler's, or a refusal when the database cannot
    be reached (`unavailable`) or the handler failed (`failed`, logged)."""

    def run(self: Any, *args: Any) -> Any:
        try:
            return as_answer(handler(self, *args))
        except UNREACHABLE as exc:
            _forget_transaction()
            log.warning("live event %s: database unreachable: %s", handler.__name__, exc)
            return unavailable()
        except Exception:
            _forget_transaction()
            log.exception("live event %s failed", handler.__name__)
            return refusal("failed")

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _forget_transaction() -> None:
    try:
        db.rollback()
    except Exception:  # the connection is gone too: drop the session, the next event starts anew
        db.session.remove()
