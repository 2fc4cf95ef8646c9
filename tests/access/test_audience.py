"""Who receives a family's live events: the sign-ins the policy allows at the moment of the
change, found for many people at once (portal/access/audience.py). Each reader list is checked
against the policy asked one person at a time, as a page asks it, and against what a family
expects by name: a sign-out, an ended grant, a removal or another family keeps someone out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access.audience import (
    _CONVERSATION_READERS,
    _FAMILY_READERS,
    conversation_readers,
    family_readers,
)
from portal.access.models import Grant, GrantPart
from portal.access.policy import Actor, decide
from portal.auth.models import KIND_PROFESSIONAL, User, UserSession
from portal.core import clock
from portal.core.tokens import new_token, token_hash
from portal.family.models import ROLE_NETWORK, ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from portal.messaging.models import Conversation, Participant
from tests.conftest import backend
from tests.helpers import years_ago


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> Iterator[dict[str, Any]]:
    people = {
        name: make_user(email=f"{name}@example.org", name=name, **extra)
        for name, extra in {
            "parent": {},
            "carer": {},
            "young": {},
            "network": {},
            "removed": {},
            "stranger": {},
            "guest_all": {"kind": KIND_PROFESSIONAL},
            "guest_dossier": {"kind": KIND_PROFESSIONAL},
            "guest_revoked": {"kind": KIND_PROFESSIONAL},
            "guest_expired": {"kind": KIND_PROFESSIONAL},
            "guest_not_yet": {"kind": KIND_PROFESSIONAL},
            "guest_elsewhere": {"kind": KIND_PROFESSIONAL},
        }.items()
    }
    family = make_family(people["parent"])
    other = make_family(people["stranger"], name="Ander gezin")
    add_member(family, people["carer"], ROLE_PARENT)
    add_member(family, people["young"], ROLE_YOUNG_PERSON, birth_date=years_ago(14))
    add_member(family, people["network"], ROLE_NETWORK)
    removed = add_member(family, people["removed"], ROLE_NETWORK)
    add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(8), name="Kind")
    now = clock.now()
    week = timedelta(days=7)
    sessions: dict[str, tuple[str, str]] = {}  # sign-in -> (whose, session hash)
    with app.app_context():
        db.session.get(Member, removed.id).removed_at = now - timedelta(hours=1)  # type: ignore[union-attr]

        def grant(who: str, family_id: int, parts: dict[str, str], **when: Any) -> None:
            db.session.add(
                Grant(
                    family_id=family_id,
                    grantee_id=people[who].id,
                    origin="invitation",
                    purpose="Meekijken",
                    valid_from=when.get("valid_from", now - week),
                    expires_at=when.get("expires_at", now + week),
                    accepted_at=now - week,
                    approved_at=now - week,
                    revoked_at=when.get("revoked_at"),
                    parts=[GrantPart(part=p, level=level) for p, level in parts.items()],
                )
            )

        every_part = {"plan": "read", "dossier": "read", "messages": "write"}
        grant("guest_all", family.id, every_part)
        grant("guest_dossier", family.id, {"dossier": "read"})
        grant("guest_revoked", family.id, every_part, revoked_at=now - timedelta(seconds=1))
        grant("guest_expired", family.id, every_part, expires_at=now - timedelta(seconds=1))
        grant("guest_not_yet", family.id, every_part, valid_from=now + timedelta(days=1))
        grant("guest_elsewhere", other.id, every_part)

        def session(name: str, who: str, **state: Any) -> None:
            sessions[name] = (who, token_hash(new_token()))
            db.session.add(
                UserSession(
                    user_id=people[who].id,
                    token_hash=sessions[name][1],
                    method="password",
                    expires_at=state.get("expires_at", now + timedelta(hours=8)),
                    revoked_at=state.get("revoked_at"),
                )
            )

        for who in people:
            session(who, who)
        # The parent's other sign-ins: a second device, one signed out, one run out.
        session("parent_phone", "parent")
        session("parent_signed_out", "parent", revoked_at=now - timedelta(seconds=1))
        session("parent_ran_out", "parent", expires_at=now - timedelta(seconds=1))
        session("guest_all_signed_out", "guest_all", revoked_at=now - timedelta(seconds=1))

        conversation = Conversation(
            family_id=family.id, topic="School", created_by_id=people["parent"].id
        )
        db.session.add(conversation)
        db.session.flush()
        in_it = ["parent", "network", "removed", "guest_all", "guest_revoked", "guest_expired"]
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=people[who].id) for who in in_it
        )
        db.session.add(
            Participant(
                conversation_id=conversation.id,
                user_id=people["carer"].id,
                removed_at=now - timedelta(minutes=1),
            )
        )
        db.session.commit()
        conversation_id = conversation.id
        db.session.remove()
    yield {
        "people": people,
        "family": family,
        "sessions": sessions,
        "conversation_id": conversation_id,
    }


def names(world: dict[str, Any], readers: list[tuple[int, str]]) -> set[str]:
    """The sign-ins of a reader list by name; each with its own person's id, each once."""
    by_hash = {hashed: (name, who) for name, (who, hashed) in world["sessions"].items()}
    found = set()
    for user_id, session_hash in readers:
        name, who = by_hash[session_hash]
        assert world["people"][who].id == user_id
        assert name not in found
        found.add(name)
    return found


