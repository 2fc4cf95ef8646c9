"""Error responses: friendly pages for people, problem+json (RFC 9457) for API clients."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge


def _titles() -> dict[int, str]:
    return {
        400: _("Er klopt iets niet in het verzoek."),
        401: _("Log eerst in."),
        403: _("Dit mag je niet doen."),
        404: _("Deze pagina bestaat niet, of je mag hem niet zien."),
        405: _("Dit kan op deze manier niet."),
        409: _("Iemand anders heeft dit net veranderd."),
        413: _("Wat je stuurde is te groot."),
        415: _("Dit soort gegevens kunnen we niet lezen."),
        422: _("Controleer wat je hebt ingevuld."),
        429: _("Te veel pogingen. Wacht even en probeer het opnieuw."),
        500: _("Er ging bij ons iets mis. Probeer het later opnieuw."),
        503: _("Dit lukt nu even niet. Probeer het zo opnieuw."),
    }


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response in the user's language."""
    title = _titles().get(status, _("Er ging iets mis."))
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _same_site(url: str | None) -> bool:
    """A link back only to a page of this portal."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        detail = _("De pagina was verlopen. Probeer het nog een keer.")
        if wants_problem_json():
            return problem(400, detail)
        return render_template("errors/error.html", status=400, message=detail), 400

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> Any:
        # The body was never read, so the form cannot be drawn again: say the limit, and send
        # the person back to the form, where the browser usually still holds what they typed.
        limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
        mb = format_decimal(round(limit / (1024 * 1024), 1))
        detail = _("Je kunt hoogstens %(mb)s MB in één keer versturen.", mb=mb)
        if wants_problem_json():
            return problem(413, detail)
        back = request.referrer if _same_site(request.referrer) else None
        return render_template("errors/too_large.html", status=413, mb=mb, back=back), 413

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        headers = dict(exc.get_headers())
        headers.pop("Content-Type", None)
        detail = exc.description if isinstance(exc.description, str) else None
        # Werkzeug's own English descriptions are not for our users.
        if detail and detail == type(exc).description:
            detail = None
        if wants_problem_json():
            return problem(status, detail, headers=headers)
        message = detail or _titles().get(status, _("Er ging iets mis."))
        response = current_app.make_response(
            (render_template("errors/error.html", status=status, message=message), status)
        )
        for key, value in headers.items():
            response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        current_app.logger.exception("Unhandled error")
        from portal import db

        db.rollback()
        if wants_problem_json():
            return problem(500)
        return render_template("errors/error.html", status=500, message=_titles()[500]), 500
