"""Throttling of guesses and of link mails: known and unknown accounts get the same answers
(status, body, headers), what was typed stays, the answer says how long to wait; a
professional's wrong family codes count on the page and over the API; reset and verification
mails are limited per address; the count is one across instances sharing Redis, and goes on in
memory while Redis is away."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import redis
import requests
from flask import Flask
from flask.testing import FlaskClient
from time_machine import TimeMachineFixture
from werkzeug.test import TestResponse

from portal.auth import throttle
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import Family
from tests.access.test_grants import SECRET, coach_client
from tests.api.client import Api, is_problem
from tests.helpers import PASSWORD, post_form
from tests.live.process import portal_server
from tests.support.servers import RedisServer, SmtpServer, free_port

# Two addresses of the same length, so that even Content-Length cannot tell them apart.
KNOWN, UNKNOWN = "known@example.org", "other@example.org"
CSRF_VALUE = re.compile(r'(<input[^>]*name="csrf_token"[^>]*value=")[^"]+"')


def _from(app: Flask, address: str) -> FlaskClient:
    """A browser at its own client address, so that only the account's count differs."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def _page(response: TestResponse, email: str) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers and body with the typed address and the form's CSRF token taken out."""
    body = CSRF_VALUE.sub(r"\1TOKEN", response.get_data(as_text=True).replace(email, "ADDRESS"))
    return response.status_code, sorted(response.headers.items()), body


def test_known_and_unknown_accounts_get_identical_answers(
    app: Flask, make_user: Callable[..., User], time_machine: TimeMachineFixture
) -> None:
    make_user(email=KNOWN)
    # Time stands still, so the two waits are to the second the same.
    time_machine.move_to(datetime.now(UTC), tick=False)
    pages, apis = {}, {}
    for email, address in ((KNOWN, "192.0.2.1"), (UNKNOWN, "192.0.2.2")):
        browser = _from(app, address)
        tries = [
            post_form(browser, "/signin", {"email": email, "password": "wrong password"})
            for _ in range(5)
        ]
        assert [r.status_code for r in tries] == [422] * 5
        limited = post_form(browser, "/signin", {"email": email, "password": PASSWORD})
        assert limited.status_code == 429
        assert f'value="{email}"' in limited.get_data(as_text=True)  # what was typed stays
        assert "Te veel pogingen. Probeer het over 15 minuten opnieuw." in limited.get_data(
            as_text=True
        )
        pages[email] = _page(limited, email)
        apis[email] = Api(_from(app, address)).sign_in(email)
    assert pages[KNOWN] == pages[UNKNOWN]
    assert dict(pages[KNOWN][1])["Retry-After"] == "900"
    known, unknown = apis[KNOWN], apis[UNKNOWN]
    assert is_problem(known, 429) and known.get_json() == unknown.get_json()
    assert sorted(known.headers.items()) == sorted(unknown.headers.items())
    assert known.headers["Retry-After"] == "900"


def test_a_right_answer_clears_the_accounts_count(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(email=KNOWN)
    for _ in range(4):
        assert (
            post_form(client, "/signin", {"email": KNOWN, "password": "wrong"}).status_code == 422
        )
    assert post_form(client, "/signin", {"email": KNOWN, "password": PASSWORD}).status_code == 302
    post_form(client, "/signout", {}, form_path="/families")
    # Four more wrong ones (the client's own count is at 8 of 20) and the account still opens.
    for _ in range(4):
        assert (
            post_form(client, "/signin", {"email": KNOWN, "password": "wrong"}).status_code == 422
        )
    assert post_form(client, "/signin", {"email": KNOWN, "password": PASSWORD}).status_code == 302


def test_one_client_is_throttled_whatever_address_it_tries(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(email=KNOWN)
    for n in range(20):
        wrong = {"email": f"guess{n}@example.org", "password": "wrong"}
        assert post_form(client, "/signin", wrong).status_code == 422
    limited = post_form(client, "/signin", {"email": KNOWN, "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # Another client is not held up by this one.
    elsewhere = _from(client.application, "192.0.2.9")
    assert (
        post_form(elsewhere, "/signin", {"email": KNOWN, "password": PASSWORD}).status_code == 302
    )


def test_wrong_family_codes_are_throttled_on_the_page_and_the_api(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    family = make_family(make_user())
    coach = make_user(
        email="coach@cjg.example",
        kind=KIND_PROFESSIONAL,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )
    other = make_user(
        email="andere@cjg.example",
        kind=KIND_PROFESSIONAL,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )
    guest = coach_client(app, coach)
    form = {"purpose": "Kennismaking na verwijzing", "part_plan": "read"}
    for n in range(4):
        wrong = post_form(guest, "/professional/request", {**form, "code": f"AAAA-AAA{n}"})
        assert wrong.status_code == 422
    api = Api(guest)
    path = f"/families/{family.id}/access-requests"
    body = {"parts": {"plan": "read"}, "purpose": "Gesprek"}
    assert is_problem(api.post(path, {**body, "code": "BBBB-BBBB"}), 404)  # the fifth
    right = {**form, "code": family.invite_code}
    limited = post_form(guest, "/professional/request", right)
    page = limited.get_data(as_text=True)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Te veel pogingen" in page and "Kennismaking na verwijzing" in page
    refused = api.post(path, {**body, "code": family.invite_code})
    assert is_problem(refused, 429) and int(refused.headers["Retry-After"]) > 0
    # Another professional at the same desk still gets in with the right code.
    assert (
        Api(coach_client(app, other)).post(path, {**body, "code": family.invite_code}).status_code
        == 201
    )


def test_link_mails_are_limited_per_address_with_the_same_answer(
    app: Flask,
    make_user: Callable[..., User],
    smtp_server: SmtpServer,
    time_machine: TimeMachineFixture,
) -> None:
    make_user(email=KNOWN)
    time_machine.move_to(datetime.now(UTC), tick=False)
    answers = {}
    for email, address in ((KNOWN, "192.0.2.1"), (UNKNOWN, "192.0.2.2")):
        browser = _from(app, address)
        sent = [post_form(browser, "/reset", {"email": email}).status_code for _ in range(5)]
        assert sent == [200] * 5
        limited = post_form(browser, "/reset", {"email": email})
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3600"
        page = limited.get_data(as_text=True)
        assert f'value="{email}"' in page
        assert "Je hebt al vaak een link gevraagd. Probeer het over 60 minuten opnieuw." in page
        # A new verification link is a link mail too: the same count.
        assert post_form(browser, "/verify/resend", {"email": email}).status_code == 429
        answers[email] = _page(limited, email)
    assert answers[KNOWN] == answers[UNKNOWN]
    smtp_server.wait_for(lambda m: len(smtp_server.messages()) == 5)
    assert [m["To"] for m in smtp_server.messages()] == [KNOWN] * 5  # none after the limit


def _sign_in_over_http(base: str, email: str, password: str) -> requests.Response:
    browser = requests.Session()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        browser.get(f"{base}/signin", timeout=5).text,
    )
    assert token
    return browser.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        allow_redirects=False,
        timeout=5,
    )


def test_the_count_holds_across_instances_sharing_redis(
    app: Flask, database_url: str, make_user: Callable[..., User]
) -> None:
    make_user(email=KNOWN)
    with ExitStack() as stack:
        shared = stack.enter_context(RedisServer())
        one = stack.enter_context(portal_server(database_url, redis_url=shared.url)).base
        two = stack.enter_context(portal_server(database_url, redis_url=shared.url)).base
        for email in (KNOWN, UNKNOWN):
            # Five wrong passwords, spread over both instances behind the proxy ...
            statuses = [
                _sign_in_over_http(base, email, "wrong password").status_code
                for base in (one, two, one, two, one)
            ]
            assert statuses == [422] * 5, email
            # ... and neither instance lets the next one through, right password or not.
            for base in (two, one):
                limited = _sign_in_over_http(base, email, PASSWORD)
                assert limited.status_code == 429, (email, base)
                assert 0 < int(limited.headers["Retry-After"]) <= 900
        keys = redis.Redis.from_url(shared.url).keys("*")
        assert keys and all(b"example.org" not in key for key in keys)  # no addresses in Redis


def test_the_count_goes_on_in_memory_while_redis_is_away(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_user(email=KNOWN)
    settings = app.config["PORTAL_SETTINGS"]
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    kept = app.extensions[throttle.EXTENSION]
    app.extensions[throttle.EXTENSION] = throttle.Throttle(replace(settings, redis_url=nowhere))
    try:
        statuses = [
            post_form(client, "/signin", {"email": KNOWN, "password": "wrong"}).status_code
            for _ in range(6)
        ]
    finally:
        app.extensions[throttle.EXTENSION] = kept
    assert statuses == [422] * 5 + [429]
    assert "shared throttle unavailable" in caplog.text


def test_the_window_passes(
    client: FlaskClient, make_user: Callable[..., User], later: Callable[[timedelta], None]
) -> None:
    make_user(email=KNOWN)
    for _ in range(5):
        post_form(client, "/reset", {"email": KNOWN})
    assert post_form(client, "/reset", {"email": KNOWN}).status_code == 429
    later(timedelta(hours=1))
    assert post_form(client, "/reset", {"email": KNOWN}).status_code == 200
