"""Shared pieces of the JSON API: body parsing, validation through the page forms, pagination,
authentication and problem responses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from portal.core.errors import problem
from portal.core.forms import Form

F = TypeVar("F", bound=Callable[..., Any])
FormT = TypeVar("FormT", bound=Form)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class ApiProblem(HTTPException):
    """Raised anywhere in an API view; becomes the given problem+json response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)


def fail(status: int, detail: str | None = None, **extra: Any) -> ApiProblem:
    return ApiProblem(problem(status, detail, **extra))


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400/415 problem that says what is wrong."""
    if not request.is_json:
        raise fail(415, _("Stuur de gegevens als JSON (Content-Type: application/json)."))
    payload = request.get_json(silent=True)
    if payload is None:
        raise fail(400, _("De JSON in het verzoek is niet leesbaar."))
    if not isinstance(payload, dict):
        raise fail(400, _("Stuur een JSON-object met velden."))
    return payload


def validate(form_class: type[FormT], payload: dict[str, Any], **initial: Any) -> FormT:
    """Validate a JSON object with the same form (and messages) the pages use; 422 on errors."""
    data: MultiDict[str, str] = MultiDict()
    type_errors = []
    for key, value in {**initial, **payload}.items():
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[key] = "y"
        elif isinstance(value, int | float | str):
            data[key] = str(value)
        else:
            type_errors.append(
                {"field": key, "message": _("Dit veld moet tekst of een getal zijn.")}
            )
    if type_errors:
        raise fail(422, errors=type_errors)
    form = form_class(formdata=data, meta={"csrf": False})
    if not form.validate():
        errors = [
            {"field": name, "message": str(message)}
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise fail(422, errors=errors)
    return form


def field_error(field: str | None, message: str, status: int = 422) -> ApiProblem:
    if field:
        return fail(status, message, errors=[{"field": field, "message": message}])
    return fail(status, message)


def version_from(payload: dict[str, Any] | None = None) -> int:
    raw = (payload or {}).get("version", request.args.get("version"))
    if isinstance(raw, bool) or raw is None:
        raise field_error("version", _("Stuur de versie mee die je het laatst zag."))
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise field_error("version", _("De versie moet een getal zijn.")) from None


def page_args() -> tuple[int, int | None]:
    """(?limit= at most 200, ?cursor=) with clear errors for nonsense."""
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
        cursor_text = request.args.get("cursor")
        cursor = int(cursor_text) if cursor_text else None
    except ValueError:
        raise fail(400, _("limit en cursor moeten hele getallen zijn.")) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise field_error("limit", _("limit moet tussen 1 en 200 liggen."), 400)
    if cursor is not None and not 0 < cursor < 2**62:
        raise field_error("cursor", _("Deze cursor klopt niet."), 400)
    return limit, cursor


def page(items: list[Any], limit: int, key: Callable[[Any], int]) -> tuple[list[Any], str | None]:
    """Cut a list fetched with limit+1 rows into a page and the next cursor."""
    if len(items) > limit:
        return items[:limit], str(key(items[limit - 1]))
    return items, None


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise fail(401, _("Log eerst in."))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ok(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
