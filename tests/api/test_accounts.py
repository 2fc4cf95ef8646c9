"""Sign-up, sign-in (throttle, verification, TOTP), sign-out, /me and TOTP enrolment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyotp
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import Family
from tests.api.client import Api, error_fields, is_problem
from tests.helpers import PASSWORD
from tests.support.servers import SmtpServer, find_link

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_now(secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_sign_up_answers_the_same_for_new_and_existing_addresses(
    app: Flask, api: Api, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    make_user(email="taken@example.org")
    body = {"password": PASSWORD, "display_name": "Nieuw"}
    new = api.post("/accounts", {**body, "email": "New@Example.org"})
    taken = api.post("/accounts", {**body, "email": "taken@example.org"})
    assert new.status_code == taken.status_code == 202
    assert new.get_json() == {"status": "check_your_mail", "email": "new@example.org"}
    assert taken.get_json() == {"status": "check_your_mail", "email": "taken@example.org"}
    assert user_count(app) == 2
    verify = smtp_server.wait_for(lambda m: m["To"] == "new@example.org")
    assert "/verify/" in verify.get_content()
    owner = smtp_server.wait_for(lambda m: m["To"] == "taken@example.org")
    assert "/verify/" not in owner.get_content()


def test_professional_sign_up(app: Flask, api: Api) -> None:
    body = {
        "email": "coach@example.org",
        "password": PASSWORD,
        "display_name": "Coach",
        "kind": "professional",
    }
    missing = api.post("/accounts", body)
    assert is_problem(missing, 422)
    assert error_fields(missing) == {"organisation", "profession"}
    full = {**body, "profession": "cjg_coach", "organisation": " CJG ", "register_number": "123"}
    assert api.post("/accounts", full).status_code == 202
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "coach@example.org"))
        assert user is not None and user.kind == KIND_PROFESSIONAL
        assert (user.profession, user.organisation, user.register_number) == (
            "cjg_coach",
            "CJG",
            "123",
        )


def test_sign_up_validation_in_the_users_language(api: Api) -> None:
    response = api.post("/accounts", {"email": "nope", "password": "kort", "display_name": ""})
    assert is_problem(response, 422)
    assert response.get_json()["errors"] == [
        {"field": "display_name", "message": "Vul dit veld in."},
        {"field": "email", "message": "Dit lijkt geen geldig e-mailadres."},
        {"field": "password", "message": "Kies een wachtwoord van minstens 10 tekens."},
    ]
    english = api.post("/accounts", {"email": "x@example.org"}, headers={"Accept-Language": "en"})
    assert is_problem(english, 422)
    assert {"field": "password", "message": "Please fill in this field."} in english.get_json()[
        "errors"
    ]
    assert english.get_json()["title"] != response.get_json()["title"]
    odd = api.post(
        "/accounts",
        {"email": ["a"], "password": 12345678901, "display_name": "x", "kind": "alien", "x": 1},
    )
    assert is_problem(odd, 422) and error_fields(odd) == {"kind"}
    odd = api.post(
        "/accounts",
        {"email": ["a"], "password": 12345678901, "display_name": "x", "password_again": "y"},
    )
    assert is_problem(odd, 422)
    assert error_fields(odd) == {"email", "password", "password_again"}
    assert is_problem(api.post("/accounts", {**{"email": "a@b.nl"}, "password": "x" * 201}), 422)


def test_sign_in_needs_a_verified_address(
    api: Api, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    make_user(email="new@example.org", verified=False)
    refused = api.sign_in("new@example.org")
    assert is_problem(refused, 403)
    assert api.get("/session").get_json()["authenticated"] is False
    mail = smtp_server.wait_for(lambda m: m["To"] == "new@example.org")
    api.client.get(find_link(mail, "http://localhost/verify/").replace("http://localhost", ""))
    response = api.sign_in("new@example.org")
    assert response.status_code == 200
    session = response.get_json()
    assert session["authenticated"] is True and session["csrf_token"]
    assert session["user"]["email"] == "new@example.org"
    assert session["totp_enrolment_required"] is False


def test_wrong_passwords_are_throttled_identically_for_unknown_addresses(
    api: Api, make_user: Callable[..., User], later: Callable[[timedelta], None]
) -> None:
    make_user(email="known@example.org")
    known = api.sign_in("known@example.org", "wrong password")
    unknown = api.sign_in("nobody@example.org", "wrong password")
    assert is_problem(known, 401) and known.get_json() == unknown.get_json()
    for _ in range(4):
        api.sign_in("known@example.org", "wrong password")
        api.sign_in("nobody@example.org", "wrong password")
    limited_known = api.sign_in("known@example.org")  # even the right password waits now
    limited_unknown = api.sign_in("nobody@example.org")
    assert is_problem(limited_known, 429) and is_problem(limited_unknown, 429)
    assert limited_known.get_json() == limited_unknown.get_json()
    assert limited_known.headers["Retry-After"] == limited_unknown.headers["Retry-After"]
    assert 0 < int(limited_known.headers["Retry-After"]) <= 900
    later(timedelta(seconds=int(limited_known.headers["Retry-After"])))
    assert api.sign_in("known@example.org").status_code == 200


def test_sign_out_ends_the_server_side_session(
    app: Flask, api: Api, make_user: Callable[..., User]
) -> None:
    user = make_user()
    assert api.sign_in(user.email).status_code == 200
    cookie = api.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    assert api.get("/me").status_code == 200
    assert api.delete("/session").status_code == 204
    assert is_problem(api.get("/me"), 401)
    assert api.get("/session").get_json()["authenticated"] is False
    # Replaying the old cookie does not bring the session back.
    thief = Api(app.test_client())
    thief.client.set_cookie(cookie.key, cookie.value)
    assert is_problem(thief.get("/me"), 401)


def test_me_lists_my_families_with_my_role(
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., object],
) -> None:
    user, other = make_user(name="Anna"), make_user()
    mine = make_family(user, "Gezin A")
    theirs = make_family(other, "Gezin B")
    add_member(theirs, user, "network")
    make_family(other, "Gezin C")
    me = api_for(user).get("/me").get_json()
    assert me["user"]["display_name"] == "Anna" and me["grants"] == []
    assert [(f["id"], f["my_role"]) for f in me["families"]] == [
        (mine.id, "parent_with_authority"),
        (theirs.id, "network"),
    ]


def test_totp_enrolment_and_sign_in_with_a_code(
    app: Flask, api_for: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    user = make_user()
    api = api_for(user)
    assert is_problem(api.post("/me/totp", {"code": "123456"}), 422)  # nothing pending yet
    first = api.post("/me/totp")
    assert first.status_code == 201
    enrol = api.post("/me/totp", {})  # asking again replaces the pending secret
    secret = enrol.get_json()["secret"]
    assert secret != first.get_json()["secret"]
    assert enrol.get_json()["otpauth_uri"].startswith("otpauth://totp/")
    assert is_problem(api.post("/me/totp", {"code": "000000"}), 422)
    assert is_problem(api.post("/me/totp", {"code": 123456}), 422)
    assert is_problem(api.post("/me/totp", {"secret": "mine"}), 422)
    confirmed = api.post("/me/totp", {"code": code_now(secret)})
    assert confirmed.status_code == 200
    recovery = confirmed.get_json()["recovery_codes"]
    assert len(recovery) == 10
    assert is_problem(api.post("/me/totp"), 409)

    fresh = Api(app.test_client())
    needs_code = fresh.sign_in(user.email)
    assert is_problem(needs_code, 401) and needs_code.get_json()["totp_required"] is True
    wrong = fresh.sign_in(user.email, totp_code="000000")
    assert is_problem(wrong, 401) and wrong.get_json()["totp_required"] is True
    assert fresh.get("/session").get_json()["authenticated"] is False
    clock.advance(timedelta(seconds=30))
    assert fresh.sign_in(user.email, totp_code=code_now(secret)).status_code == 200
    other = Api(app.test_client())
    assert other.sign_in(user.email, totp_code=recovery[0]).status_code == 200
    again = Api(app.test_client()).sign_in(user.email, totp_code=recovery[0])
    assert is_problem(again, 401)


def test_professional_without_totp_may_only_enrol(
    app: Flask, api_for: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    pro = make_user(kind=KIND_PROFESSIONAL)
    api = api_for(pro)
    assert api.get("/session").get_json()["totp_enrolment_required"] is True
    assert api.get("/me").status_code == 200
    refused = api.get("/families")
    assert is_problem(refused, 403) and refused.get_json()["totp_enrolment_required"] is True
    assert is_problem(api.post("/families", {"name": "x"}), 403)
    secret = api.post("/me/totp").get_json()["secret"]
    assert api.post("/me/totp", {"code": code_now(secret)}).status_code == 200
    assert api.get("/families").status_code == 200
    assert api.get("/session").get_json()["totp_enrolment_required"] is False
    with_totp = make_user(kind=KIND_PROFESSIONAL, totp_secret=SECRET, totp_enabled_at=clock.now())
    api = api_for(with_totp, totp_code=code_now())
    assert api.get("/families").get_json() == {"items": [], "next_cursor": None}
    assert is_problem(api.post("/families", {"name": "Gezin"}), 403)


def test_writes_need_the_csrf_token(api: Api, make_user: Callable[..., User]) -> None:
    user = make_user()
    missing = api.post("/session", {"email": user.email, "password": PASSWORD}, csrf=False)
    assert is_problem(missing, 400) and missing.get_json()["csrf_required"] is True
    wrong = api.post(
        "/session", {"email": user.email, "password": PASSWORD}, headers={"X-CSRFToken": "x"}
    )
    assert is_problem(wrong, 400)
    assert api.get("/session").get_json()["authenticated"] is False
    token = api.sign_in(user.email).get_json()["csrf_token"]  # signing in renews the token
    assert is_problem(api.post("/families", {"name": "Gezin"}, csrf=False), 400)
    created = api.post("/families", {"name": "Gezin"}, headers={"X-CSRFToken": token})
    assert created.status_code == 201
    assert is_problem(api.delete("/session", csrf=False), 400)
    assert api.get("/session").get_json()["authenticated"] is True
