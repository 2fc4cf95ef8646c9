"""A mother and a father with parental authority in one family space, and a conversation of the
two of them; each signs in in their own browser."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.models import Conversation, Message, Participant
from tests.e2e.people import PASSWORD

MOTHER = "marieke@example.org"
FATHER = "mark@example.org"


@dataclass(frozen=True)
class TwoHomes:
    family_id: int
    conversation_id: int
    mother_id: int
    father_id: int

    @property
    def conversation_url(self) -> str:
        return f"/families/{self.family_id}/messages/{self.conversation_id}"


def seed(app: Flask) -> TwoHomes:
    with app.app_context():
        now = clock.now()
        people = [
            User(
                email=email,
                display_name=name,
                password_hash=passwords.hash_password(PASSWORD),
                email_verified_at=now,
            )
            for email, name in ((MOTHER, "Marieke de Vries"), (FATHER, "Mark de Vries"))
        ]
        db.session.add_all(people)
        db.session.flush()
        mother, father = people
        family = Family(name="Gezin De Vries", created_by_id=mother.id)
        db.session.add(family)
        db.session.flush()
        for user, label in ((mother, "Mama"), (father, "Papa")):
            db.session.add(
                Member(
                    family_id=family.id,
                    user_id=user.id,
                    role=ROLE_PARENT,
                    display_name=label,
                    has_authority=True,
                    joined_at=now,
                )
            )
        conversation = Conversation(family_id=family.id, topic="Omgang", created_by_id=mother.id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            [Participant(conversation_id=conversation.id, user_id=u.id) for u in people]
        )
        db.session.commit()
        homes = TwoHomes(family.id, conversation.id, mother.id, father.id)
        db.session.remove()
    return homes


def read_position(app: Flask, homes: TwoHomes, user_id: int) -> int:
    """How far this person read the conversation, as stored."""
    with app.app_context():
        row = db.session.get(Participant, (homes.conversation_id, user_id))
        assert row is not None
        seq = row.last_read_seq
        db.session.remove()
    return seq


def stored_messages(app: Flask, homes: TwoHomes) -> int:
    with app.app_context():
        n = db.session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == homes.conversation_id)
        )
        db.session.remove()
    return int(n or 0)
