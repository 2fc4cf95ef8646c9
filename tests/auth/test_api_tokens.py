"""Personal API bearer tokens: made in the settings and shown once, acting through the same
policy as the owner's pages, without CSRF, never on pages, ending at once when revoked,
expired or after a password reset."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import db
from portal.access.models import AuditEvent
from portal.auth import api_tokens, services
from portal.auth.models import KIND_PROFESSIONAL, ApiToken, User
from portal.core import clock
from portal.family.models import Family
from tests.api.client import check_against_document, is_problem
from tests.helpers import csrf_from, csrf_token, sign_in

SECRET = re.compile(r'value="(gpt_[A-Za-z0-9_-]{43})"')
PAGE = "/account/api-tokens"


def make_token(client: FlaskClient, name: str = "Mijn script", days: int = 90) -> str:
    """Make a token through the settings page, as its owner would; returns the secret."""
    page = client.get(PAGE).get_data(as_text=True)
    response = client.post(PAGE, data={"csrf_token": csrf_from(page), "name": name, "days": days})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    found = SECRET.search(response.get_data(as_text=True))
    assert found, "the new token is shown"
    return found.group(1)


def bearer(app: Flask, secret: str, method: str, path: str, body: object = None) -> object:
    """An API call with the token only: a fresh client, no cookie, no CSRF header."""
    client = app.test_client()
    url = f"/api/v1{path}"
    response = client.open(
        url, method=method, json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    check_against_document(app, method, url, response)
    return response


def stored_token(app: Flask, secret: str) -> ApiToken | None:
    with app.app_context():
        token = db.session.scalar(
            select(ApiToken).where(ApiToken.prefix == secret[: api_tokens.SHOWN_PREFIX])
        )
        db.session.remove()
    return token


def test_a_token_is_made_in_the_settings_and_shown_once(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user())
    empty = client.get(PAGE).get_data(as_text=True)
    assert "Je hebt nog geen tokens." in empty
    # A missing name: a clear message, the choice of lifetime kept.
    refused = client.post(PAGE, data={"csrf_token": csrf_from(empty), "name": " ", "days": "30"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Vul dit veld in." in text and '<option selected value="30">' in text
    secret = make_token(client, "Agenda-koppeling", 30)
    listed = client.get(PAGE).get_data(as_text=True)
    assert "Agenda-koppeling" in listed and secret[:8] + "…" in listed
    assert secret not in listed, "the token itself is shown only once"
    token = stored_token(app, secret)
    assert token is not None and token.token_hash != secret and secret not in token.token_hash
    assert timedelta(days=29, hours=23) < token.expires_at - token.created_at <= timedelta(days=30)
    assert token.created_with == "password" and token.last_used_at is None


def test_a_token_acts_as_its_owner_without_csrf_through_the_policy(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    owner = make_user(name="Ouder")
    family = make_family(owner)
    other = make_family(make_user(), name="Gezin Anders")
    sign_in(client, owner)
    secret = make_token(client)
    me = bearer(app, secret, "GET", "/me")
    assert me.status_code == 200 and me.get_json()["user"]["display_name"] == "Ouder"
    # A write without any CSRF token: a bearer request needs none.
    changed = bearer(app, secret, "PATCH", "/me", {"message_mail": "daily"})
    assert changed.status_code == 200 and changed.get_json()["message_mail"] == "daily"
    assert bearer(app, secret, "GET", f"/families/{family.id}").status_code == 200
    with app.app_context():
        denied_before = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
        )
    # Another family's object is a 404, and the refusal is in the log, as with the cookie.
    assert is_problem(bearer(app, secret, "GET", f"/families/{other.id}"), 404)
    with app.app_context():
        denied_after = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
        )
    assert denied_after == (denied_before or 0) + 1
    used = stored_token(app, secret)
    assert used is not None and used.last_used_at is not None


def test_a_token_does_not_open_pages_or_the_session(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user())
    secret = make_token(client)
    fresh = app.test_client()
    page = fresh.get("/families", headers={"Authorization": f"Bearer {secret}"})
    assert page.status_code == 302 and "/signin" in page.location
    for method, path in (("POST", "/session"), ("DELETE", "/session"), ("POST", "/me/totp")):
        answer = bearer(app, secret, method, path, {} if method == "POST" else None)
        assert is_problem(answer, 400) and answer.get_json()["session_required"] is True
    assert bearer(app, secret, "GET", "/me").status_code == 200, "DELETE /session ended nothing"


def test_a_token_that_does_not_work_is_a_401_everywhere(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user())
    real = make_token(client)
    for wrong in ("gpt_" + "x" * 43, real[:-1], "", "not-a-token", real + " extra"):
        answer = bearer(app, wrong, "GET", "/me")
        assert is_problem(answer, 401), wrong
        assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # Also on a public path: a client that sends a token learns that it does not work.
    public = bearer(app, "gpt_" + "y" * 43, "GET", "/session")
    assert is_problem(public, 401)
    # The cookie is no fallback: a signed-in browser sending a bad token is refused too.
    mixed = client.get("/api/v1/me", headers={"Authorization": "Bearer gpt_wrong"})
    assert is_problem(mixed, 401)


def test_revoking_asks_first_and_works_at_once(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user())
    secret = make_token(client, "Oud script")
    keep = make_token(client, "Nieuw script")
    token = stored_token(app, secret)
    assert token is not None
    path = f"{PAGE}/{token.id}/revoke"
    confirm = client.get(path).get_data(as_text=True)
    assert "„Oud script” intrekken?" in confirm and "Ja, intrekken" in confirm
    assert bearer(app, secret, "GET", "/me").status_code == 200, "asking revoked nothing"
    done = client.post(path, data={"csrf_token": csrf_from(confirm)})
    assert done.status_code == 302 and done.location.endswith(PAGE)
    assert is_problem(bearer(app, secret, "GET", "/me"), 401)
    assert bearer(app, keep, "GET", "/me").status_code == 200, "only that token ended"
    listed = client.get(PAGE).get_data(as_text=True)
    assert "Het token „Oud script” is ingetrokken." in listed and "Ingetrokken op" in listed


def test_someone_elses_token_is_not_there(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user())
    secret = make_token(client)
    token = stored_token(app, secret)
    assert token is not None
    stranger = app.test_client()
    sign_in(stranger, make_user())
    path = f"{PAGE}/{token.id}/revoke"
    assert stranger.get(path).status_code == 404
    assert stranger.post(path, data={"csrf_token": csrf_token(stranger, PAGE)}).status_code == 404
    assert "Mijn script" not in stranger.get(PAGE).get_data(as_text=True)
    assert bearer(app, secret, "GET", "/me").status_code == 200


def test_a_token_ends_when_it_expires_and_with_a_password_reset(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    sign_in(client, user)
    short = make_token(client, "Kort", 30)
    long = make_token(client, "Lang", 365)
    clock.advance(timedelta(days=30, minutes=1))
    assert is_problem(bearer(app, short, "GET", "/me"), 401)
    assert bearer(app, long, "GET", "/me").status_code == 200
    sign_in(client, user)  # (the browser session itself ended meanwhile)
    assert "Verlopen" in client.get(PAGE).get_data(as_text=True)
    with app.test_request_context():
        link = services.issue_link(
            services.PURPOSE_RESET,
            user.email,
            timedelta(hours=1),
            user=db.session.get(User, user.id),
        )
        assert services.reset_password(link, "een heel nieuw wachtwoord").status == "ok"
        db.session.commit()
    assert is_problem(bearer(app, long, "GET", "/me"), 401)


def test_tokens_are_limited_and_last_use_is_kept_without_a_write_per_request(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user())
    secrets = [make_token(client, f"Token {n}") for n in range(api_tokens.MAX_ACTIVE)]
    page = client.get(PAGE).get_data(as_text=True)
    refused = client.post(PAGE, data={"csrf_token": csrf_from(page), "name": "Eén te veel"})
    assert refused.status_code == 422
    assert "Je hebt al 10 werkende tokens." in refused.get_data(as_text=True)
    assert 'value="Eén te veel"' in refused.get_data(as_text=True), "what was typed is kept"
    bearer(app, secrets[0], "GET", "/me")
    first = stored_token(app, secrets[0])
    clock.advance(timedelta(minutes=1))
    bearer(app, secrets[0], "GET", "/me")
    again = stored_token(app, secrets[0])
    assert first is not None and again is not None and again.last_used_at == first.last_used_at
    clock.advance(api_tokens.LAST_USED_STEP)
    bearer(app, secrets[0], "GET", "/me")
    later = stored_token(app, secrets[0])
    assert later is not None and first.last_used_at is not None
    assert later.last_used_at is not None and later.last_used_at > first.last_used_at


def test_a_professionals_token_carries_the_second_factor_of_its_session(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    coach = make_user(kind=KIND_PROFESSIONAL, totp_secret=totp_secret, totp_enabled_at=clock.now())
    sign_in(client, coach, totp_secret=totp_secret)
    secret = make_token(client)
    token = stored_token(app, secret)
    assert token is not None and token.created_with == "totp"
    me = bearer(app, secret, "GET", "/me")
    assert me.status_code == 200 and me.get_json()["user"]["kind"] == "professional"
