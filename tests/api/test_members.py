"""Members: add/invite, list, view, PATCH and DELETE with versions; 403, 404, 409, 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from portal.auth.models import User
from portal.family.models import ROLE_NETWORK, ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, error_fields, is_problem
from tests.api.test_families import audit_rows
from tests.helpers import years_ago
from tests.support.servers import SmtpServer


@pytest.fixture
def household(
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    """A family with a managing parent, a teenager (no login), and a grandmother with a login."""
    parent, oma_user = make_user(name="Anna"), make_user(name="Oma")
    family = make_family(parent)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(14), name="Sanne")
    oma = add_member(family, oma_user, ROLE_NETWORK)
    return {
        "fid": family.id,
        "child": child.id,
        "oma": oma.id,
        "parent_api": api_for(parent),
        "oma_api": api_for(oma_user),
    }


def test_add_and_invite_members(household: dict[str, Any], smtp_server: SmtpServer) -> None:
    api, fid = household["parent_api"], household["fid"]
    tim = {"role": "young_person", "display_name": "Tim", "email": "tim@example.org"}
    created = api.post(
        f"/families/{fid}/members",
        {**tim, "birth_date": years_ago(13).isoformat(), "invite": True},
    )
    assert created.status_code == 201
    member = created.get_json()
    assert member["age"] == 13 and member["birth_date"] == years_ago(13).isoformat()
    assert member["invitation_pending"] is True and member["has_login"] is False
    assert member["version"] == 1
    smtp_server.wait_for(lambda m: m["To"] == "tim@example.org")
    assert api.get(f"/families/{fid}/members/{member['id']}").get_json() == member

    no_birth_date = api.post(f"/families/{fid}/members", tim)
    assert is_problem(no_birth_date, 422)
    assert no_birth_date.get_json()["errors"] == [
        {"field": "birth_date", "message": "Vul de geboortedatum in."}
    ]
    too_young = api.post(
        f"/families/{fid}/members",
        {**tim, "birth_date": years_ago(8).isoformat(), "invite": True, "email": "b@example.org"},
    )
    assert too_young.get_json()["errors"] == [
        {"field": "invite", "message": "Een eigen login kan vanaf 12 jaar."}
    ]
    odd = api.post(
        f"/families/{fid}/members",
        {"role": "cat", "display_name": "", "birth_date": "gisteren", "invite": "yes", "id": 4},
    )
    assert is_problem(odd, 422) and error_fields(odd) == {"invite", "id"}
    odd = api.post(
        f"/families/{fid}/members",
        {"role": "cat", "display_name": "", "birth_date": "2020-02-30", "email": "nope"},
    )
    assert error_fields(odd) == {"role", "display_name", "birth_date", "email"}


def test_pagination_of_members(household: dict[str, Any]) -> None:
    api, fid = household["parent_api"], household["fid"]
    for i in range(3):
        api.post(f"/families/{fid}/members", {"role": "network", "display_name": f"Buur {i}"})
    seen: list[str] = []
    cursor = ""
    while True:
        page = api.get(f"/families/{fid}/members?limit=2{cursor}").get_json()
        assert len(page["items"]) <= 2
        seen += [m["display_name"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ["Anna", "Sanne", "Oma", "Buur 0", "Buur 1", "Buur 2"]


def test_members_without_the_right_see_less_and_may_not_change(
    app: Flask, household: dict[str, Any]
) -> None:
    oma, fid, child = household["oma_api"], household["fid"], household["child"]
    listed = oma.get(f"/families/{fid}/members").get_json()["items"]
    sanne = next(m for m in listed if m["id"] == child)
    assert sanne["age"] == 14 and "birth_date" not in sanne and "email" not in sanne
    assert "birth_date" not in oma.get(f"/families/{fid}/members/{child}").get_json()
    herself = oma.get(f"/families/{fid}/members/{household['oma']}").get_json()
    assert "email" in herself and "birth_date" in herself
    path = f"/families/{fid}/members/{child}"
    for response in (
        oma.post(f"/families/{fid}/members", {"role": "network", "display_name": "x"}),
        oma.patch(path, {"display_name": "x", "version": 1}),
        oma.delete(path, {"version": 1}),
        oma.patch(path, {}),  # refused before the body is even looked at
    ):
        assert is_problem(response, 403)
    denied = [row for row in audit_rows(app, fid) if row[1] == "denied"]
    assert [row[0] for row in denied] == ["member.add", "member.edit", "member.remove"] + [
        "member.edit"
    ]


def test_patch_with_versions(household: dict[str, Any]) -> None:
    api, fid, child = household["parent_api"], household["fid"], household["child"]
    path = f"/families/{fid}/members/{child}"
    changed = api.patch(path, {"household": "Huis A", "version": 1})
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["version"] == 2 and body["household"] == "Huis A"
    assert body["display_name"] == "Sanne" and body["age"] == 14  # untouched fields stay

    stale = api.patch(path, {"household": "Huis B", "version": 1})
    assert is_problem(stale, 409)
    assert stale.get_json()["current_version"] == 2
    assert stale.get_json()["current"]["household"] == "Huis A"
    assert api.get(path).get_json()["household"] == "Huis A"

    for payload, field in (
        ({"household": "x"}, "version"),
        ({"household": "x", "version": "2"}, "version"),
        ({"household": "x", "version": True}, "version"),
        ({"household": "x", "version": 2**70}, "version"),
        ({"foo": 1, "version": 2}, "foo"),
        ({"display_name": ["Sanne"], "version": 2}, "display_name"),
        ({"display_name": "", "version": 2}, "display_name"),
        ({"birth_date": None, "version": 2}, "birth_date"),  # young people need one
    ):
        response = api.patch(path, payload)
        assert is_problem(response, 422), payload
        assert error_fields(response) == {field}, payload
    # Authority is never changed through the API (only by the operator command).
    assert is_problem(api.patch(path, {"has_authority": True, "version": 2}), 403)
    cleared = api.patch(path, {"household": None, "version": 2})
    assert cleared.get_json()["household"] is None and cleared.get_json()["version"] == 3


def test_patch_of_a_joined_member_keeps_the_role(household: dict[str, Any]) -> None:
    api, fid, oma = household["parent_api"], household["fid"], household["oma"]
    response = api.patch(f"/families/{fid}/members/{oma}", {"role": "parent", "version": 1})
    assert is_problem(response, 422)
    assert response.get_json()["errors"] == [
        {"field": "role", "message": "De rol kan niet meer veranderen als iemand al meedoet."}
    ]


def test_delete_with_versions(household: dict[str, Any]) -> None:
    api, fid, child = household["parent_api"], household["fid"], household["child"]
    path = f"/families/{fid}/members/{child}"
    assert api.patch(path, {"relation": "dochter", "version": 1}).status_code == 200
    assert error_fields(api.delete(path)) == {"version"}
    assert error_fields(api.delete(f"{path}?version=twee")) == {"version"}
    assert error_fields(api.delete(path, {"version": 2, "force": True})) == {"force"}
    stale = api.delete(f"{path}?version=1")
    assert is_problem(stale, 409) and stale.get_json()["current_version"] == 2
    assert api.delete(path, {"version": 2}).status_code == 204
    assert is_problem(api.get(path), 404)
    assert is_problem(api.delete(path, {"version": 2}), 404)
    names = [m["display_name"] for m in api.get(f"/families/{fid}/members").get_json()["items"]]
    assert "Sanne" not in names


def test_the_last_parent_with_authority_stays(household: dict[str, Any]) -> None:
    api, fid = household["parent_api"], household["fid"]
    members = api.get(f"/families/{fid}/members").get_json()["items"]
    me = next(m for m in members if m["display_name"] == "Anna")
    response = api.delete(f"/families/{fid}/members/{me['id']}?version={me['version']}")
    assert is_problem(response, 409)
    assert "laatste ouder met gezag" in response.get_json()["detail"]


def test_a_member_of_another_family_is_404_through_my_family(
    household: dict[str, Any],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    api, fid = household["parent_api"], household["fid"]
    elsewhere = add_member(make_family(make_user()), None, ROLE_NETWORK, name="Vreemde")
    path = f"/families/{fid}/members/{elsewhere.id}"
    assert is_problem(api.get(path), 404)
    assert is_problem(api.patch(path, {"display_name": "x", "version": 1}), 404)
    assert is_problem(api.delete(path, {"version": 1}), 404)