def one_by_one(world: dict[str, Any], action: str, resource: Any) -> set[str]:
    """The sign-ins whose person the policy allows `action`, asked for each person on their
    own (the policy reads their membership, grants and participation itself), as a page asks."""
    now = clock.now()
    allowed = set()
    for name, (_, hashed) in world["sessions"].items():
        row = db.session.execute(
            select(UserSession.user_id).where(
                UserSession.token_hash == hashed,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
        ).first()
        if row is not None:
            user = db.session.get(User, row.user_id)
            if decide(Actor(user=user), action, resource).allowed:
                allowed.add(name)
    return allowed


def test_a_family_event_reaches_exactly_the_sign_ins_the_policy_allows(
    app: Flask, world: dict[str, Any]
) -> None:
    with app.app_context():
        family = db.session.get(Family, world["family"].id)
        plan = names(world, family_readers(family, "plan.view"))
        dossier = names(world, family_readers(family, "dossier.view"))
        assert plan == one_by_one(world, "plan.view", family)
        assert dossier == one_by_one(world, "dossier.view", family)
        db.session.rollback()
    # What the family expects, by name.
    assert plan == {"parent", "parent_phone", "carer", "young", "network", "guest_all"}
    assert dossier == {"parent", "parent_phone", "carer", "young", "guest_all", "guest_dossier"}


def test_a_message_reaches_exactly_the_sign_ins_that_may_read_it(
    app: Flask, world: dict[str, Any]
) -> None:
    with app.app_context():
        conversation = db.session.get(Conversation, world["conversation_id"])
        readers = names(world, conversation_readers(conversation))
        assert readers == one_by_one(world, "message.view", conversation)
        db.session.rollback()
    # Not: a participant taken out (carer), a former member still listed (removed), guests
    # whose grant was revoked or ran out, a signed-out or run-out sign-in, or people of the
    # family who are not in the conversation (young).
    assert readers == {"parent", "parent_phone", "network", "guest_all"}


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite's query plan")
def test_readers_are_found_through_indexes_not_by_reading_every_session(
    app: Flask, world: dict[str, Any]
) -> None:
    """Every sign-in ever made stays in user_session (signed out, run out): the readers of an
    event must be looked up by person, not by reading them all, nor all of a family's members
    for each person."""
    with app.app_context():
        connection = db.session.connection()
        for statement in (_CONVERSATION_READERS, _FAMILY_READERS):
            compiled = statement.compile(dialect=connection.dialect)
            params = {key: 1 for key in compiled.params}
            params["now"] = clock.now().isoformat()
            plan = [
                row[-1]
                for row in connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {compiled}", tuple(params[k] for k in compiled.positiontup)
                )
            ]
            assert not [step for step in plan if step.startswith("SCAN")], plan
            member_steps = [s for s in plan if s.startswith("SEARCH member ")]
            assert member_steps and all("user_id=?" in s for s in member_steps), plan
        db.session.rollback()
