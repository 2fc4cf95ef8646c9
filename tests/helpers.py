"""Helpers for tests: browser-like form posts with CSRF tokens, sign-in, dates."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from portal.auth.models import User
from portal.core import clock

PASSWORD = "correct horse battery"
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


def years_ago(years: int, days: int = 0) -> date:
    today = clock.today()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born - timedelta(days=days)


# --- HTTP helpers -----------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def csrf_token(client: FlaskClient, path: str = "/signin") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def post_form(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST like a browser: fetch the form page first for its CSRF token."""
    token = csrf_token(client, kwargs.pop("form_path", path))
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def sign_in(
    client: FlaskClient, user: User, password: str = PASSWORD, totp_secret: str | None = None
) -> Any:
    """Sign in through the real form; with `totp_secret`, also through the code step."""
    response = post_form(client, "/signin", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    if totp_secret and response.location.endswith("/signin/code"):
        import pyotp

        code = pyotp.TOTP(totp_secret).at(clock.now())
        response = post_form(client, "/signin/code", {"code": code})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


__all__ = ["OUTPUT_DIR", "PASSWORD", "csrf_from", "csrf_token", "post_form", "sign_in", "years_ago"]


def counted_get(app: Any, client: FlaskClient, path: str) -> tuple[Any, int]:
    """GET `path` once to warm up (the first audit row of a family starts its chain), then
    again: that response and the number of statements it took."""
    from bench.common import count_queries

    client.get(path)
    with count_queries(app) as statements:
        response = client.get(path)
    return response, len(statements)


def add_grant(
    app: Any,
    family_id: int,
    grantee_id: int,
    parts: dict[str, str],
    *,
    valid_from: datetime | None = None,
    expires_at: datetime | None = None,
    purpose: str = "Meekijken",
) -> None:
    """An accepted and approved grant (from yesterday for 30 days unless told otherwise)."""
    from portal import db
    from portal.access.models import Grant, GrantPart

    now = clock.now()
    with app.app_context():
        db.session.add(
            Grant(
                family_id=family_id,
                grantee_id=grantee_id,
                origin="invitation",
                purpose=purpose,
                valid_from=valid_from or now - timedelta(days=1),
                expires_at=expires_at or now + timedelta(days=30),
                accepted_at=now,
                approved_at=now,
                parts=[GrantPart(part=part, level=level) for part, level in parts.items()],
            )
        )
        db.session.commit()
        db.session.remove()
