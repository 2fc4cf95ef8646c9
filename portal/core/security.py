"""Security headers on every response and the session cookie flags."""

from __future__ import annotations

from flask import Flask, Response

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    app.config.update(
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_https,
        # The server-side session ends a fixed time after sign-in, so a cookie re-signed and
        # re-sent on every response (Flask's default) bought nothing and cost each request.
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.is_https,
    )

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        for name, value in headers_for(response.mimetype, settings.is_https):
            h.setdefault(name, value)
        return response


def headers_for(mimetype: str | None, https: bool) -> list[tuple[str, str]]:
    """The security headers of every answer."""
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        # no-referrer: invitation and reset links must never leak through a Referer header.
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    if mimetype == "text/html":
        headers.append(("Cache-Control", "no-store"))
    return headers
