"""A family's change stamp (portal/family/changes.py): new with every change of the family's own
data, in that transaction, also by a statement outside the unit of work; the same after a page
view, a message, or a change in another family."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from portal import db
from portal.access import authority
from portal.auth.models import User
from portal.family.models import ROLE_YOUNG_PERSON, Family, Goal, Member
from portal.messaging.models import Conversation, Message
from tests.helpers import sign_in, years_ago


def stamp(family_id: int) -> str:
    found = db.session.get(Family, family_id)
    assert found is not None
    db.session.refresh(found)
    return found.change_stamp


def test_the_stamp_follows_the_familys_own_changes(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father, neighbour = make_user(), make_user(), make_user()
    family, other = make_family(mother), make_family(neighbour, name="Gezin Jansen")
    dad = add_member(family, father, "parent", has_authority=True)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(8), name="Daan")
    add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(6), name="Sanne")
    client = app.test_client()
    sign_in(client, mother)
    client.get(f"/families/{family.id}/plan")  # (its plan rows are made at the first view)
    with app.app_context():
        before = stamp(family.id)
        assert client.get(f"/families/{family.id}/plan").status_code == 200
        assert stamp(family.id) == before  # a page view changes nothing

        db.session.add(Goal(family_id=other.id, title="Buiten spelen", created_by_name="Buur"))
        db.session.commit()
        assert stamp(family.id) == before  # another family's change

        talk = Conversation(family_id=family.id, topic="Vakantie", created_by_id=mother.id)
        db.session.add(talk)
        db.session.flush()
        db.session.add(
            Message(
                conversation_id=talk.id,
                family_id=family.id,
                seq=1,
                author_id=mother.id,
                author_name="Mama",
                body="Hallo",
                client_key="k1",
            )
        )
        db.session.commit()
        assert stamp(family.id) == before  # conversations are not counted

        goal = Goal(family_id=family.id, title="Samen eten", created_by_name="Mama")
        db.session.add(goal)
        db.session.commit()  # flushed by the commit itself
        after_goal = stamp(family.id)
        assert after_goal != before

        goal.title = "Samen koken"
        db.session.flush()
        db.session.rollback()  # a change rolled back is no change…
        db.session.add(Goal(family_id=other.id, title="Fietsen", created_by_name="Buur"))
        db.session.commit()  # …also not at the next commit
        assert stamp(family.id) == after_goal

        papa, daan = db.session.get(Member, dad.id), db.session.get(Member, child.id)
        assert papa is not None and daan is not None
        # A bulk DELETE only: he keeps his authority over Sanne, so no member row changes.
        assert authority.change_by_operator(papa, daan, False, "TEST-1")
        db.session.commit()
        assert papa.has_authority
        assert stamp(family.id) != after_goal
        db.session.remove()
