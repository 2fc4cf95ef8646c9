"""The plan page's cached sections (portal/family/plan_page.py, portal/core/caching.py): never
served to a reader the policy refuses, never with another reader's CSRF token or view, drawn
again after a change in the family, a guest's access starting or ending by the clock, midnight
and an account's new name, and not after a change in another family. Draws and cache hits are
counted per section (portal.core.caching.draws / hits)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import db
from portal.access.models import AuditEvent
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import caching, clock
from portal.family.models import (
    ROLE_NETWORK,
    Agreement,
    Family,
    Goal,
    GoalScore,
    Member,
    Plan,
    SafetyPlan,
)
from tests.helpers import add_grant, csrf_from, post_form, sign_in

SECTIONS = ("plan.network", "plan.goals", "plan.agreements", "plan.moments")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# Winter: Amsterdam is UTC+1, so 09:00 UTC is 10:00 there and 22:50 UTC is 23:50.
MORNING = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class Tally:
    """Draws and cache hits of the plan's sections since the last look."""

    def __init__(self) -> None:
        self._draws, self._hits = Counter(caching.draws), Counter(caching.hits)

    def since(self) -> tuple[int, int]:
        draws = sum(caching.draws[n] - self._draws[n] for n in SECTIONS)
        hits = sum(caching.hits[n] - self._hits[n] for n in SECTIONS)
        self._draws, self._hits = Counter(caching.draws), Counter(caching.hits)
        return draws, hits


@dataclass
class World:
    family: Family
    mother: User
    father: User
    coach: User
    plan: str


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> World:
    """Gezin De Vries: two parents who may change the plan, Oma Els in the network, a goal with
    scores, an agreement due today, and Coach Sam reading the plan for four more hours."""
    clock.freeze(MORNING)
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    add_member(family, None, ROLE_NETWORK, name="Oma Els")
    coach = professional(make_user, "Coach Sam", "CJG Noord")
    add_grant(app, family.id, coach.id, {"plan": "read"}, expires_at=MORNING + timedelta(hours=4))
    with app.app_context():
        # As a family made through the portal has them (a first view would make them).
        db.session.add_all([Plan(family_id=family.id), SafetyPlan(family_id=family.id)])
        goal = Goal(family_id=family.id, title="Samen eten", created_by_name="Mama")
        db.session.add(goal)
        db.session.flush()
        for day, score in ((1, 3), (5, 6)):
            db.session.add(
                GoalScore(
                    goal_id=goal.id,
                    family_id=family.id,
                    score=score,
                    scored_on=date(2026, 12, day),
                    by_name="Mama",
                )
            )
        db.session.add(
            Agreement(
                family_id=family.id,
                what="Fietsen naar school",
                owner_name="Papa",
                due_on=clock.today(),
                created_by_name="Mama",
            )
        )
        db.session.commit()
        db.session.remove()
    return World(family, mother, father, coach, f"/families/{family.id}/plan")


def professional(make_user: Callable[..., User], name: str, organisation: str) -> User:
    return make_user(
        name=name,
        kind=KIND_PROFESSIONAL,
        organisation=organisation,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )


def reader(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user, totp_secret=SECRET if user.kind == KIND_PROFESSIONAL else None)
    return client


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sections_of(html: str) -> str:
    """The cached part of the page: from de bloem to the end of the moments."""
    return html[html.index('<section aria-labelledby="network"') : html.index("plan-live.js")]


def stamp(app: Flask, family: Family) -> str:
    with app.app_context():
        found = db.session.get(Family, family.id)
        assert found is not None
        value = found.change_stamp
        db.session.remove()
    return value


def denials(app: Flask, user: User, family: Family) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.actor_user_id == user.id,
                AuditEvent.family_id == family.id,
                AuditEvent.outcome == "denied",
            )
        )
        db.session.remove()
    return int(count or 0)


def test_a_reader_the_policy_refuses_gets_nothing_from_the_cache(
    app: Flask,
    world: World,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    stranger = make_user(name="Ander Gezin")
    make_family(stranger, name="Gezin Jansen")
    dossier_only = professional(make_user, "Alleen Dossier", "GGD")
    add_grant(app, world.family.id, dossier_only.id, {"dossier": "read"})
    former = professional(make_user, "Oud Gast", "Jeugdteam")
    add_grant(app, world.family.id, former.id, {"plan": "write"}, expires_at=clock.now())
    tally = Tally()
    assert "Samen eten" in page(reader(app, world.mother), world.plan)
    assert tally.since() == (4, 0)
    for user, status in ((stranger, 404), (dossier_only, 403), (former, 403)):
        refused = reader(app, user).get(world.plan)
        text = refused.get_data(as_text=True)
        assert refused.status_code == status, user.display_name
        assert "Oma Els" not in text and "Samen eten" not in text and "Fietsen" not in text
        assert tally.since() == (0, 0), user.display_name  # not even looked up
        assert denials(app, user, world.family) == 1, user.display_name

    # A guest who may only read has a view of their own: drawn for them, without edit links.
    coach = page(reader(app, world.coach), world.plan)
    assert tally.since() == (4, 0)
    assert "Samen eten" in coach and "Wijzigen" not in coach and "Doel toevoegen" not in coach
    assert "Wijzigen" in page(reader(app, world.father), world.plan)
    assert tally.since() == (0, 4)


def test_a_served_copy_holds_only_its_own_readers_token(app: Flask, world: World) -> None:
    tally = Tally()
    mother, father = reader(app, world.mother), reader(app, world.father)
    mothers = page(mother, world.plan)
    assert tally.since() == (4, 0)
    fathers = page(father, world.plan)
    assert tally.since() == (0, 4)  # the same sections, served from the cache
    mothers_tokens = set(TOKEN.findall(sections_of(mothers)))
    fathers_tokens = set(TOKEN.findall(sections_of(fathers)))
    assert mothers_tokens == {csrf_from(mothers)} and fathers_tokens == {csrf_from(fathers)}
    assert mothers_tokens != fathers_tokens
    assert "csrf-slot" not in mothers + fathers
    (mothers_token,), (fathers_token,) = mothers_tokens, fathers_tokens
    assert sections_of(mothers).replace(mothers_token, "") == sections_of(fathers).replace(
        fathers_token, ""
    )
    # The token in the father's served copy is his: his score is taken.
    goal_id = re.search(r'id="goal-(\d+)"', fathers)
    assert goal_id
    scored = father.post(
        f"{world.plan}/goals/{goal_id.group(1)}/scores",
        data={"csrf_token": fathers_token, "score": "7"},
    )
    assert scored.status_code == 302
    with app.app_context():
        logged = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.actor_user_id == world.father.id, AuditEvent.action == "plan.view")
        )
        db.session.remove()
    assert logged == 1  # the view served from the cache was decided and logged all the same


