"""De bloem, the safety plan and evaluations over the API: versions, clear 422s, the policy
(read vs write guests, other families), and every answer checked against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pyotp
from flask import Flask

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_NETWORK, Family, Member
from tests.api.client import Api, error_fields, is_problem

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_network_petals_over_the_api(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent = make_user()
    family = make_family(parent)
    grandma = add_member(family, None, ROLE_NETWORK, name="Oma Els")
    other_family = make_family(make_user(), name="Ander gezin")
    stranger = add_member(other_family, None, ROLE_NETWORK, name="Niet van ons")
    api = api_for(parent)
    base = f"/families/{family.id}/plan/network"

    assert api.get(base).get_json() == {"items": [], "next_cursor": None, "guests": []}
    assert error_fields(api.post(base, {"name": ""})) == {"name"}
    assert error_fields(api.post(base, {"name": "X", "kind": "alien"})) == {"kind"}
    assert error_fields(api.post(base, {"name": "X", "member_id": "3"})) == {"member_id"}
    assert error_fields(api.post(base, {"name": "X", "member_id": stranger.id})) == {"member_id"}
    assert error_fields(api.post(base, {"name": "X", "colour": "red"})) == {"colour"}
    assert error_fields(api.post(base, {"name": "X\x00"})) == {"name"}
    assert is_problem(api.post(base, {"name": "x" * 101}), 422)

    made = api.post(
        base,
        {"name": "Oma Els", "relation": "oma", "contact": "06-1", "member_id": grandma.id},
    )
    assert made.status_code == 201
    petal = made.get_json()
    assert (petal["member_id"], petal["kind"], petal["version"]) == (grandma.id, "informal", 1)
    one = f"{base}/{petal['id']}"
    assert api.get(one).get_json()["name"] == "Oma Els"
    changed = api.patch(one, {"version": 1, "contact": "06-2", "kind": "informal"})
    assert changed.status_code == 200
    assert (changed.get_json()["contact"], changed.get_json()["name"]) == ("06-2", "Oma Els")
    stale = api.patch(one, {"version": 1, "contact": "06-3"})
    assert is_problem(stale, 409) and stale.get_json()["current"]["contact"] == "06-2"
    unlinked = api.patch(one, {"version": 2, "member_id": None})
    assert unlinked.get_json()["member_id"] is None

    # A petal can own an agreement; the agreement says which.
    owned = api.post(
        f"/families/{family.id}/plan/agreements",
        {"what": "Oppassen op woensdag", "owner": f"petal:{petal['id']}"},
    )
    assert owned.status_code == 201
    assert (owned.get_json()["owner_petal_id"], owned.get_json()["owner_name"]) == (
        petal["id"],
        "Oma Els",
    )

    # Pagination over many petals.
    for i in range(3):
        api.post(base, {"name": f"Buur {i}"})
    first = api.get(f"{base}?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"{base}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [p["name"] for p in rest["items"]] == ["Buur 1", "Buur 2"]

    assert is_problem(api.delete(one), 422)  # no version: refused, nothing removed
    assert is_problem(api.delete(one, {"version": 1}), 409)
    assert api.delete(one, {"version": 3}).status_code == 204
    assert is_problem(api.get(one), 404)
    assert is_problem(api.get(f"/families/{other_family.id}/plan/network"), 404)


def test_a_petal_stands_for_a_guest_over_the_api(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent = make_user()
    family = make_family(parent)
    grandma = add_member(family, None, ROLE_NETWORK, name="Oma Els")
    coach = make_user(name="Coach Sam", kind=KIND_PROFESSIONAL)
    stranger = make_user(name="Niet uitgenodigd", kind=KIND_PROFESSIONAL)
    refused = make_user(name="Vroeg en kreeg nee", kind=KIND_PROFESSIONAL)
    now = clock.now()
    with app.app_context():
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=coach.id,
                origin="invitation",
                purpose="Meedenken",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
                accepted_at=now,
                approved_at=now,
                parts=[GrantPart(part="plan", level="read")],
            )
        )
        # A professional who asked for access and was refused: never this family's guest.
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=refused.id,
                origin="request",
                purpose="Mag ik meekijken?",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
                accepted_at=now,
                denied_at=now,
                parts=[GrantPart(part="plan", level="read")],
            )
        )
        db.session.commit()
        db.session.remove()
    api = api_for(parent)
    base = f"/families/{family.id}/plan/network"

    assert error_fields(api.post(base, {"name": "X", "guest_user_id": stranger.id})) == {
        "guest_user_id"
    }
    assert error_fields(api.post(base, {"name": "X", "guest_user_id": refused.id})) == {
        "guest_user_id"
    }
    assert error_fields(api.post(base, {"name": "X", "guest_user_id": "7"})) == {"guest_user_id"}
    both = api.post(base, {"name": "X", "guest_user_id": coach.id, "member_id": grandma.id})
    assert error_fields(both) == {"guest_user_id"}
    assert api.get(base).get_json()["items"] == []  # nothing stored by the refusals

    made = api.post(base, {"name": "Sam", "kind": "professional", "guest_user_id": coach.id})
    assert made.status_code == 201
    petal = made.get_json()
    assert (petal["guest_user_id"], petal["member_id"]) == (coach.id, None)
    one = f"{base}/{petal['id']}"
    # A change that leaves guest_user_id out keeps it; null takes the link away.
    kept = api.patch(one, {"version": 1, "contact": "via het CJG"})
    assert kept.get_json()["guest_user_id"] == coach.id
    unlinked = api.patch(one, {"version": 2, "guest_user_id": None})
    assert unlinked.status_code == 200 and unlinked.get_json()["guest_user_id"] is None


def test_safety_and_evaluations_over_the_api(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user()
    family = make_family(parent)
    api = api_for(parent)
    safety = f"/families/{family.id}/plan/safety"
    assert api.get(safety).get_json()["version"] == 1
    saved = api.call("PUT", safety, {"version": 1, "signals": "Boos", "contacts": "Oma"})
    assert saved.status_code == 200 and saved.get_json()["signals"] == "Boos"
    stale = api.call("PUT", safety, {"version": 1, "signals": "Anders"})
    assert is_problem(stale, 409) and stale.get_json()["current"]["contacts"] == "Oma"
    assert is_problem(api.call("PUT", safety, {"version": 2, "signals": "x" * 5001}), 422)
    assert is_problem(api.call("PUT", safety, {"signals": "zonder versie"}), 422)
    assert is_problem(api.call("PUT", safety, {"version": 2, "signals": 7}), 422)

    base = f"/families/{family.id}/plan/evaluations"
    day = (clock.today() + timedelta(days=40)).isoformat()
    assert error_fields(api.post(base, {"title": "Evaluatie"})) == {"held_on"}
    assert error_fields(api.post(base, {"title": "E", "held_on": "2026-02-30"})) == {"held_on"}
    assert error_fields(api.post(base, {"title": "E", "held_on": "1500-01-01"})) == {"held_on"}
    assert error_fields(api.post(base, {"title": "E", "held_on": day, "start_time": "9 uur"})) == {
        "start_time"
    }
    made = api.post(
        base,
        {
            "kind": "network_meeting",
            "title": "Netwerkoverleg",
            "held_on": day,
            "start_time": "09:30",
            "participants": "Mama, oma",
        },
    )
    assert made.status_code == 201
    body = made.get_json()
    assert (body["start_time"], body["held_on"], body["kind"]) == ("09:30", day, "network_meeting")
    one = f"{base}/{body['id']}"
    done = api.patch(one, {"version": 1, "went_well": "Rustig", "start_time": None})
    assert done.status_code == 200
    assert done.get_json()["went_well"] == "Rustig" and done.get_json()["start_time"] is None
    assert done.get_json()["participants"] == "Mama, oma"
    assert is_problem(api.patch(one, {"version": 1, "changes": "x"}), 409)
    assert [e["title"] for e in api.get(base).get_json()["items"]] == ["Netwerkoverleg"]
    calendar = api.get(f"/families/{family.id}/plan/agenda.ics")
    assert calendar.status_code == 200 and calendar.mimetype == "text/calendar"
    text = calendar.get_data(as_text=True)
    assert (
        text.startswith("BEGIN:VCALENDAR\r\n") and "SUMMARY:Netwerkoverleg: Netwerkoverleg" in text
    )


def test_guests_read_or_write_the_plan_parts_by_their_grant(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user()
    family = make_family(parent)
    reader = make_user(kind=KIND_PROFESSIONAL, totp_secret=SECRET, totp_enabled_at=clock.now())
    writer = make_user(
        name="Coach Sam", kind=KIND_PROFESSIONAL, totp_secret=SECRET, totp_enabled_at=clock.now()
    )
    now = clock.now()
    with app.app_context():
        for user, level in ((reader, "read"), (writer, "write")):
            db.session.add(
                Grant(
                    family_id=family.id,
                    grantee_id=user.id,
                    origin="invitation",
                    purpose="Meedenken",
                    valid_from=now - timedelta(days=1),
                    expires_at=now + timedelta(days=30),
                    accepted_at=now,
                    approved_at=now,
                    parts=[GrantPart(part="plan", level=level)],
                )
            )
        db.session.commit()
        db.session.remove()
    clock.advance(timedelta(seconds=30))
    read_api = api_for(reader, totp_code=pyotp.TOTP(SECRET).at(clock.now()))
    clock.advance(timedelta(seconds=30))
    write_api = api_for(writer, totp_code=pyotp.TOTP(SECRET).at(clock.now()))
    network = f"/families/{family.id}/plan/network"
    listed = read_api.get(network).get_json()
    assert {g["name"] for g in listed["guests"]} >= {"Coach Sam"}
    assert all(g["until"] for g in listed["guests"])
    assert read_api.get(f"/families/{family.id}/plan/safety").status_code == 200
    assert is_problem(read_api.post(network, {"name": "Juf"}), 403)
    assert is_problem(
        read_api.call("PUT", f"/families/{family.id}/plan/safety", {"version": 1}), 403
    )
    assert write_api.post(network, {"name": "Juf Anja", "kind": "professional"}).status_code == 201
