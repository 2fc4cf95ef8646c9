"""The gezinsplan over the API: questions, goals and agreements, with versions and the policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, is_problem
from tests.helpers import years_ago


def test_plan_questions_goals_and_agreements(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent = make_user()
    family = make_family(parent)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(9), name="Daan")
    api = api_for(parent)
    base = f"/families/{family.id}/plan"
    plan = api.get(base).get_json()
    assert plan["goals"] == [] and plan["agreements"] == [] and plan["version"] == 1
    saved = api.call("PUT", base, {"version": 1, "tomorrow": "Rustige ochtenden"})
    assert saved.status_code == 200 and saved.get_json()["questions"]["tomorrow"] == (
        "Rustige ochtenden"
    )
    stale = api.call("PUT", base, {"version": 1, "tomorrow": "Iets anders"})
    assert is_problem(stale, 409) and stale.get_json()["current_version"] == 2

    assert is_problem(api.post(f"{base}/goals", {"title": ""}), 422)
    goal = api.post(f"{base}/goals", {"title": "Op tijd op school", "owner": "young_person"})
    assert goal.status_code == 201
    gid, version = goal.get_json()["id"], goal.get_json()["version"]
    moved = api.patch(f"{base}/goals/{gid}", {"version": version, "phase": "achieved"})
    assert moved.get_json()["phase"] == "achieved" and moved.get_json()["title"] == (
        "Op tijd op school"
    )
    assert is_problem(
        api.patch(f"{base}/goals/{gid}", {"version": version, "phase": "adjusted"}), 409
    )
    assert is_problem(
        api.patch(
            f"{base}/goals/{gid}", {"version": moved.get_json()["version"], "phase": "nonsense"}
        ),
        422,
    )

    assert is_problem(
        api.post(f"{base}/agreements", {"what": "Wekker", "owner": "member:999"}), 422
    )
    due = (clock.today() + timedelta(days=3)).isoformat()
    agreement = api.post(
        f"{base}/agreements",
        {"what": "Wekker zetten", "owner": f"member:{child.id}", "due_on": due, "goal_id": gid},
    )
    assert agreement.status_code == 201
    body = agreement.get_json()
    assert (body["owner_name"], body["due_on"], body["done"]) == ("Daan", due, False)
    done = api.patch(f"{base}/agreements/{body['id']}", {"version": body["version"], "done": True})
    assert done.get_json()["done"] is True
    assert is_problem(
        api.patch(f"{base}/agreements/{body['id']}", {"version": body["version"], "done": False}),
        409,
    )
    whole = api.get(base).get_json()
    assert [g["title"] for g in whole["goals"]] == ["Op tijd op school"]
    assert [a["what"] for a in whole["agreements"]] == ["Wekker zetten"]


def test_a_reading_guest_sees_the_plan_but_cannot_change_it(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user()
    family = make_family(parent)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    coach = make_user(kind=KIND_PROFESSIONAL, totp_secret=secret, totp_enabled_at=clock.now())
    now = clock.now()
    with app.app_context():
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=coach.id,
                origin="invitation",
                purpose="Meekijken",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
                accepted_at=now,
                approved_at=now,
                parts=[GrantPart(part="plan", level="read")],
            )
        )
        db.session.commit()
        db.session.remove()
    import pyotp

    clock.advance(timedelta(seconds=30))
    guest = api_for(coach, totp_code=pyotp.TOTP(secret).at(clock.now()))
    base = f"/families/{family.id}/plan"
    assert guest.get(base).status_code == 200
    assert is_problem(guest.call("PUT", base, {"version": 1, "tomorrow": "x"}), 403)
    assert is_problem(guest.post(f"{base}/goals", {"title": "Mijn doel"}), 403)


def test_goals_and_agreements_a_page_at_a_time(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent = make_user()
    family = make_family(parent)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(9), name="Daan")
    other = make_family(make_user(), name="Ander gezin")
    api = api_for(parent)
    base = f"/families/{family.id}/plan"
    empty = api.get(f"{base}/goals").get_json()
    assert empty == {"items": [], "next_cursor": None}
    goal_ids = [
        api.post(f"{base}/goals", {"title": f"Doel {i}"}).get_json()["id"] for i in range(5)
    ]
    for i in range(3):
        made = api.post(
            f"{base}/agreements", {"what": f"Afspraak {i}", "owner": f"member:{child.id}"}
        )
        assert made.status_code == 201
    score = api.post(f"{base}/goals/{goal_ids[3]}/scores", {"score": 6})
    assert score.status_code == 201
    removed = api.get(f"{base}/goals/{goal_ids[1]}").get_json()
    api.call("DELETE", f"{base}/goals/{goal_ids[1]}?version={removed['version']}")

    first = api.get(f"{base}/goals?limit=2").get_json()
    assert [g["title"] for g in first["items"]] == ["Doel 0", "Doel 2"]  # the removed one is out
    second = api.get(f"{base}/goals?limit=2&cursor={first['next_cursor']}").get_json()
    assert [g["title"] for g in second["items"]] == ["Doel 3", "Doel 4"]
    assert [s["score"] for s in second["items"][0]["scores"]] == [6]
    assert second["next_cursor"] is None  # nothing after Doel 4

    agreements = api.get(f"{base}/agreements?limit=2").get_json()
    assert [a["what"] for a in agreements["items"]] == ["Afspraak 0", "Afspraak 1"]
    rest = api.get(f"{base}/agreements?cursor={agreements['next_cursor']}").get_json()
    assert [a["what"] for a in rest["items"]] == ["Afspraak 2"] and rest["next_cursor"] is None

    assert is_problem(api.get(f"{base}/goals?limit=0"), 400)
    assert is_problem(api.get(f"{base}/agreements?cursor=abc"), 400)
    assert is_problem(api.get(f"/families/{other.id}/plan/goals"), 404)
    assert is_problem(api.get(f"/families/{other.id}/plan/agreements"), 404)
