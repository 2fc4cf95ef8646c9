"""The authorization matrix's rows for what is done to a member: every kind of actor x remove /
change authority / change birth date x every kind of member (over the JSON API, as a bearer).

An allowed change is sent with a stale version, so it answers 409 and changes nothing; a refused
one answers 403 (404 for strangers) and leaves exactly one 'denied' row in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from portal import db
from portal.auth.models import User
from portal.family.models import ROLE_PARENT, ROLE_PARTNER, Family, Member
from tests.access.test_matrix import (
    ACTORS,
    CONFLICT,
    FAMILY_MEMBERS,
    FORBIDDEN,
    GUESTS_ACTIVE,
    GUESTS_ENDED,
    NOT_FOUND,
    STRANGERS,
    audit_counts,
    world,  # noqa: F401  (the matrix's family, its people and their tokens)
)

STALE = 10**6
# Every kind of member: the two parents with authority (one made the family), a parent with
# authority who was invited but has not joined, a parent without authority, a partner, young
# people who joined, a child without a login, and the network.
TARGETS = (
    "parent",
    "other_parent",
    "invited_parent",
    "carer",
    "partner",
    "young_12_15",
    "young_16_17",
    "child",
    "network",
)
ACTIONS = ("remove", "authority", "birth_date")
AUTHORITY_HOLDERS = ("parent", "other_parent")  # over every child of this family


def expected(actor: str, target: str, action: str) -> int:
    if actor in STRANGERS:
        return NOT_FOUND
    if actor in GUESTS_ACTIVE or actor in GUESTS_ENDED:
        return FORBIDDEN
    assert actor in FAMILY_MEMBERS
    if action == "authority":
        return FORBIDDEN  # only the operator command, never anyone in the family
    if actor == target:
        # Everyone may leave; nobody changes their own birth date (the operator's).
        return CONFLICT if action == "remove" else FORBIDDEN
    if actor not in AUTHORITY_HOLDERS:
        return FORBIDDEN
    if target in ("parent", "other_parent"):
        return FORBIDDEN  # a parent with authority is never removed or changed by another
    if target == "invited_parent":
        return CONFLICT if actor == "parent" else FORBIDDEN  # withdrawn by who sent it
    if target in ("young_12_15", "young_16_17"):
        return FORBIDDEN  # leaves only themself; birth date only by the operator
    if target == "child":
        return CONFLICT
    # Adults who joined: removed by a parent with authority; their birth date is their own.
    return CONFLICT if action == "remove" else FORBIDDEN


@pytest.fixture
def members(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
    make_user: Callable[..., User],
    add_member: Callable[..., Member],
) -> dict[str, int]:
    family = world["family"]
    users = world["users"]
    assert isinstance(family, Family)
    partner = add_member(family, make_user(name="Partner"), ROLE_PARTNER)
    invited = add_member(family, None, ROLE_PARENT, has_authority=True, name="Ouder Drie")
    with app.app_context():
        row = db.session.get(Member, invited.id)
        assert row is not None
        row.added_by_id = users["parent"].id
        row.email = "drie@example.org"
        ids = {
            m.user_id: m.id
            for m in db.session.query(Member).where(Member.family_id == family.id)
            if m.user_id
        }
        db.session.commit()
        db.session.remove()
    found = {name: ids[users[name].id] for name in FAMILY_MEMBERS}
    child = world["child"]
    assert isinstance(child, Member)
    return {**found, "partner": partner.id, "invited_parent": invited.id, "child": child.id}


def request_for(action: str, target: str) -> tuple[str, dict[str, Any]]:
    if action == "remove":
        return "DELETE", {"version": STALE}
    if action == "birth_date":
        return "PATCH", {"version": STALE, "birth_date": "2001-02-03"}
    if target in ("young_12_15", "young_16_17", "child"):
        return "PATCH", {"version": STALE, "authority_holders": []}
    # Parents with authority lose it, the others would get it.
    with_authority = target in ("parent", "other_parent", "invited_parent")
    return "PATCH", {"version": STALE, "has_authority": not with_authority}


# Anonymous callers are in the route matrix (401 before anything is looked at).
@pytest.mark.parametrize("actor", [actor for actor in ACTORS if actor != "anonymous"])
def test_member_matrix(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
    members: dict[str, int],
    actor: str,
) -> None:
    fid = world["family"].id
    headers = {"Authorization": f"Bearer {world['bearer'][actor]}"}
    failures = []
    client = app.test_client()
    for target in TARGETS:
        for action in ACTIONS:
            method, body = request_for(action, target)
            before = audit_counts(app)
            response = client.open(
                f"/api/v1/families/{fid}/members/{members[target]}",
                method=method,
                json=body,
                headers=headers,
            )
            want = expected(actor, target, action)
            if response.status_code != want:
                failures.append(f"{action} {target}: expected {want}, got {response.status_code}")
                continue
            total, denied = audit_counts(app)
            if want in (FORBIDDEN, NOT_FOUND) and (total, denied) != (before[0] + 1, before[1] + 1):
                failures.append(f"{action} {target}: refusal without exactly one audit row")
            if want == CONFLICT and total == before[0]:
                failures.append(f"{action} {target}: no audit row")
    assert not failures, f"{actor}:\n" + "\n".join(failures)
