"""Whatever a client sends, the answer is a problem+json with the right status, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.family.models import Family
from tests.api.client import Api, error_fields, is_problem


@pytest.fixture
def parent_api(
    api_for: Callable[..., Api], make_user: Callable[..., User], make_family: Callable[..., Family]
) -> tuple[Api, int]:
    user = make_user()
    return api_for(user), make_family(user).id


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{oops", "application/json", 400),
        ("", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"Gezin"', "application/json", 400),
        ("null", "application/json", 400),
        (b'{"name": "\xff\xfe"}', "application/json", 400),
        ("[" * 50_000 + "]" * 50_000, "application/json", 400),
        ("name=Gezin", "application/x-www-form-urlencoded", 415),
        ('{"name": "Gezin"}', "text/plain", 415),
        ("x" * (3 * 1024 * 1024), "application/json", 413),
    ],
)
def test_unreadable_bodies(
    parent_api: tuple[Api, int], data: str | bytes, content_type: str, status: int
) -> None:
    api, _fid = parent_api
    assert is_problem(api.raw("POST", "/families", data, content_type), status)
    assert api.get("/families").get_json()["items"][0]["name"] == "Gezin De Vries"


@pytest.mark.parametrize(
    "name",
    ["nul\x00byte", "bell\x07", "half \ud800 surrogate", 12, 1.5, True, ["Gezin"], {"nl": "x"}],
)
def test_values_that_cannot_be_text(parent_api: tuple[Api, int], name: object) -> None:
    api, _fid = parent_api
    response = api.post("/families", {"name": name})
    assert is_problem(response, 422) and error_fields(response) == {"name"}


def test_json_oddities(parent_api: tuple[Api, int]) -> None:
    api, fid = parent_api
    nan = api.raw("POST", "/families", '{"name": NaN}', "application/json")
    assert is_problem(nan, 422)
    accepted = api.post("/families", {"name": "Gezin\twith tab and émoji 🙂"})
    assert accepted.status_code == 201
    assert accepted.get_json()["name"] == "Gezin\twith tab and émoji 🙂"


def test_absurd_ids_and_unknown_paths(parent_api: tuple[Api, int]) -> None:
    api, fid = parent_api
    huge = 10**30
    for path in (
        f"/families/{huge}",
        f"/families/{huge}/members",
        f"/families/{fid}/members/{huge}",
        f"/families/{fid}/members/0",
        f"/families/{fid}/audit?person=1&from=2020-01-01&to=2020-01-01&limit=1&cursor={huge}",
    ):
        response = api.get(path)
        assert response.status_code in (400, 404) and response.mimetype.endswith("problem+json")
    assert is_problem(api.patch(f"/families/{fid}/members/{huge}", {"version": huge}), 404)
    assert is_problem(api.get("/no-such-thing"), 404)
    assert is_problem(api.call("PUT", "/families", {}), 405)


def test_texts_follow_the_users_language(
    app: Flask, api_for: Callable[..., Api], make_user: Callable[..., User], api: Api
) -> None:
    english = api_for(make_user(locale="en"))
    response = english.post("/families", {"name": ""})
    assert response.get_json()["errors"] == [
        {"field": "name", "message": "Please fill in this field."}
    ]
    assert response.get_json()["title"] != "Controleer wat je hebt ingevuld."
    fid = english.post("/families", {"name": "Family"}).get_json()["id"]
    row = english.get(f"/families/{fid}/audit?limit=1").get_json()["items"][0]
    assert row["text"]["action"] == "viewed who looked"
    anonymous = api.get("/me", headers={"Accept-Language": "en"})
    assert anonymous.get_json()["detail"] != api.get("/me").get_json()["detail"]


# Found by a fuzzing review (about 31,000 hostile inputs): each of these gave a 500.


def test_a_date_at_the_end_of_the_calendar_is_too_far_not_an_error(
    parent_api: tuple[Api, int],
) -> None:
    api, fid = parent_api
    response = api.post(
        f"/families/{fid}/grants",
        {
            "email": "coach@example.org",
            "parts": {"plan": "read"},
            "purpose": "Hulp",
            "expires_on": "9999-12-31",
        },
    )
    assert is_problem(response, 422) and error_fields(response) == {"expires_on"}


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30, -(2**63) - 1])
def test_ids_in_a_body_that_no_row_can_have(parent_api: tuple[Api, int], number: int) -> None:
    api, fid = parent_api
    grant = api.post(
        f"/families/{fid}/grants",
        {
            "email": "coach@example.org",
            "parts": {"plan": "read"},
            "purpose": "Hulp",
            "subject_member_id": number,
        },
    )
    assert is_problem(grant, 422) and error_fields(grant) == {"subject_member_id"}
    me = api.get(f"/families/{fid}/members").get_json()["items"][0]["id"]
    agreement = api.post(
        f"/families/{fid}/plan/agreements",
        {"what": "Iets", "owner": f"member:{me}", "goal_id": number},
    )
    assert is_problem(agreement, 422) and error_fields(agreement) == {"goal_id"}


def test_ids_in_the_path_beyond_what_postgresql_integers_hold(
    parent_api: tuple[Api, int],
    signed_in: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
) -> None:
    """2**31 and up: on PostgreSQL (32-bit INTEGER columns) the query itself failed."""
    api, fid = parent_api
    for number in (2**31, 2**62, 2**63 - 1):
        assert is_problem(api.get(f"/families/{number}"), 404)
        assert is_problem(api.get(f"/families/{fid}/dossier/{number}"), 404)
    page = signed_in(make_user()).get(f"/families/{2**31}")
    assert page.status_code == 404 and page.mimetype == "text/html"


@pytest.mark.parametrize("text", ["half \ud800 an emoji", "nul\x00byte", "bell\x07"])
def test_texts_no_database_stores_are_refused_in_every_body(
    parent_api: tuple[Api, int], text: str
) -> None:
    api, fid = parent_api
    for path, body, field in (
        (f"/families/{fid}/dossier", {"title": text, "body": "x"}, "title"),
        (f"/families/{fid}/dossier", {"title": "x", "body": text}, "body"),
        (f"/families/{fid}/plan/agreements", {"what": text}, "what"),
        (
            f"/families/{fid}/grants",
            {"email": "coach@example.org", "parts": {"plan": "read"}, "purpose": text},
            "purpose",
        ),
        (f"/families/{fid}/conversations", {"topic": text}, "topic"),
    ):
        response = api.post(path, body)
        assert is_problem(response, 422) and error_fields(response) == {field}, path
