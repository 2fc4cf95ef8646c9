"""Accounts: sign-up with e-mail verification through a real SMTP server, sign-in, sign-out,
password reset, argon2id, throttling, session rotation and cookie flags."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import create_app, db
from portal.auth.models import User, UserSession
from portal.core import clock
from tests.conftest import settings_for_tests
from tests.helpers import PASSWORD, csrf_token, post_form, sign_in
from tests.support.servers import SmtpServer, find_link


def signup(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    data = {
        "display_name": "Anna de Vries",
        "email": email,
        "password": password,
        "password_again": password,
        **extra,
    }
    return post_form(client, "/signup", data)


def path_of(url: str) -> str:
    return url.replace("http://localhost", "")


def test_signup_verify_signin_signout(client: FlaskClient, smtp_server: SmtpServer) -> None:
    response = signup(client, "anna@example.org")
    assert response.status_code == 302
    assert response.location.endswith("/signup/check-your-mail")

    # Unverified: the password is right, but sign-in waits for the e-mail link.
    response = post_form(client, "/signin", {"email": "anna@example.org", "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/signin")
    assert client.get("/families").status_code == 302

    mail = smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    assert "Bevestig" in mail["Subject"]
    link = find_link(mail, "http://localhost/verify/")
    assert client.get(path_of(link)).status_code == 302

    sign_in(client, User(email="anna@example.org"))
    assert client.get("/families").status_code == 200

    response = post_form(client, "/signout", {}, form_path="/families")
    assert response.status_code == 302
    assert client.get("/families").status_code == 302


def test_bad_signup_keeps_what_was_typed_and_says_why(client: FlaskClient) -> None:
    response = signup(client, "anna@example.org", password="kort")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="anna@example.org"' in page
    assert 'value="Anna de Vries"' in page
    assert "minstens 10 tekens" in page


def test_signup_with_a_taken_address_looks_the_same_and_mails_the_owner(
    client: FlaskClient, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    make_user(email="taken@example.org")
    fresh = signup(client, "fresh@example.org")
    taken = signup(app_client(client), "taken@example.org")
    assert (fresh.status_code, fresh.location) == (taken.status_code, taken.location)
    mail = smtp_server.wait_for(lambda m: m["To"] == "taken@example.org")
    assert "al een account" in mail["Subject"]


def app_client(client: FlaskClient) -> FlaskClient:
    return client.application.test_client()


def test_verification_link_is_single_use_and_offers_a_new_one(
    client: FlaskClient, smtp_server: SmtpServer
) -> None:
    signup(client, "anna@example.org")
    mail = smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    path = path_of(find_link(mail, "http://localhost/verify/"))
    assert client.get(path).status_code == 302
    again = client.get(path)
    assert again.status_code == 410
    assert "al gebruikt" in again.get_data(as_text=True)
    assert "/verify/resend" in again.get_data(as_text=True)


def test_expired_verification_link_says_so(client: FlaskClient, smtp_server: SmtpServer) -> None:
    signup(client, "anna@example.org")
    mail = smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    clock.advance(timedelta(hours=25))
    response = client.get(path_of(find_link(mail, "http://localhost/verify/")))
    assert response.status_code == 410
    assert "verlopen" in response.get_data(as_text=True)


def test_passwords_are_hashed_with_argon2id(app: Flask, client: FlaskClient) -> None:
    signup(client, "anna@example.org")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "anna@example.org"))
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_wrong_password_and_unknown_address_get_identical_answers(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(email="known@example.org")
    known = post_form(client, "/signin", {"email": "known@example.org", "password": "wrong pw 123"})
    unknown = post_form(
        client, "/signin", {"email": "nobody@example.org", "password": "wrong pw 1"}
    )
    assert known.status_code == unknown.status_code == 422

    def body(r):  # type: ignore[no-untyped-def]
        text = r.get_data(as_text=True).replace("known@", "X@").replace("nobody@", "X@")
        return re.sub(r'value="[^"]*"', "", text)

    assert body(known) == body(unknown)


def test_sign_in_is_throttled_after_repeated_failures(
    client: FlaskClient, make_user: Callable[..., User], later: Callable[[timedelta], None]
) -> None:
    make_user(email="known@example.org")
    for address in ("known@example.org", "nobody@example.org"):
        statuses = [
            post_form(
                client, "/signin", {"email": address, "password": "wrong password"}
            ).status_code
            for _ in range(6)
        ]
        assert statuses[:5] == [422] * 5
        assert statuses[5] == 429, address
    response = post_form(client, "/signin", {"email": "known@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # After the window the right password works again.
    later(timedelta(minutes=16))
    response = post_form(client, "/signin", {"email": "known@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_session_is_rotated_at_sign_in_and_dead_after_sign_out(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker before sign-in"
    sign_in(client, user)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        first_token = sess["_user_id"]
    copied_cookie = client.get_cookie("portal_session")
    assert copied_cookie is not None

    second = app.test_client()
    sign_in(second, user)
    with second.session_transaction() as sess:
        assert sess["_user_id"] != first_token

    post_form(client, "/signout", {}, form_path="/families")
    with app.app_context():
        rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
        assert sorted(r.revoked_at is not None for r in rows) == [False, True]
        db.session.remove()
    # Replaying the cookie copied before sign-out gets nothing.
    thief = app.test_client()
    thief.set_cookie("portal_session", copied_cookie.value)
    response = thief.get("/families")
    assert response.status_code == 302 and "/signin" in response.location
    # The other device is still signed in.
    assert second.get("/families").status_code == 200


def test_cookie_flags(client: FlaskClient, make_user: Callable[..., User], app: Flask) -> None:
    user = make_user()
    response = sign_in(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over http in this app

    settings = app.config["PORTAL_SETTINGS"]
    https_app = create_app(
        settings_for_tests(
            settings.database_url, settings.smtp_port, base_url="https://portal.example"
        )
    )
    https_client = https_app.test_client()
    token = csrf_token(https_client, "/signin")
    response = https_client.post(
        "/signin", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_password_reset_by_mail_link_single_use_and_expiring(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    user = make_user(email="anna@example.org")
    unknown = post_form(client, "/reset", {"email": "nobody@example.org"})
    known = post_form(client, "/reset", {"email": "anna@example.org"})
    assert unknown.status_code == known.status_code == 200

    def page(response: object) -> str:
        # The same page for both, except the form's CSRF token: it carries the second it was
        # signed in, and the two answers can fall on either side of one.
        text = response.get_data(as_text=True)  # type: ignore[attr-defined]
        found = re.subn(r'name="csrf_token"([^>]*)value="[^"]*"', r'name="csrf_token"\1', text)
        assert found[1] == 1, "the form's CSRF field was not where this test expects it"
        return found[0]

    assert page(unknown).replace("nobody", "anna") == page(known)

    mail = smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    path = path_of(find_link(mail, "http://localhost/reset/"))
    response = client.get(path)
    # The token leaves the URL at once.
    assert response.status_code == 302 and response.location.endswith("/reset/new")
    new_password = "a brand new password"
    bad = post_form(client, "/reset/new", {"password": "short", "password_again": "short"})
    assert bad.status_code == 422
    ok = post_form(client, "/reset/new", {"password": new_password, "password_again": new_password})
    assert ok.status_code == 302
    sign_in(app.test_client(), user, password=new_password)

    reused = app.test_client()
    reused.get(path)
    response = reused.get("/reset/new")
    assert response.status_code == 410
    assert "al gebruikt" in response.get_data(as_text=True)


def test_password_reset_link_expires(
    client: FlaskClient, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    make_user(email="anna@example.org")
    post_form(client, "/reset", {"email": "anna@example.org"})
    mail = smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    clock.advance(timedelta(minutes=61))
    client.get(path_of(find_link(mail, "http://localhost/reset/")))
    response = client.get("/reset/new")
    assert response.status_code == 410
    assert "verlopen" in response.get_data(as_text=True)


def test_professional_sign_up_stores_profession_and_organisation(
    app: Flask, client: FlaskClient
) -> None:
    response = post_form(
        client,
        "/signup/professional",
        {
            "display_name": "Linda Bakker",
            "email": "linda@cjg.example",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "profession": "poh_jeugd",
            "organisation": "Huisartsenpraktijk De Linde",
            "register_number": "SKJ-123456",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "linda@cjg.example"))
        assert user is not None
        assert (user.kind, user.profession, user.organisation, user.register_number) == (
            "professional",
            "poh_jeugd",
            "Huisartsenpraktijk De Linde",
            "SKJ-123456",
        )
        db.session.remove()


def test_development_outbox_shows_mails(app: Flask, tmp_path: Path) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    dev = create_app(
        settings_for_tests(
            settings.database_url,
            settings.smtp_port,
            mail_backend="outbox",
            outbox_dir=str(tmp_path),
            environment="development",
        )
    )
    client = dev.test_client()
    assert "nog geen e-mails" in client.get("/dev/outbox").get_data(as_text=True)
    signup(client, "outbox@example.org")
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert "outbox@example.org" in page and "/verify/" in page
