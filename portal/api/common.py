"""Shared pieces of the JSON API: body parsing, typed validation through the page forms,
pagination, authentication and problem responses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms import BooleanField

from portal.core.args import MAX_ID
from portal.core.errors import problem
from portal.core.forms import Form
from portal.core.sanitize import has_bad_characters

F = TypeVar("F", bound=Callable[..., Any])
FormT = TypeVar("FormT", bound=Form)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Ids and versions beyond this are nonsense; the databases' integers would overflow on them.
# Control characters (tab and newlines are fine) and lone surrogates cannot be stored as text.
_DIGITS = re.compile(r"[0-9]{1,19}")


class ApiProblem(HTTPException):
    """Raised anywhere in an API view; becomes the given problem+json response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)


def fail(status: int, detail: str | None = None, **extra: Any) -> ApiProblem:
    return ApiProblem(problem(status, detail, **extra))


def field_error(field: str | None, message: str, status: int = 422) -> ApiProblem:
    if field is None:
        return fail(status, message)
    return fail(status, message, errors=[{"field": field, "message": message}])


def invalid(errors: list[dict[str, str]]) -> ApiProblem:
    return fail(422, errors=errors)


# --- request bodies -------------------------------------------------------------------------


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400/415 problem that says what is wrong."""
    if not request.is_json:
        raise fail(415, _("Stuur de gegevens als JSON (Content-Type: application/json)."))
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting; json.loads gives up before we do
        payload = None
    if payload is None:
        raise fail(400, _("De JSON in het verzoek is niet leesbaar."))
    if not isinstance(payload, dict):
        raise fail(400, _("Stuur een JSON-object met velden."))
    # One check for every text in the body, however deep: half an emoji (a lone surrogate,
    # which a client sends when it cuts a string in the middle of one) or a control character
    # cannot be stored (PostgreSQL refuses NUL, no database takes a lone surrogate).
    for name, value in payload.items():
        if _has_bad_text(name) or _has_bad_text(value):
            raise field_error(str(name), _("Dit veld bevat tekens die niet zijn toegestaan."))
    return payload


def _has_bad_text(value: object, depth: int = 0) -> bool:
    if isinstance(value, str):
        return has_bad_characters(value)
    if depth > 50:  # json.loads already refused anything much deeper than a client sends
        return False
    if isinstance(value, dict):
        return any(_has_bad_text(k) or _has_bad_text(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_bad_text(v, depth + 1) for v in value)
    return False


def optional_json_body() -> dict[str, Any]:
    """Like json_body, for requests where the body may be left out altogether."""
    if not request.get_data(cache=True):
        return {}
    return json_body()


def text_problem(value: object) -> str | None:
    """Why `value` is not acceptable as text, or None when it is."""
    if not isinstance(value, str):
        return _("Dit veld moet tekst zijn.")
    if has_bad_characters(value):
        return _("Dit veld bevat tekens die niet zijn toegestaan.")
    return None


def validate(
    form_class: type[FormT],
    payload: dict[str, Any],
    *,
    skip: Iterable[str] = ("version",),
    fill: dict[str, str] | None = None,
) -> FormT:
    """Validate a JSON object with the same form (and messages) the pages use; 422 on errors.

    Every form field except those in `skip` may be sent: booleans as true/false, everything else
    as text. Unknown fields and wrong types are errors too. `fill` supplies fields the API does
    not ask for (such as the repeated password of the sign-up page).
    """
    kinds = {
        name: bool if isinstance(field, BooleanField) else str
        for name, field in form_class(formdata=None, meta={"csrf": False})._fields.items()
        if name not in skip
    }
    data: MultiDict[str, str] = MultiDict()
    errors = []
    for key, value in payload.items():
        kind = kinds.get(key)
        if kind is None:
            errors.append({"field": key, "message": _("Dit veld bestaat niet.")})
        elif value is None:
            continue
        elif kind is bool:
            if not isinstance(value, bool):
                errors.append({"field": key, "message": _("Dit veld moet true of false zijn.")})
            elif value:
                data[key] = "y"
        elif (message := text_problem(value)) is not None:
            errors.append({"field": key, "message": message})
        else:
            data[key] = value
    if errors:
        raise invalid(errors)
    for key, value in (fill or {}).items():
        data[key] = value
    form = form_class(formdata=data, meta={"csrf": False})
    if not form.validate():
        raise invalid(
            [
                {"field": name or "", "message": str(message)}
                for name, messages in form.errors.items()
                for message in messages
            ]
        )
    return form


def version_from(payload: dict[str, Any]) -> int:
    """The `version` the client last saw: from the JSON body, else from ?version=."""
    if "version" in payload:
        raw = payload["version"]
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise field_error("version", _("De versie moet een getal zijn."))
        version = raw
    else:
        parsed = _int_arg("version", _("De versie moet een getal zijn."), 422)
        if parsed is None:
            raise field_error("version", _("Stuur de versie mee die je het laatst zag."))
        version = parsed
    if not 0 < version < MAX_ID:
        raise field_error("version", _("De versie moet een getal zijn."))
    return version


# --- query strings and pagination -----------------------------------------------------------


def _int_arg(name: str, message: str, status: int = 400) -> int | None:
    text = request.args.get(name, "")
    if not text:
        return None
    if not _DIGITS.fullmatch(text):
        raise field_error(name, message, status)
    return int(text)


def id_arg(name: str, message: str) -> int | None:
    """An optional positive id in the query string; 400 when it is not one."""
    value = _int_arg(name, message)
    if value is not None and not 0 < value < MAX_ID:
        raise field_error(name, message, 400)
    return value


def day_arg(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    # Far-off years are typing errors, and the day after 9999-12-31 cannot be computed.
    if day is None or not 1900 <= day.year <= 2999:
        raise field_error(name, _("Gebruik een datum als 2026-11-22."), 400)
    return day


def page_args() -> tuple[int, int | None]:
    """(?limit= from 1 to 200, ?cursor=) with clear errors for nonsense."""
    limit_message = _("limit moet tussen 1 en 200 liggen.")
    limit = _int_arg("limit", limit_message)
    if limit is None:
        limit = DEFAULT_LIMIT if "limit" not in request.args else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise field_error("limit", limit_message, 400)
    return limit, id_arg("cursor", _("Deze cursor klopt niet."))


def page(items: list[Any], limit: int, key: Callable[[Any], int]) -> tuple[list[Any], str | None]:
    """Cut a list fetched with limit+1 rows into a page and the next cursor."""
    if len(items) > limit:
        return items[:limit], str(key(items[limit - 1]))
    return items, None


# --- authentication and responses -----------------------------------------------------------


def api_login_required(view: F) -> F:
    """Flask-Login's decorator redirects to the sign-in page; API clients get a 401 problem."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise fail(401, _("Log eerst in."))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


login_required = api_login_required  # the name the first API modules import


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ok(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def no_content() -> Response:
    return Response(status=204)
