"""Demo data for trying the portal (`make demo`): one family across two households.

Never loaded by the app or the tests; it is a separate command and refuses production.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select

from portal import db
from portal.access import authority
from portal.auth import passwords
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family import services as family_services
from portal.family.models import ROLE_NETWORK, ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member

DEMO_PASSWORD = "demo-wachtwoord"  # noqa: S105  (printed for people trying the demo)


def _user(email: str, name: str, **fields: object) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            display_name=name,
            password_hash=passwords.hash_password(DEMO_PASSWORD),
            email_verified_at=clock.now(),
            **fields,
        )
        db.session.add(user)
        db.session.flush()
    return user


def seed() -> Iterator[str]:
    if db.session.scalar(select(Family).where(Family.name == "Gezin Jansen (demo)")):
        yield "Demo family already present; nothing changed."
        return
    mother = _user("marieke@demo.gezinsportaal.nl", "Marieke Jansen")
    father = _user("ahmed@demo.gezinsportaal.nl", "Ahmed Jansen")
    sanne = _user("sanne@demo.gezinsportaal.nl", "Sanne Jansen")
    _user(
        "coach@demo.gezinsportaal.nl",
        "Coach Linda Bakker",
        kind=KIND_PROFESSIONAL,
        profession="cjg_coach",
        organisation="CJG Utrecht (demo)",
    )
    family = Family(name="Gezin Jansen (demo)", created_by_id=mother.id)
    db.session.add(family)
    db.session.flush()
    family_services.add_plan_rows(family)
    now = clock.now()
    people = [
        Member(
            role=ROLE_PARENT,
            user_id=mother.id,
            display_name="Mama (Marieke)",
            has_authority=True,
            household="Huis van mama, Utrecht",
            joined_at=now,
        ),
        Member(
            role=ROLE_PARENT,
            user_id=father.id,
            display_name="Papa (Ahmed)",
            has_authority=True,
            household="Huis van papa, Nieuwegein",
            joined_at=now,
        ),
        Member(
            role=ROLE_YOUNG_PERSON,
            user_id=sanne.id,
            display_name="Sanne",
            birth_date=date(now.year - 14, 3, 12),
            joined_at=now,
        ),
        Member(role=ROLE_YOUNG_PERSON, display_name="Daan", birth_date=date(now.year - 9, 9, 1)),
        Member(role=ROLE_NETWORK, display_name="Oma Truus", relation="oma"),
        Member(role=ROLE_NETWORK, display_name="Meester Kees", relation="JIM (mentor van Sanne)"),
    ]
    for person in people:
        person.family_id = family.id
        person.added_by_id = mother.id
        db.session.add(person)
    db.session.flush()
    # Both parents hold authority over both children (recorded per child).
    parents, children = people[:2], people[2:4]
    authority.record_for_new_child(children[0], parents, mother.id)
    authority.record_for_new_child(children[1], parents, mother.id)
    db.session.commit()
    yield "Demo family 'Gezin Jansen (demo)' loaded."
    yield "Sign in as marieke@demo.gezinsportaal.nl, ahmed@…, sanne@… or coach@… "
    yield f"with password: {DEMO_PASSWORD}"