def test_a_change_in_the_family_is_drawn_and_one_in_another_family_is_not(
    app: Flask,
    world: World,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    mother = reader(app, world.mother)
    tally = Tally()
    page(mother, world.plan)
    page(mother, world.plan)
    assert tally.since() == (4, 4)

    added = post_form(
        mother, f"{world.plan}/goals", {"title": "Op tijd naar bed", "owner": "family"}
    )
    assert added.status_code == 302
    assert "Op tijd naar bed" in page(mother, world.plan)
    assert tally.since()[0] == 4  # the family's stamp changed with its goal

    neighbour = make_user(name="Buurvrouw")
    other = make_family(neighbour, name="Gezin Jansen")
    tally.since()
    elsewhere = post_form(
        reader(app, neighbour),
        f"/families/{other.id}/plan/goals",
        {"title": "Meer buiten spelen", "owner": "family"},
        form_path=f"/families/{other.id}/plan",
    )
    assert elsewhere.status_code == 302
    tally.since()
    unchanged = stamp(app, world.family)
    assert "Meer buiten spelen" not in page(mother, world.plan)
    assert tally.since() == (0, 4)  # another family's change leaves these sections alone
    assert stamp(app, world.family) == unchanged


def test_a_guests_access_starting_and_ending_by_the_clock_is_drawn(
    app: Flask, world: World, make_user: Callable[..., User]
) -> None:
    newcomer = professional(make_user, "Meester Bram", "School")
    add_grant(
        app,
        world.family.id,
        newcomer.id,
        {"plan": "read"},
        valid_from=MORNING + timedelta(hours=2),
    )
    mother = reader(app, world.mother)
    tally = Tally()
    before = sections_of(page(mother, world.plan))
    assert "Coach Sam" in before and "Meester Bram" not in before
    unchanged, today = stamp(app, world.family), clock.today()

    clock.advance(timedelta(hours=2, minutes=1))  # Meester Bram's access starts: nothing written
    started = sections_of(page(mother, world.plan))
    assert "Meester Bram" in started and "Coach Sam" in started
    assert tally.since()[0] == 8  # drawn before, and again now

    clock.advance(timedelta(hours=2))  # Coach Sam's access ends: nothing written
    ended = sections_of(page(mother, world.plan))
    assert "Coach Sam" not in ended and "Meester Bram" in ended
    assert tally.since()[0] == 4
    assert stamp(app, world.family) == unchanged and clock.today() == today
    assert reader(app, world.coach).get(world.plan).status_code == 403


def test_midnight_is_drawn(app: Flask, world: World) -> None:
    clock.freeze(datetime(2026, 12, 8, 22, 50, tzinfo=UTC))  # 23:50 in Amsterdam
    mother = reader(app, world.mother)
    tally = Tally()
    assert "te laat" not in page(mother, world.plan)  # due today
    page(mother, world.plan)
    assert tally.since() == (4, 4)
    unchanged = stamp(app, world.family)

    clock.advance(timedelta(minutes=20))  # 00:10: the agreement is late now
    assert "(te laat)" in page(mother, world.plan)
    assert tally.since() == (4, 0)
    assert stamp(app, world.family) == unchanged


def test_an_account_renamed_outside_the_family_is_drawn(app: Flask, world: World) -> None:
    mother = reader(app, world.mother)
    tally = Tally()
    assert "Coach Sam" in page(mother, world.plan)
    page(mother, world.plan)
    assert tally.since() == (4, 4)
    unchanged = stamp(app, world.family)
    with app.app_context():  # as an organisation's sign-in or the operator would
        coach = db.session.get(User, world.coach.id)
        assert coach is not None
        coach.display_name = "Coach Samira"
        db.session.commit()
        db.session.remove()

    renamed = sections_of(page(mother, world.plan))
    assert "Coach Samira" in renamed and "Coach Sam<" not in renamed
    assert tally.since()[0] == 4
    assert stamp(app, world.family) == unchanged


def test_a_section_drawn_in_a_transaction_that_changed_the_family_is_not_kept(
    app: Flask, world: World
) -> None:
    """What such a section shows is not committed (and may never be)."""
    from portal.family.plan_page import sections

    with app.test_request_context(world.plan):
        family = db.session.get(Family, world.family.id)
        assert family is not None
        db.session.add(Goal(family_id=family.id, title="Nooit bewaard", created_by_name="Mama"))
        assert "Nooit bewaard" in sections(family, can_edit=True)["goals"]
        db.session.rollback()
        db.session.remove()
    assert "Nooit bewaard" not in page(reader(app, world.mother), world.plan)
