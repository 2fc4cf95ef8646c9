"""Professional sign-in through a real OpenID Connect provider process (oidc-provider-mock):
authorization code flow with PKCE S256, state and nonce checked, account keyed on issuer+subject."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import OIDCProvider
from portal import create_app, db
from portal.auth.models import KIND_PROFESSIONAL, User
from tests.conftest import settings_for_tests
from tests.helpers import csrf_token
from tests.support.servers import OidcProvider


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as server:
        yield server


@pytest.fixture
def oidc_app(app: Flask, provider: OidcProvider) -> Flask:
    settings = app.config["PORTAL_SETTINGS"]
    org = OIDCProvider(
        name="cjg",
        label="CJG Rijnmond",
        issuer=provider.issuer,
        client_id="gezinsportaal",
        client_secret="not-so-secret",
    )
    return create_app(
        settings_for_tests(settings.database_url, settings.smtp_port, oidc_providers=(org,))
    )


def start(client: FlaskClient) -> str:
    token = csrf_token(client, "/signin")
    response = client.post("/signin/oidc/cjg", data={"csrf_token": token})
    assert response.status_code == 302
    return str(response.location)


def back_to_app(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/signin/oidc/cjg/callback"
    return f"{parts.path}?{parts.query}"


def test_sign_in_through_the_organisation(oidc_app: Flask, provider: OidcProvider) -> None:
    provider.set_user("coach-123", {"email": "marieke@cjg.example", "name": "Marieke Coach"})
    client = oidc_app.test_client()
    # The sign-in page offers the organisation.
    assert "CJG Rijnmond" in client.get("/signin").get_data(as_text=True)

    authorize_url = start(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == ["http://localhost/signin/oidc/cjg/callback"]

    with requests.Session() as browser:
        location = provider.authorize(browser, authorize_url, "coach-123")
    response = client.get(back_to_app(location))
    assert response.status_code == 302 and response.location.endswith("/professional")
    # Signed in by the organisation: no local TOTP enrolment is forced.
    assert client.get("/professional").status_code == 200

    with oidc_app.app_context():
        user = db.session.scalar(select(User).where(User.oidc_subject == "coach-123"))
        assert user is not None
        assert (user.kind, user.oidc_issuer, user.email) == (
            KIND_PROFESSIONAL,
            provider.issuer,
            "marieke@cjg.example",
        )
        assert user.organisation == "CJG Rijnmond"
        db.session.remove()

    # Same subject with a changed e-mail claim: the same account (issuer+subject is the key).
    provider.set_user("coach-123", {"email": "m.coach@cjg.example", "name": "Marieke Coach"})
    second = oidc_app.test_client()
    with requests.Session() as browser:
        location = provider.authorize(browser, start(second), "coach-123")
    assert second.get(back_to_app(location)).status_code == 302
    with oidc_app.app_context():
        users = db.session.scalars(select(User).where(User.oidc_subject == "coach-123")).all()
        assert len(users) == 1
        db.session.remove()


def test_a_forged_state_is_refused(oidc_app: Flask, provider: OidcProvider) -> None:
    provider.set_user("coach-9", {"email": "c9@cjg.example"})
    client = oidc_app.test_client()
    with requests.Session() as browser:
        location = provider.authorize(browser, start(client), "coach-9")
    forged = back_to_app(location).replace("state=", "state=forged")
    response = client.get(forged)
    assert response.status_code == 400
    assert "niet gelukt" in response.get_data(as_text=True)
    assert client.get("/professional").status_code == 302  # not signed in


def test_a_callback_cannot_be_replayed_by_another_browser(
    oidc_app: Flask, provider: OidcProvider
) -> None:
    provider.set_user("coach-7", {"email": "c7@cjg.example"})
    victim = oidc_app.test_client()
    with requests.Session() as browser:
        location = provider.authorize(browser, start(victim), "coach-7")
    attacker = oidc_app.test_client()
    response = attacker.get(back_to_app(location))
    assert response.status_code == 400
    assert attacker.get("/professional").status_code == 302


def test_denied_at_the_provider(oidc_app: Flask, provider: OidcProvider) -> None:
    client = oidc_app.test_client()
    authorize_url = start(client)
    with requests.Session() as browser:
        response = browser.post(
            authorize_url, data={"action": "deny"}, allow_redirects=False, timeout=5
        )
    response_location = response.headers["Location"]
    result = client.get(back_to_app(response_location))
    assert result.status_code == 400
    assert "afgebroken" in result.get_data(as_text=True)


def test_an_existing_password_account_is_not_taken_over(
    oidc_app: Flask, provider: OidcProvider, make_user: Callable[..., User]
) -> None:
    make_user(email="taken@cjg.example")
    provider.set_user("coach-x", {"email": "taken@cjg.example"})
    client = oidc_app.test_client()
    with requests.Session() as browser:
        location = provider.authorize(browser, start(client), "coach-x")
    response = client.get(back_to_app(location))
    assert response.status_code == 400
    assert client.get("/professional").status_code == 302
