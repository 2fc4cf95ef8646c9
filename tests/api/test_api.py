"""The JSON API v1: accounts, session, me, families, members, audit — and its OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_NETWORK, ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, is_problem
from tests.helpers import PASSWORD, years_ago
from tests.support.servers import SmtpServer, find_link


def signed_in_api(app: Flask, user: User) -> Api:
    api = Api(app.test_client())
    assert api.sign_in(user.email, PASSWORD).status_code == 200
    return api


def test_openapi_documents_every_api_route(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    registered = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                registered.add((path, method))
    assert registered == documented
    # Every referenced schema and parameter exists.
    text = str(document)
    for ref in re.findall(r"#/components/(\w+)/(\w+)", text):
        assert ref[1] in document["components"][ref[0]], ref


def test_sign_up_verify_and_sign_in(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    api = Api(client)
    make_user(email="taken@example.org")
    new = api.post(
        "/accounts", {"email": "new@example.org", "password": PASSWORD, "display_name": "Nieuw"}
    )
    taken = api.post(
        "/accounts", {"email": "taken@example.org", "password": PASSWORD, "display_name": "Nieuw"}
    )
    assert new.status_code == taken.status_code == 202
    assert new.get_json()["status"] == taken.get_json()["status"] == "check_your_mail"

    unverified = api.sign_in("new@example.org", PASSWORD)
    assert is_problem(unverified, 403)
    mail = smtp_server.wait_for(lambda m: m["To"] == "new@example.org")
    client.get(find_link(mail, "http://localhost/verify/").replace("http://localhost", ""))
    response = api.sign_in("new@example.org", PASSWORD)
    assert response.status_code == 200
    assert response.get_json()["user"]["email"] == "new@example.org"
    me = api.get("/me").get_json()
    assert me["user"]["kind"] == "family" and me["families"] == [] and me["grants"] == []

    assert api.delete("/session").status_code == 204
    assert is_problem(api.get("/me"), 401)


def test_account_validation_errors(client: FlaskClient) -> None:
    api = Api(client)
    response = api.post("/accounts", {"email": "nope", "password": "kort", "display_name": ""})
    assert is_problem(response, 422)
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"email", "password", "display_name"} <= fields
    wrong_types = api.post("/accounts", {"email": ["a"], "password": {"x": 1}})
    assert is_problem(wrong_types, 422)
    professional = api.post(
        "/accounts",
        {
            "email": "p@example.org",
            "password": PASSWORD,
            "display_name": "P",
            "kind": "professional",
        },
    )
    assert is_problem(professional, 422)
    assert {e["field"] for e in professional.get_json()["errors"]} == {"organisation", "profession"}


def test_malformed_requests_are_problems_not_crashes(client: FlaskClient) -> None:
    api = Api(client)
    token = api.csrf()
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}
    assert is_problem(client.post("/api/v1/session", data="{oops", headers=headers), 400)
    assert is_problem(client.post("/api/v1/session", data="[1,2]", headers=headers), 400)
    assert is_problem(
        client.post("/api/v1/session", data="email=x", headers={"X-CSRFToken": token}), 415
    )
    # Writes with the session cookie need the CSRF token.
    assert is_problem(api.post("/session", {"email": "a", "password": "b"}, csrf=False), 400)


def test_sign_in_throttled_and_identical_for_unknown_addresses(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(email="known@example.org")
    api = Api(client)
    known = api.sign_in("known@example.org", "wrong password")
    unknown = api.sign_in("nobody@example.org", "wrong password")
    assert is_problem(known, 401) and is_problem(unknown, 401)
    assert known.get_json() == unknown.get_json()
    for _ in range(4):
        api.sign_in("known@example.org", "wrong password")
    limited = api.sign_in("known@example.org", PASSWORD)
    assert is_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0


def test_totp_enrolment_and_sign_in_with_code(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user()
    api = signed_in_api(app, user)
    enrol = api.post("/me/totp")
    assert enrol.status_code == 201
    secret = enrol.get_json()["secret"]
    assert enrol.get_json()["otpauth_uri"].startswith("otpauth://totp/")
    assert is_problem(api.post("/me/totp", {"code": "000000"}), 422)
    confirmed = api.post("/me/totp", {"code": pyotp.TOTP(secret).at(clock.now())})
    assert len(confirmed.get_json()["recovery_codes"]) == 10

    fresh = Api(app.test_client())
    needs_code = fresh.sign_in(user.email, PASSWORD)
    assert is_problem(needs_code, 401) and needs_code.get_json()["totp_required"] is True
    clock.advance(timedelta(seconds=30))
    assert (
        fresh.sign_in(user.email, PASSWORD, pyotp.TOTP(secret).at(clock.now())).status_code == 200
    )


def test_professional_without_totp_may_only_enrol(
    app: Flask, make_user: Callable[..., User]
) -> None:
    pro = make_user(kind=KIND_PROFESSIONAL)
    api = signed_in_api(app, pro)
    assert api.get("/me").status_code == 200
    assert is_problem(api.get("/families"), 403)


def test_families_and_members(
    app: Flask, make_user: Callable[..., User], smtp_server: SmtpServer
) -> None:
    parent = make_user()
    api = signed_in_api(app, parent)
    assert is_problem(api.post("/families", {"name": ""}), 422)
    created = api.post("/families", {"name": "Gezin Jansen", "my_name": "Mama"})
    assert created.status_code == 201
    family = created.get_json()
    assert family["my_role"] == "parent_with_authority"
    fid = family["id"]
    assert api.get(f"/families/{fid}").get_json()["name"] == "Gezin Jansen"
    listing = api.get("/families").get_json()
    assert [f["id"] for f in listing["items"]] == [fid] and listing["next_cursor"] is None

    child = api.post(
        f"/families/{fid}/members",
        {
            "role": "young_person",
            "display_name": "Sanne",
            "birth_date": years_ago(13).isoformat(),
            "email": "sanne@example.org",
            "invite": True,
        },
    )
    assert child.status_code == 201, child.get_json()
    smtp_server.wait_for(lambda m: m["To"] == "sanne@example.org")
    bad = api.post(f"/families/{fid}/members", {"role": "young_person", "display_name": "Tim"})
    assert is_problem(bad, 422)
    assert bad.get_json()["errors"] == [
        {"field": "birth_date", "message": "Vul de geboortedatum in."}
    ]

    for i in range(3):
        api.post(f"/families/{fid}/members", {"role": "network", "display_name": f"Buur {i}"})
    first = api.get(f"/families/{fid}/members?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"/families/{fid}/members?limit=2&cursor={first['next_cursor']}").get_json()
    rest2 = api.get(f"/families/{fid}/members?limit=2&cursor={rest['next_cursor']}").get_json()
    names = [m["display_name"] for m in first["items"] + rest["items"] + rest2["items"]]
    assert names == ["Mama", "Sanne", "Buur 0", "Buur 1", "Buur 2"]
    assert is_problem(api.get(f"/families/{fid}/members?limit=500"), 400)
    assert is_problem(api.get(f"/families/{fid}/members?cursor=abc"), 400)

    mid = child.get_json()["id"]
    changed = api.patch(f"/families/{fid}/members/{mid}", {"household": "Huis A", "version": 1})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert changed.get_json()["display_name"] == "Sanne"  # untouched fields stay
    stale = api.patch(f"/families/{fid}/members/{mid}", {"household": "Huis B", "version": 1})
    assert is_problem(stale, 409)
    assert stale.get_json()["current_version"] == 2
    assert stale.get_json()["current"]["household"] == "Huis A"
    assert is_problem(api.patch(f"/families/{fid}/members/{mid}", {"household": "x"}), 422)
    assert is_problem(api.patch(f"/families/{fid}/members/{mid}", {"foo": 1, "version": 2}), 422)

    assert is_problem(api.delete(f"/families/{fid}/members/{mid}?version=1"), 409)
    assert api.delete(f"/families/{fid}/members/{mid}?version=2").status_code == 204
    assert is_problem(api.get(f"/families/{fid}/members/{mid}"), 404)


def test_other_family_is_404_and_missing_rights_403(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent, stranger, oma_user = make_user(), make_user(), make_user()
    family = make_family(parent)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(4))
    add_member(family, oma_user, ROLE_NETWORK)
    outsider = signed_in_api(app, stranger)
    for path in (
        f"/families/{family.id}",
        f"/families/{family.id}/members",
        f"/families/{family.id}/members/{child.id}",
        f"/families/{family.id}/audit",
    ):
        assert is_problem(outsider.get(path), 404), path
    oma = signed_in_api(app, oma_user)
    assert oma.get(f"/families/{family.id}/members").status_code == 200
    assert is_problem(oma.get(f"/families/{family.id}/audit"), 403)
    assert is_problem(
        oma.post(f"/families/{family.id}/members", {"role": "network", "display_name": "x"}), 403
    )
    assert is_problem(
        oma.patch(f"/families/{family.id}/members/{child.id}", {"display_name": "x", "version": 1}),
        403,
    )
    anonymous = Api(app.test_client())
    assert is_problem(anonymous.get(f"/families/{family.id}"), 401)


def test_audit_endpoint(
    app: Flask, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    parent = make_user(name="Anna")
    family = make_family(parent)
    api = signed_in_api(app, parent)
    for _ in range(3):
        api.get(f"/families/{family.id}")
    page = api.get(f"/families/{family.id}/audit?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    newest = page["items"][0]
    assert newest["action"] == "audit.view" and newest["actor"]["name"] == "Anna"
    assert newest["basis"].startswith("membership:") and newest["outcome"] == "allowed"
    older = api.get(f"/families/{family.id}/audit?limit=2&cursor={page['next_cursor']}")
    assert older.get_json()["items"][0]["id"] < page["items"][-1]["id"]
    assert is_problem(api.get(f"/families/{family.id}/audit?from=gisteren"), 400)
    none = api.get(f"/families/{family.id}/audit?from=2001-01-01&to=2001-01-02").get_json()
    assert none["items"] == []
