"""An honest gedragen plan: the signers of a version are fixed when it is proposed (parents with
authority, also one who has not joined yet; young people of 12+, also without a login; guests
who write in the plan), "vastgesteld" only when all of them signed or a young person was marked
"doet niet mee" with a reason; "niet akkoord" with a reason; proposing mails every signer
without plan content; a later edit replaces the proposal; the version reads like the plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from babel.dates import format_date
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from portal.family.plan_history_models import PlanSignoff, PlanVersion
from tests.api.client import Api, is_problem
from tests.helpers import years_ago
from tests.messaging.test_messaging import SECRET, api_for
from tests.support.servers import SmtpServer

GOAL = "Rustige ochtenden zonder ruzie"
ANSWER = "Elke ochtend samen ontbijten"


def _grant(family: Family, user: User, level: str) -> None:
    now = clock.now()
    db.session.add(
        Grant(
            family_id=family.id,
            grantee_id=user.id,
            origin="invitation",
            purpose="Plan maken",
            valid_from=now - timedelta(days=1),
            expires_at=now + timedelta(days=30),
            accepted_at=now,
            approved_at=now,
            parts=[GrantPart(part="plan", level=level)],
        )
    )


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    """A mother with the family's space; the father (authority, another household) invited but
    not joined; a 14-year-old with a login; a 13-year-old without one; a 9-year-old; a
    step-parent; a coach who writes in the plan and a doctor who only reads it."""
    mother = make_user(name="Marieke", email="marieke@example.org")
    father = make_user(name="Mark", email="mark@example.org")
    teen = make_user(name="Sanne", email="sanne@example.org")
    step = make_user(name="Stief", email="stief@example.org")
    coach = make_user(
        name="Coach Linda",
        email="linda@cjg.example",
        kind=KIND_PROFESSIONAL,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )
    reader = make_user(
        name="Dokter Jan",
        email="jan@huisarts.example",
        kind=KIND_PROFESSIONAL,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )
    family = make_family(mother)
    add_member(family, teen, ROLE_YOUNG_PERSON, birth_date=years_ago(14))
    add_member(family, step, ROLE_PARENT)
    add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(13), name="Tim")
    add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(9), name="Daan")
    with app.app_context():
        invited = Member(
            family_id=family.id,
            role=ROLE_PARENT,
            display_name="Mark",
            has_authority=True,
            household="Amersfoort",
            email="mark@example.org",
            invited_at=clock.now(),
        )
        db.session.add(invited)
        _grant(family, coach, "write")
        _grant(family, reader, "read")
        db.session.commit()
        father_member = invited.id
        db.session.remove()
    apis = {
        name: api_for(app, user)
        for name, user in [
            ("mother", mother),
            ("teen", teen),
            ("step", step),
            ("coach", coach),
            ("reader", reader),
        ]
    }
    return {"family": family, "father": father, "father_member": father_member, **apis}


def father_joins(app: Flask, world: dict[str, Any]) -> Api:
    with app.app_context():
        member = db.session.get(Member, world["father_member"])
        assert member is not None
        member.user_id, member.joined_at = world["father"].id, clock.now()
        db.session.commit()
        db.session.remove()
    return api_for(app, world["father"])


def propose(api: Api, fid: int) -> dict[str, Any]:
    goal = api.post(f"/families/{fid}/plan/goals", {"title": GOAL, "owner": "young_person"})
    assert goal.status_code == 201, goal.get_json()
    answers = {
        "tomorrow": ANSWER,
        "version": api.get(f"/families/{fid}/plan").get_json()["version"],
    }
    assert api.call("PUT", f"/families/{fid}/plan", answers).status_code == 200
    proposed = api.post(f"/families/{fid}/plan/versions")
    assert proposed.status_code == 201, proposed.get_json()
    return dict(proposed.get_json())


def states(api: Api, fid: int, number: int) -> dict[str, str]:
    version = api.get(f"/families/{fid}/plan/versions/{number}").get_json()
    return {s["name"]: s["state"] for s in version["signers"]}


def test_vastgesteld_only_when_every_signer_signed(
    app: Flask, world: dict[str, Any], smtp_server: SmtpServer
) -> None:
    fid, mother, teen, coach = (world[k] for k in ("family", "mother", "teen", "coach"))
    fid = fid.id
    version = propose(mother, fid)
    # Fixed now: both parents with authority (the father has not joined yet), the young people
    # of 12+ (Tim has no login), the coach who writes in the plan. Not the step-parent, the
    # 9-year-old or the doctor who only reads.
    assert states(mother, fid, 1) == {
        "Marieke": "waiting",
        "Sanne": "waiting",
        "Tim": "not_invited",
        "Mark": "invited",
        "Coach Linda": "waiting",
    }
    # Every signer who can be reached gets a mail, without anything from the plan.
    for address in (
        "marieke@example.org",
        "mark@example.org",
        "sanne@example.org",
        "linda@cjg.example",
    ):
        mail = smtp_server.wait_for(lambda m, a=address: m["To"] == a)
        assert mail["Subject"] == "Versie 1 van jullie gezinsplan wacht op jouw handtekening"
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert f"/families/{fid}/plan/versions/1" in body
        assert GOAL not in body and ANSWER not in body and "ontbijt" not in body

    # The father has not joined yet: his mail says to use his invitation first.
    def body_to(address: str) -> str:
        mail = smtp_server.wait_for(lambda m: m["To"] == address)
        return str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]

    assert "Gebruik dan eerst de uitnodiging" in body_to("mark@example.org")
    assert "uitnodiging" not in body_to("sanne@example.org")
    # Each signer's overview says so, a guest's too; not the doctor's, who only reads.
    for api in (mother, teen, coach):
        overview = api.client.get(f"/families/{fid}").get_data(as_text=True)
        assert "Versie 1 wacht op jouw handtekening" in overview
    doctor = world["reader"].client.get(f"/families/{fid}").get_data(as_text=True)
    assert "wacht op jouw handtekening" not in doctor
    addresses = {m["To"] for m in smtp_server.messages()}
    assert "stief@example.org" not in addresses and "jan@huisarts.example" not in addresses

    sign = {"version": version["number"]}
    for api in (mother, teen, coach):
        assert api.post(f"/families/{fid}/plan/signoffs", sign).status_code == 201
    # Three signatures of five: not vastgesteld (the defect: one signature was "everyone").
    status = mother.get(f"/families/{fid}/plan/versions").get_json()["status"]
    assert status["state"] == "proposed"
    assert {s["name"]: s["state"] for s in status["waiting_for"]} == {
        "Tim": "not_invited",
        "Mark": "invited",
    }
    page = mother.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    assert "Nog niet uitgenodigd" in page and "Uitgenodigd, maar nog niet aangemeld" in page
    assert "Vastgesteld" not in mother.client.get(f"/families/{fid}/plan").get_data(as_text=True)

    # The father joins: his overview says the version waits for him; he signs.
    father = father_joins(app, world)
    overview = father.client.get(f"/families/{fid}").get_data(as_text=True)
    assert "Versie 1 wacht op jouw handtekening" in overview
    assert "wacht op jouw handtekening" not in mother.client.get(f"/families/{fid}").get_data(
        as_text=True
    )
    assert father.post(f"/families/{fid}/plan/signoffs", sign).status_code == 201
    assert mother.get(f"/families/{fid}/plan/versions").get_json()["status"]["state"] == "proposed"

    # Tim has no login: a parent with authority marks him "doet niet mee", with a reason.
    tim = next(
        s
        for s in mother.get(f"/families/{fid}/plan/versions/1").get_json()["signers"]
        if s["name"] == "Tim"
    )
    mark = {"version": 1, "answer": "not_taking_part", "signer": tim["id"]}
    no_reason = father.post(f"/families/{fid}/plan/signoffs", mark)
    assert is_problem(no_reason, 422) and no_reason.get_json()["errors"][0]["field"] == "reason"
    # Not the step-parent (no authority), not the young person, not the coach.
    for api in (world["step"], teen, coach):
        assert is_problem(api.post(f"/families/{fid}/plan/signoffs", {**mark, "reason": "x"}), 403)
    reason = "Tim wil er nu niet over praten; we lezen het plan samen met hem."
    done = father.post(f"/families/{fid}/plan/signoffs", {**mark, "reason": reason})
    assert done.status_code == 201 and done.get_json()["agreed_at"] is not None
    assert mother.get(f"/families/{fid}/plan/versions").get_json()["status"]["state"] == "agreed"
    # Everyone sees who signed, with dates, and the reason.
    page = teen.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    today = format_date(clock.today(), "long", locale="nl")
    assert page.count(f"Getekend op {today}") == 4
    assert "Doet niet mee (aangegeven door Mark op" in page and reason in page
    assert "Vastgesteld" in page


def test_niet_akkoord_with_a_reason_everyone_sees(world: dict[str, Any]) -> None:
    fid, mother, teen, coach = world["family"].id, world["mother"], world["teen"], world["coach"]
    propose(mother, fid)
    url = f"/families/{fid}/plan/signoffs"
    assert is_problem(teen.post(url, {"version": 1, "answer": "disagree"}), 422)
    assert is_problem(teen.post(url, {"version": 1, "answer": "disagree", "reason": " "}), 422)
    assert is_problem(teen.post(url, {"version": 1, "answer": "maybe"}), 422)
    why = "Ik wil zelf kiezen wanneer ik mijn huiswerk maak."
    answered = teen.post(url, {"version": 1, "answer": "disagree", "reason": why})
    assert answered.status_code == 201
    sanne = next(s for s in answered.get_json()["signers"] if s["name"] == "Sanne")
    assert (sanne["state"], sanne["reason"]) == ("disagreed", why)
    # A parent cannot mark a young person who answered herself as "doet niet mee".
    overruled = mother.post(
        url, {"version": 1, "answer": "not_taking_part", "signer": sanne["id"], "reason": "x"}
    )
    assert is_problem(overruled, 409) and overruled.get_json()["reason"] == "young_person_answered"
    # Everyone sees it, on the version and on the plan page; the plan is not vastgesteld.
    for api in (mother, coach):
        page = api.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
        assert "Niet akkoord" in page and why in page
    assert "Sanne (niet akkoord)" in mother.client.get(f"/families/{fid}/plan").get_data(
        as_text=True
    )
    # After talking it over she may still sign.
    assert teen.post(url, {"version": 1}).status_code == 201
    assert states(mother, fid, 1)["Sanne"] == "signed"


def test_the_page_keeps_a_reason_that_is_too_long(world: dict[str, Any]) -> None:
    fid, teen = world["family"].id, world["teen"]
    propose(world["mother"], fid)
    text = "Dit klopt niet voor mij. " * 100  # 2,500 characters: over the limit of 2,000
    response = teen.client.post(
        f"/families/{fid}/plan/versions/1/sign",
        data={"answer": "disagree", "reason": text, "csrf_token": teen.csrf()},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "hoogstens 2.000 tekens hebben; je hebt er 2.499." in page and text.strip() in page
    assert states(world["mother"], fid, 1)["Sanne"] == "waiting"


def test_someone_who_joins_later_is_added_to_the_open_version(
    app: Flask,
    world: dict[str, Any],
    make_user: Callable[..., User],
    add_member: Callable[..., Member],
) -> None:
    fid, mother, teen = world["family"].id, world["mother"], world["teen"]
    propose(mother, fid)
    brother = make_user(name="Bram", email="bram@example.org")
    add_member(world["family"], brother, ROLE_YOUNG_PERSON, birth_date=years_ago(15))
    signers = mother.get(f"/families/{fid}/plan/versions/1").get_json()["signers"]
    bram = next(s for s in signers if s["name"] == "Bram")
    assert bram["state"] == "waiting" and bram["joined_later"] is True
    # Stored with the version once someone answers; he still has to sign.
    assert teen.post(f"/families/{fid}/plan/signoffs", {"version": 1}).status_code == 201
    signers = mother.get(f"/families/{fid}/plan/versions/1").get_json()["signers"]
    assert next(s for s in signers if s["name"] == "Bram")["id"] is not None
    assert "Bram" in [
        s["name"]
        for s in mother.get(f"/families/{fid}/plan/versions").get_json()["status"]["waiting_for"]
    ]
    bram_api = api_for(app, brother)
    assert "Versie 1 wacht op jouw handtekening" in bram_api.client.get(
        f"/families/{fid}"
    ).get_data(as_text=True)


def test_an_edit_replaces_the_open_proposal_and_asks_to_propose_again(
    world: dict[str, Any],
) -> None:
    fid, mother, teen = world["family"].id, world["mother"], world["teen"]
    propose(mother, fid)
    goal = mother.get(f"/families/{fid}/plan").get_json()["goals"][0]
    changed = teen.patch(
        f"/families/{fid}/plan/goals/{goal['id']}",
        {"version": goal["version"], "title": "Rustige ochtenden en avonden"},
    )
    assert changed.status_code == 200
    assert mother.get(f"/families/{fid}/plan/versions").get_json()["status"]["state"] == "replaced"
    assert mother.get(f"/families/{fid}/plan/versions/1").get_json()["open"] is False
    plan_page = teen.client.get(f"/families/{fid}/plan").get_data(as_text=True)
    assert "Versie 1 is daarom vervangen" in plan_page and "Stel het plan opnieuw voor" in plan_page
    version_page = mother.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    assert "Vervangen" in version_page and "Het plan opnieuw voorstellen" in version_page
    assert "Ik ga akkoord" not in version_page
    # Nobody's overview asks for a signature on it any more.
    assert "wacht op jouw handtekening" not in teen.client.get(f"/families/{fid}").get_data(
        as_text=True
    )
    refused = teen.post(f"/families/{fid}/plan/signoffs", {"version": 1})
    assert is_problem(refused, 409) and refused.get_json()["reason"] == "outdated"
    again = mother.post(f"/families/{fid}/plan/versions").get_json()
    assert again["number"] == 2 and again["plan"]["goals"][0]["title"].endswith("avonden")


def test_the_version_reads_like_the_plan(world: dict[str, Any]) -> None:
    fid, mother = world["family"].id, world["mother"]
    due = clock.today() + timedelta(days=20)
    goal = mother.post(f"/families/{fid}/plan/goals", {"title": GOAL, "owner": "young_person"})
    goal_id = goal.get_json()["id"]
    mother.patch(f"/families/{fid}/plan/goals/{goal_id}", {"version": 1, "phase": "in_progress"})
    members = mother.get(f"/families/{fid}/members").get_json()["items"]
    sanne = next(m for m in members if m["display_name"] == "Sanne")
    made = mother.post(
        f"/families/{fid}/plan/agreements",
        {"what": "Wekker zetten", "owner": f"member:{sanne['id']}", "due_on": due.isoformat()},
    )
    assert made.status_code == 201, made.get_json()
    assert mother.post(f"/families/{fid}/plan/versions").status_code == 201
    page = mother.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    pdf_like = page[page.index('id="plan-document-title"') :]
    assert GOAL in pdf_like and "Wekker zetten" in pdf_like and "Coach Linda" in pdf_like
    assert "<h3>Doelen</h3>" in pdf_like  # the parts under the page's own heading
    assert "bezig" in pdf_like and "jongere" in pdf_like  # the words, as the PDF writes them
    assert format_date(due, "long", locale="nl") in pdf_like
    for code in ("in_progress", "young_person", "not_started", due.isoformat()):
        assert code not in page, code


def test_a_version_stored_before_signers_were_kept_still_reads(
    app: Flask, world: dict[str, Any]
) -> None:
    """The old snapshot: parts only, fewer fields, a phase the page does not know, its signers
    in the `required` list by login."""
    fid, mother = world["family"].id, world["mother"]
    old = {
        "questions": [{"kind": "Plan", "id": 1, "tomorrow": "Minder ruzie"}],
        "goals": [
            {"kind": "Goal", "id": 7, "title": "Op tijd naar school", "phase": "someday"},
            {"kind": "GoalScore", "id": 1, "goal_id": 7, "score": 6, "scored_on": "2026-11-02"},
        ],
        "agreements": [{"kind": "Agreement", "id": 3, "what": "Samen eten", "due_on": "bad"}],
        "network": [{"kind": "NetworkPetal", "id": 2, "name": "Oma Els", "kind_": "x"}],
    }
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == "marieke@example.org"))
        version = PlanVersion(
            family_id=fid,
            number=1,
            snapshot=json.dumps(old),
            last_change_id=0,
            required=json.dumps([{"user_id": user_id, "name": "Marieke", "why": "parent"}]),
            proposed_by_name="Marieke",
            proposed_at=clock.now() - timedelta(days=40),
        )
        db.session.add(version)
        db.session.flush()
        db.session.add(
            PlanSignoff(
                version_id=version.id, user_id=user_id, name="Marieke", role="parent_with_authority"
            )
        )
        db.session.commit()
        db.session.remove()
    response = mother.client.get(f"/families/{fid}/plan/versions/1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for shown in ("Minder ruzie", "Op tijd naar school", "Samen eten", "Oma Els", "Getekend op"):
        assert shown in page, shown
    assert "someday" not in page and "2026-11-02" not in page
    api = mother.get(f"/families/{fid}/plan/versions/1").get_json()
    assert [(s["name"], s["state"]) for s in api["signers"]] == [("Marieke", "signed")]


def test_a_parent_marks_a_young_person_without_a_login_on_the_page(
    world: dict[str, Any],
) -> None:
    fid, mother, step = world["family"].id, world["mother"], world["step"]
    propose(mother, fid)
    tim = next(
        s
        for s in mother.get(f"/families/{fid}/plan/versions/1").get_json()["signers"]
        if s["name"] == "Tim"
    )
    page = mother.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    assert "Doet Tim niet mee met ondertekenen?" in page
    # The step-parent (no authority) is not offered it, and is refused if he tries.
    assert "Doet Tim niet mee" not in step.client.get(f"/families/{fid}/plan/versions/1").get_data(
        as_text=True
    )
    form = {"answer": "not_taking_part", "signer": str(tim["id"])}
    refused = step.client.post(
        f"/families/{fid}/plan/versions/1/sign",
        data={**form, "reason": "x", "csrf_token": step.csrf()},
    )
    assert refused.status_code == 403
    # Without a reason: the same page, the form open, the message by the field.
    empty = mother.client.post(
        f"/families/{fid}/plan/versions/1/sign",
        data={**form, "reason": "  ", "csrf_token": mother.csrf()},
    )
    text = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "Schrijf op waarom." in text
    assert 'aria-invalid="true"' in text and '<details class="mark-not-taking-part" open>' in text
    reason = "Tim is nog te boos; we praten er volgende week met hem over."
    done = mother.client.post(
        f"/families/{fid}/plan/versions/1/sign",
        data={**form, "reason": reason, "csrf_token": mother.csrf()},
    )
    assert done.status_code == 302
    assert states(mother, fid, 1)["Tim"] == "not_taking_part"
    page = world["teen"].client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    assert reason in page and "Doet niet mee (aangegeven door Marieke op" in page


def test_a_signer_who_leaves_no_longer_holds_the_plan_up(app: Flask, world: dict[str, Any]) -> None:
    """The coach's access ends while everyone else has signed: the plan is agreed, and the coach
    is listed as no longer taking part, not as "nog niet getekend" for ever."""
    fid, mother, teen = world["family"].id, world["mother"], world["teen"]
    propose(mother, fid)
    url = f"/families/{fid}/plan/signoffs"
    for api in (mother, teen, father_joins(app, world)):
        assert api.post(url, {"version": 1}).status_code == 201
    tim = next(
        s
        for s in mother.get(f"/families/{fid}/plan/versions/1").get_json()["signers"]
        if s["name"] == "Tim"
    )
    marked = mother.post(
        url, {"version": 1, "answer": "not_taking_part", "signer": tim["id"], "reason": "Te jong"}
    )
    assert marked.status_code == 201 and marked.get_json()["agreed_at"] is None  # the coach
    with app.app_context():
        coach_id = db.session.scalar(select(User.id).where(User.email == "linda@cjg.example"))
        grant = db.session.scalar(select(Grant).where(Grant.grantee_id == coach_id))
        assert grant is not None
        grant.revoked_at = clock.now()
        db.session.commit()
        db.session.remove()
    status = mother.get(f"/families/{fid}/plan/versions").get_json()["status"]
    assert status["state"] == "agreed"
    assert states(mother, fid, 1)["Coach Linda"] == "left"
    version = mother.get(f"/families/{fid}/plan/versions/1").get_json()
    assert version["agreed_at"] is not None
    page = teen.client.get(f"/families/{fid}/plan/versions/1").get_data(as_text=True)
    assert "Doet niet meer mee in de gezinsruimte" in page and "Vastgesteld" in page


def test_an_open_version_stored_before_signers_were_kept_can_still_be_signed(
    app: Flask, world: dict[str, Any]
) -> None:
    fid, mother, coach = world["family"].id, world["mother"], world["coach"]
    with app.app_context():
        ids = dict(
            db.session.execute(
                select(User.email, User.id).where(
                    User.email.in_(["marieke@example.org", "linda@cjg.example"])
                )
            ).all()
        )
        db.session.add(
            PlanVersion(
                family_id=fid,
                number=1,
                snapshot="{}",
                last_change_id=10**9,  # nothing changed since
                required=json.dumps(
                    [
                        {"user_id": ids["marieke@example.org"], "name": "Marieke", "why": "parent"},
                        {"user_id": ids["linda@cjg.example"], "name": "Coach", "why": "coach"},
                    ]
                ),
                proposed_by_name="Marieke",
            )
        )
        db.session.commit()
        db.session.remove()
    url = f"/families/{fid}/plan/signoffs"
    assert coach.post(url, {"version": 1}).status_code == 201
    assert states(mother, fid, 1) == {"Marieke": "waiting", "Coach": "signed"}
    assert mother.post(url, {"version": 1}).status_code == 201
    assert mother.get(f"/families/{fid}/plan/versions").get_json()["status"]["state"] == "agreed"
