"""'Wie keek mee?' as JSON: who may read it, pagination, filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_NETWORK, ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, error_fields, is_problem
from tests.helpers import years_ago


def test_the_log_newest_first_with_pagination_and_filters(
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent, oma_user = make_user(name="Anna"), make_user(name="Oma")
    family = make_family(parent)
    add_member(family, oma_user, ROLE_NETWORK)
    api, oma = api_for(parent), api_for(oma_user)
    clock.advance(timedelta(days=-3))
    oma.get(f"/families/{family.id}")
    clock.reset()
    for _ in range(3):
        api.get(f"/families/{family.id}")

    page = api.get(f"/families/{family.id}/audit?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    newest = page["items"][0]
    assert newest["action"] == "audit.view" and newest["outcome"] == "allowed"
    assert newest["actor"] == {
        "user_id": parent.id,
        "name": "Anna",
        "role": "parent_with_authority",
        "organisation": None,
    }
    assert newest["basis"].startswith("membership:")
    assert newest["text"]["action"] == "bekeek wie er meekeek"
    assert "client_address" not in newest

    older = api.get(f"/families/{family.id}/audit?limit=2&cursor={page['next_cursor']}")
    assert older.get_json()["items"][0]["id"] < page["items"][-1]["id"]
    everything = api.get(f"/families/{family.id}/audit?limit=200").get_json()
    assert everything["next_cursor"] is None
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True)

    by_oma = api.get(f"/families/{family.id}/audit?person={oma_user.id}").get_json()["items"]
    assert [e["actor"]["name"] for e in by_oma] == ["Oma"]
    others = api.get(f"/families/{family.id}/audit?who=others").get_json()["items"]
    assert {e["actor"]["name"] for e in others} == {"Oma"}
    assert api.get(f"/families/{family.id}/audit?who=guests").get_json()["items"] == []
    day = (clock.today() - timedelta(days=3)).isoformat()
    that_day = api.get(f"/families/{family.id}/audit?from={day}&to={day}").get_json()["items"]
    assert [e["actor"]["name"] for e in that_day] == ["Oma"]
    assert api.get(f"/families/{family.id}/audit?to=2001-01-02").get_json()["items"] == []


def test_bad_filters_are_400(
    api_for: Callable[..., Api], make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    parent = make_user()
    family = make_family(parent)
    api = api_for(parent)
    for query, field in (
        ("from=gisteren", "from"),
        ("to=2026-02-30", "to"),
        ("to=9999-12-31", "to"),
        ("person=Anna", "person"),
        ("person=0", "person"),
        (f"person={10**30}", "person"),
        ("limit=500", "limit"),
        ("cursor=0", "cursor"),
        ("who=iedereen", "who"),
    ):
        response = api.get(f"/families/{family.id}/audit?{query}")
        assert is_problem(response, 400), query
        assert error_fields(response) == {field}, query


def test_who_may_read_the_log(
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent, teen_user, oma_user, stranger = (make_user() for _ in range(4))
    family = make_family(parent)
    add_member(family, teen_user, ROLE_YOUNG_PERSON, birth_date=years_ago(13))
    add_member(family, oma_user, ROLE_NETWORK)
    path = f"/families/{family.id}/audit"
    assert api_for(teen_user).get(path).status_code == 200
    assert is_problem(api_for(oma_user).get(path), 403)
    assert is_problem(api_for(stranger).get(path), 404)
