"""TOTP enrolment with a QR code, sign-in with a code, single-use recovery codes, and the
professional's mandatory two-factor."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pyotp
from flask.testing import FlaskClient

from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from tests.helpers import PASSWORD, post_form, sign_in


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page)
    assert secret
    wrong = post_form(client, "/account/two-factor", {"code": "000000"})
    assert wrong.status_code == 422 and "klopt niet" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret.group(1)).at(clock.now())
    page = post_form(client, "/account/two-factor", {"code": code}).get_data(as_text=True)
    codes = re.findall(r"<li><code>([0-9a-f-]{14})</code></li>", page)
    assert len(codes) == 10
    return secret.group(1), codes


def password_step(client: FlaskClient, user: User) -> None:
    response = post_form(client, "/signin", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/signin/code")


def test_enrol_then_sign_in_needs_the_code(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    sign_in(client, user)
    secret, _codes = enrol(client)
    post_form(client, "/signout", {}, form_path="/families")

    fresh = client.application.test_client()
    password_step(fresh, user)
    # The password alone is not a session.
    assert fresh.get("/families").status_code == 302
    bad = post_form(fresh, "/signin/code", {"code": "123456"})
    assert bad.status_code == 422
    # The enrolment code's step is used up; the next step's code is accepted.
    clock.advance(timedelta(seconds=30))
    good = post_form(fresh, "/signin/code", {"code": pyotp.TOTP(secret).at(clock.now())})
    assert good.status_code == 302
    assert fresh.get("/families").status_code == 200


def test_a_code_cannot_be_used_twice(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user()
    sign_in(client, user)
    secret, _ = enrol(client)
    post_form(client, "/signout", {}, form_path="/families")
    clock.advance(timedelta(seconds=30))
    code = pyotp.TOTP(secret).at(clock.now())
    first = client.application.test_client()
    password_step(first, user)
    assert post_form(first, "/signin/code", {"code": code}).status_code == 302
    second = client.application.test_client()
    password_step(second, user)
    assert post_form(second, "/signin/code", {"code": code}).status_code == 422


def test_recovery_code_works_once(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user()
    sign_in(client, user)
    _secret, codes = enrol(client)
    post_form(client, "/signout", {}, form_path="/families")

    first = client.application.test_client()
    password_step(first, user)
    response = post_form(first, "/signin/code", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert first.get("/families").status_code == 200

    again = client.application.test_client()
    password_step(again, user)
    assert post_form(again, "/signin/code", {"code": codes[0]}).status_code == 422


def test_professionals_must_enrol_before_anything_else(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    pro = make_user(kind=KIND_PROFESSIONAL)
    response = sign_in(client, pro)
    assert response.location.endswith("/account/two-factor")
    blocked = client.get("/professional")
    assert blocked.status_code == 302 and blocked.location.endswith("/account/two-factor")
    enrol(client)
    assert client.get("/professional").status_code == 200
