"""Security headers, CSRF on every form, and no 500 for anything a client can send."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.family.models import Family
from tests.helpers import csrf_from, csrf_token, sign_in


def test_security_headers_on_pages_and_api(client: FlaskClient) -> None:
    for path in ("/", "/signin", "/api/v1/openapi.json", "/does-not-exist"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_every_form_post_without_csrf_token_is_refused(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    user = make_user()
    family = make_family(user)
    sign_in(client, user)
    posted = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        url = (
            re.sub(r"<int:\w+>", "1", rule.rule.replace("<int:family_id>", str(family.id)))
            .replace("<token>", "x")
            .replace("<name>", "x")
        )
        response = client.post(url, data={"display_name": "zonder token"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without CSRF token"
        assert "verlopen" in response.get_data(as_text=True)
        posted += 1
    assert posted >= 10


NASTY_VALUES: list[object] = [
    "",
    "x" * 100_000,
    "\x00\x01\x02",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "2026-02-30",
    "-1",
    "9" * 40,
    "²",  # a digit to str.isdigit(), not to int()
    "%s%s%n",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


def fill(rule: str, family_id: int, value: str) -> str:
    return (
        re.sub(r"<int:\w+>", "1", rule.replace("<int:family_id>", str(family_id)))
        .replace("<path:filename>", "css/portal.css")
        .replace("<token>", value or "x")
        .replace("<name>", value or "x")
    )


@pytest.mark.parametrize("value_index", range(len(NASTY_VALUES)))
def test_no_500_for_malformed_input_anywhere(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    value_index: int,
) -> None:
    value = str(NASTY_VALUES[value_index])
    user = make_user()
    family = make_family(user)
    sign_in(client, user)
    token = csrf_token(client, "/families")
    fields = [
        "email",
        "password",
        "password_again",
        "display_name",
        "name",
        "my_name",
        "household",
        "role",
        "birth_date",
        "has_authority",
        "relation",
        "invite",
        "version",
        "code",
        "locale",
        "next",
        "profession",
        "organisation",
        "register_number",
        "limit",
        "cursor",
        "before",
        "after",
        "goal_id",
        "goals",
        "agreements",
        "owner",
        "member_id",
        "participants",
        "restore",
        "q",
    ]
    for rule in app.url_map.iter_rules():
        # Some routes end the session (sign-out, ending sessions); the rest must still be tried
        # signed in, or most of the app would only ever see an anonymous visitor here.
        if client.get("/api/v1/me").status_code == 401:
            sign_in(client, user)
            token = csrf_token(client, "/families")
        url = fill(rule.rule, family.id, value[:200].replace("/", "_").replace("?", "_"))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                responses = [client.get(url, query_string={f: value for f in fields})]
            else:
                form = {f: value for f in fields}
                responses = [
                    client.open(url, method=method, data={"csrf_token": token, **form}),
                    client.open(
                        url,
                        method=method,
                        data="{not json",
                        headers={"Content-Type": "application/json", "X-CSRFToken": token},
                    ),
                    client.open(
                        url,
                        method=method,
                        data=json.dumps({f: [value] for f in fields}),
                        headers={"Content-Type": "application/json", "X-CSRFToken": token},
                    ),
                    client.open(
                        url,
                        method=method,
                        data=json.dumps([1, 2, 3]),
                        headers={"Content-Type": "application/json", "X-CSRFToken": token},
                    ),
                ]
            for response in responses:
                assert response.status_code < 500, f"{method} {url} -> {response.status_code}"
        # A signed-out visitor must not be able to cause a 500 either.
    assert client.get("/").status_code < 500


def test_oversized_request_body_is_refused_clearly(client: FlaskClient) -> None:
    token = csrf_token(client, "/signup")
    response = client.post(
        "/signup", data={"csrf_token": token, "display_name": "x" * (3 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert "te groot" in response.get_data(as_text=True)


def test_nul_characters_in_form_text_are_dropped_not_a_500(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    """PostgreSQL refuses NUL in text; a page form drops it instead of failing."""
    user = make_user()
    family = make_family(user)
    sign_in(client, user)
    page = client.get(f"/families/{family.id}/dossier/new").get_data(as_text=True)
    from tests.helpers import csrf_from

    response = client.post(
        f"/families/{family.id}/dossier/new",
        data={
            "csrf_token": csrf_from(page),
            "title": "Brief\x00 van school",
            "body": "Tekst\x00 hier",
        },
    )
    assert response.status_code == 302
    shown = client.get(f"/families/{family.id}/dossier").get_data(as_text=True)
    assert "Brief van school" in shown and "Tekst hier" in shown


def test_the_session_cookie_is_set_at_sign_in_and_not_resent_with_every_page(
    client: FlaskClient, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    signed_in = sign_in(client, mother)
    assert "portal_session=" in signed_in.headers.get("Set-Cookie", "")
    assert "Expires=" in signed_in.headers["Set-Cookie"]  # ends with the server session
    client.get(f"/families/{family.id}")  # the first form of the session stores its CSRF secret
    page = client.get(f"/families/{family.id}")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    signed_out = client.post(
        "/signout", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert "portal_session=" in signed_out.headers.get("Set-Cookie", "")
    assert client.get(f"/families/{family.id}").status_code == 302
