"""Membership in a family of two households: authority per child, who may remove whom, leaving,
withdrawing an invitation, the mails a removal sends, privacy between the parents, and the
operator commands for authority and birth dates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import db
from portal.access import authority
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.family.models import (
    ROLE_NETWORK,
    ROLE_PARENT,
    ROLE_PARTNER,
    ROLE_YOUNG_PERSON,
    Family,
    Member,
    Plan,
)
from portal.messaging.models import Conversation, Message, Participant
from tests.api.client import is_problem, signed_in_api
from tests.helpers import csrf_from, post_form, sign_in, years_ago
from tests.support.servers import SmtpServer

PLAN_SECRET = "Daan gaat naar de kinderpsycholoog"
MESSAGE_SECRET = "Het geheime afspraakje van woensdag"


@pytest.fixture
def two_households(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    """Mama made the space; papa (authority, other household), Lotte 14 with a login, Daan 9,
    oma in the network; a plan and a message with words no mail may carry."""
    users = {
        "mama": make_user(name="Mama", email="mama@example.org"),
        "papa": make_user(name="Papa", email="papa@example.org"),
        "lotte": make_user(name="Lotte", email="lotte@example.org"),
        "oma": make_user(name="Oma", email="oma@example.org"),
    }
    family = make_family(users["mama"])
    papa = add_member(family, users["papa"], ROLE_PARENT, has_authority=True)
    lotte = add_member(family, users["lotte"], ROLE_YOUNG_PERSON, birth_date=years_ago(14))
    daan = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(9), name="Daan")
    oma = add_member(family, users["oma"], ROLE_NETWORK)
    with app.app_context():
        mama = db.session.scalar(
            select(Member).where(Member.user_id == users["mama"].id, Member.family_id == family.id)
        )
        assert mama is not None
        plan = db.session.scalar(select(Plan).where(Plan.family_id == family.id))
        if plan is None:
            plan = Plan(family_id=family.id)
            db.session.add(plan)
        plan.tomorrow = PLAN_SECRET
        conversation = Conversation(family_id=family.id, topic="School", created_by_id=mama.user_id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=u.id) for u in users.values()
        )
        conversation.last_seq = 1
        db.session.add(
            Message(
                conversation_id=conversation.id,
                family_id=family.id,
                seq=1,
                author_id=mama.user_id,
                author_name="Mama",
                client_key="rules-0001",
                body=MESSAGE_SECRET,
            )
        )
        mama_id = mama.id
        db.session.commit()
        db.session.remove()
    ids = {"mama": mama_id, "papa": papa.id, "lotte": lotte.id, "daan": daan.id, "oma": oma.id}
    return {"family": family, "users": users, "ids": ids}


def member_row(app: Flask, member_id: int) -> Member:
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member is not None
        db.session.expunge(member)
        db.session.remove()
    return member


def test_a_parent_with_authority_is_never_removed_by_the_other(
    app: Flask, client: FlaskClient, two_households: dict[str, Any]
) -> None:
    fid, ids, users = two_households["family"].id, two_households["ids"], two_households["users"]
    for me, other in (("papa", "mama"), ("mama", "papa")):  # the creator has no special power
        sign_in(client, users[me])
        page = client.get(f"/families/{fid}/members").get_data(as_text=True)
        card = page.split(f'data-member="{ids[other]}"')[1].split("</li>\n")[0]
        assert "Verwijderen" not in card and "Wijzigen" not in card
        remove = f"/families/{fid}/members/{ids[other]}/remove"
        assert client.get(remove).status_code == 403
        token = csrf_from(client.get(f"/families/{fid}/members").get_data(as_text=True))
        refused = client.post(remove, data={"csrf_token": token, "version": "1"})
        assert refused.status_code == 403
        assert member_row(app, ids[other]).removed_at is None
        client.post("/signout", data={"csrf_token": token})
    with app.app_context():
        denied = db.session.scalars(
            select(AuditEvent.reason).where(
                AuditEvent.family_id == fid,
                AuditEvent.action == "member.remove",
                AuditEvent.outcome == "denied",
            )
        ).all()
        db.session.remove()
    assert denied.count("other_parent_with_authority") == 4


def test_removal_names_the_consequences_and_mails_without_content(
    app: Flask, client: FlaskClient, two_households: dict[str, Any], smtp_server: SmtpServer
) -> None:
    fid, ids, users = two_households["family"].id, two_households["ids"], two_households["users"]
    sign_in(client, users["papa"])
    url = f"/families/{fid}/members/{ids['oma']}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "Oma krijgt hierover een mail" in page
    assert "Ook deze ouders met gezag krijgen een mail: Mama, Papa" in page
    assert "Wat er geschreven is, blijft bewaard" in page
    done = client.post(url, data={"csrf_token": csrf_from(page), "version": "1"})
    assert done.status_code == 302
    assert member_row(app, ids["oma"]).removed_at is not None
    mails = {
        to: smtp_server.wait_for(lambda m, to=to: m["To"] == to)
        for to in ("oma@example.org", "mama@example.org", "papa@example.org")
    }
    assert "Je doet niet meer mee" in mails["oma@example.org"]["Subject"]
    assert "Papa heeft je uit de gezinsruimte" in mails["oma@example.org"].get_content()
    assert "Oma doet niet meer mee" in mails["mama@example.org"]["Subject"]
    for mail in mails.values():
        text = mail.get_content()
        assert PLAN_SECRET not in text and MESSAGE_SECRET not in text
    with app.app_context():
        logged = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "member.remove",
                AuditEvent.outcome == "allowed",
                AuditEvent.object_id == str(ids["oma"]),
            )
        )
        db.session.remove()
    assert logged is not None


def test_a_parent_with_authority_leaves_with_a_warning(
    app: Flask, client: FlaskClient, two_households: dict[str, Any], smtp_server: SmtpServer
) -> None:
    fid, ids, users = two_households["family"].id, two_households["ids"], two_households["users"]
    sign_in(client, users["papa"])
    url = f"/families/{fid}/members/{ids['papa']}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "Wil je stoppen" in page
    assert "Je gezag zelf blijft bestaan" in page and "Daan, Lotte" in page
    done = client.post(url, data={"csrf_token": csrf_from(page), "version": "1"})
    assert done.status_code == 302 and done.location.endswith("/families")
    assert member_row(app, ids["papa"]).removed_at is not None
    to_mama = smtp_server.wait_for(lambda m: m["To"] == "mama@example.org")
    assert "Papa is gestopt" in to_mama.get_content()
    smtp_server.wait_for(lambda m: m["To"] == "papa@example.org")
    assert client.get(f"/families/{fid}").status_code == 404  # no relation any more


def test_a_young_person_who_joined_only_leaves_themself(
    app: Flask, two_households: dict[str, Any]
) -> None:
    fid, ids, users = two_households["family"].id, two_households["ids"], two_households["users"]
    mama = signed_in_api(app, users["mama"])
    lotte = f"/families/{fid}/members/{ids['lotte']}"
    assert is_problem(mama.delete(lotte, {"version": 1}), 403)
    assert is_problem(mama.patch(lotte, {"version": 1, "birth_date": "2010-01-01"}), 403)
    own = signed_in_api(app, users["lotte"])
    assert is_problem(own.patch(lotte, {"version": 1, "birth_date": "2008-01-01"}), 403)
    assert own.delete(lotte, {"version": 1}).status_code == 204
    assert member_row(app, ids["lotte"]).removed_at is not None


def test_authority_per_child(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    """Mama holds authority over her son Daan, not over Noor, the daughter of her partner Kees
    (who holds it over Noor, with Noor's mother outside the portal)."""
    mama_user, kees_user = make_user(name="Mama"), make_user(name="Kees")
    family = make_family(mama_user)
    with app.app_context():
        mama_id = db.session.scalar(select(Member.id).where(Member.user_id == mama_user.id))
        db.session.remove()
    daan = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(9), name="Daan")
    kees = add_member(family, kees_user, ROLE_PARENT, has_authority=True, authority=[])
    noor = add_member(
        family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(8), name="Noor", authority=[kees]
    )
    with app.app_context():
        assert [m.id for m in authority.authority_holders(family.id, daan.id)] == [mama_id]
        assert [m.id for m in authority.authority_holders(family.id, noor.id)] == [kees.id]
        assert authority.has_authority_over(mama_id, daan.id)
        assert not authority.has_authority_over(mama_id, noor.id)
        db.session.remove()
    mama, kees_api = signed_in_api(app, mama_user), signed_in_api(app, kees_user)
    base = f"/families/{family.id}/members"
    listed = {m["display_name"]: m for m in mama.get(base).get_json()["items"]}
    assert listed["Mama"]["authority_over"] == [daan.id]
    assert listed["Kees"]["authority_over"] == [noor.id]
    assert listed["Noor"]["authority_holders"] == [kees.id]
    assert listed["Mama"]["kind"] == "parent_with_authority"
    assert listed["Noor"]["kind"] == "child"
    # Each changes the child they hold authority over, not the other one.
    assert mama.patch(f"{base}/{daan.id}", {"version": 1, "household": "Huis A"}).status_code == 200
    assert is_problem(mama.patch(f"{base}/{noor.id}", {"version": 1, "household": "x"}), 403)
    assert is_problem(mama.delete(f"{base}/{noor.id}", {"version": 1}), 403)
    assert is_problem(kees_api.delete(f"{base}/{daan.id}", {"version": 2}), 403)
    assert (
        kees_api.patch(f"{base}/{noor.id}", {"version": 1, "household": "Huis B"}).status_code
        == 200
    )
    # Authority is passed on only over a child one holds it over; at most two per child.
    opa = {"role": "parent", "display_name": "Noors moeder", "has_authority": True}
    refused = mama.post(base, {**opa, "authority_over": [noor.id]})
    assert is_problem(refused, 422) and refused.get_json()["errors"][0]["field"] == "authority"
    added = kees_api.post(base, {**opa, "authority_over": [noor.id]})
    assert added.status_code == 201 and added.get_json()["authority_over"] == [noor.id]
    third = kees_api.post(base, {**opa, "display_name": "Derde", "authority_over": [noor.id]})
    assert is_problem(third, 422)
    # A partner is named as what they are, in the API and on the page.
    partner = mama.post(base, {"role": ROLE_PARTNER, "display_name": "Vriend van mama"})
    assert partner.status_code == 201 and partner.get_json()["kind"] == "partner"
    page = mama.client.get(base).get_data(as_text=True)
    assert "partner of stiefouder" in page and "ouder met gezag" in page
    assert "gezag over: Daan" in page and "gezag: Kees" in page


def test_invitations_follow_the_authority_rules_and_can_be_withdrawn(
    app: Flask, client: FlaskClient, two_households: dict[str, Any], smtp_server: SmtpServer
) -> None:
    fid, users = two_households["family"].id, two_households["users"]
    mama = signed_in_api(app, users["mama"])
    invited = mama.post(
        f"/families/{fid}/members",
        {
            "role": "parent",
            "display_name": "Stiefvader",
            "has_authority": True,
            "authority_over": [],
            "email": "nieuw@example.org",
            "invite": True,
        },
    )
    # With children in the family a parent with authority needs at least one of them.
    assert is_problem(invited, 422)
    daan = two_households["ids"]["daan"]
    invited = mama.post(
        f"/families/{fid}/members",
        {
            "role": "parent",
            "display_name": "Pleegvader",
            "has_authority": False,
            "email": "nieuw@example.org",
            "invite": True,
        },
    )
    assert invited.status_code == 201, invited.get_json()
    with_authority = mama.post(
        f"/families/{fid}/members",
        {
            "role": "parent",
            "display_name": "Voogd",
            "has_authority": True,
            "authority_over": [daan],
            "email": "voogd@example.org",
            "invite": True,
        },
    )
    assert with_authority.status_code == 422  # Daan has two holders already
    assert "hoogstens twee" in with_authority.get_json()["errors"][0]["message"]
    papa = signed_in_api(app, users["papa"])
    mid = invited.get_json()["id"]
    assert papa.delete(f"/families/{fid}/members/{mid}", {"version": 1}).status_code == 204
    smtp_server.wait_for(lambda m: m["To"] == "nieuw@example.org" and "niet meer" in m["Subject"])


def test_joining_confirms_authority_or_takes_it_off(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    two_households: dict[str, Any],
    smtp_server: SmtpServer,
) -> None:
    fid, ids, users = two_households["family"].id, two_households["ids"], two_households["users"]
    mama = signed_in_api(app, users["mama"])
    created = mama.post(
        f"/families/{fid}/members",
        {
            "role": "parent",
            "display_name": "Stiefmoeder",
            "has_authority": True,
            "authority_holders": [],
            "authority_over": [],
            "email": "stief@example.org",
            "invite": True,
        },
    )
    assert is_problem(created, 422)  # children exist: choose one
    with app.app_context():
        # Papa's authority over Daan ends by court order, so that a new holder fits.
        papa_row, daan_row = (
            db.session.get(Member, ids["papa"]),
            db.session.get(Member, ids["daan"]),
        )
        assert papa_row is not None and daan_row is not None
        authority.change_by_operator(papa_row, daan_row, False, "TEST-1")
        db.session.commit()
        db.session.remove()
    created = mama.post(
        f"/families/{fid}/members",
        {
            "role": "parent",
            "display_name": "Stiefmoeder",
            "has_authority": True,
            "authority_over": [ids["daan"]],
            "email": "stief@example.org",
            "invite": True,
        },
    )
    assert created.status_code == 201, created.get_json()
    mail = smtp_server.wait_for(lambda m: m["To"] == "stief@example.org")
    link = next(line for line in mail.get_content().splitlines() if "/invite/" in line).strip()
    sign_in(client, make_user(name="Stief", email="stief@example.org"))
    client.get(link.split("localhost", 1)[1])
    page = client.get("/invite").get_data(as_text=True)
    assert "Klopt het dat je gezag hebt?" in page and "Daan" in page
    joined = client.post("/invite", data={"csrf_token": csrf_from(page), "authority": "no"})
    assert joined.status_code == 302
    stief = member_row(app, created.get_json()["id"])
    assert stief.user_id is not None and not stief.has_authority
    with app.app_context():
        assert authority.children_of(stief.id) == []
        db.session.remove()


def test_authority_and_birth_dates_change_only_by_the_operator_command(
    app: Flask, two_households: dict[str, Any]
) -> None:
    fid, ids = two_households["family"].id, two_households["ids"]
    runner = app.test_cli_runner()
    ended = runner.invoke(
        args=[
            "portal",
            "set-authority",
            "--parent",
            str(ids["papa"]),
            "--child",
            str(ids["lotte"]),
            "--ends",
            "--court-reference",
            "C/13/123456 FA RK 26-1",
        ]
    )
    assert ended.exit_code == 0, ended.output
    with app.app_context():
        assert [m.id for m in authority.authority_holders(fid, ids["lotte"])] == [ids["mama"]]
        row = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "member.authority.end")
        )
        assert row is not None and row.family_id == fid
        assert row.basis == "court:C/13/123456 FA RK 26-1" and row.actor_role == "operator"
        db.session.remove()
    # Papa still holds authority over Daan; once that ends too, he is a parent without it.
    runner.invoke(
        args=[
            "portal",
            "set-authority",
            "--parent",
            str(ids["papa"]),
            "--child",
            str(ids["daan"]),
            "--ends",
            "--court-reference",
            "C/13/2",
        ]
    )
    assert not member_row(app, ids["papa"]).has_authority
    moved = runner.invoke(
        args=[
            "portal",
            "set-birth-date",
            "--member",
            str(ids["lotte"]),
            "--date",
            "2011-05-06",
            "--reference",
            "paspoort gezien",
        ]
    )
    assert moved.exit_code == 0, moved.output
    assert member_row(app, ids["lotte"]).birth_date.isoformat() == "2011-05-06"  # type: ignore[union-attr]
    missing = runner.invoke(
        args=[
            "portal",
            "set-authority",
            "--parent",
            str(ids["papa"]),
            "--child",
            str(ids["daan"]),
            "--court-reference",
            " ",
        ]
    )
    assert missing.exit_code != 0


def test_a_parent_keeps_address_and_phone_from_the_other_parent(
    app: Flask, client: FlaskClient, two_households: dict[str, Any]
) -> None:
    fid, ids, users = two_households["family"].id, two_households["ids"], two_households["users"]
    mama = signed_in_api(app, users["mama"])
    me = f"/families/{fid}/members/{ids['mama']}"
    saved = mama.patch(
        me,
        {"version": 1, "address": "Geheimstraat 1", "phone": "0612345678", "contact_private": True},
    )
    assert saved.status_code == 200 and saved.get_json()["address"] == "Geheimstraat 1"
    papa = signed_in_api(app, users["papa"])
    seen = papa.get(me).get_json()
    assert "address" not in seen and "phone" not in seen
    papa_page = papa.client.get(f"/families/{fid}/members").get_data(as_text=True)
    assert "Geheimstraat" not in papa_page and "0612345678" not in papa_page
    # Nobody changes someone else's contact details.
    assert is_problem(papa.patch(me, {"version": 2, "address": "Ergens"}), 403)
    lotte = signed_in_api(app, users["lotte"])
    assert lotte.get(me).get_json()["address"] == "Geheimstraat 1"
    # The same on the page: "Mijn gegevens".
    sign_in(client, users["papa"])
    form = client.get(f"/families/{fid}/me").get_data(as_text=True)
    assert "Houd mijn adres en telefoonnummer verborgen" in form
    saved_page = post_form(
        client,
        f"/families/{fid}/me",
        {"display_name": "Papa", "address": "Papastraat 2", "version": "1"},
    )
    assert saved_page.status_code == 302
    assert "Papastraat 2" in mama.client.get(f"/families/{fid}/members").get_data(as_text=True)


def test_the_demo_family_records_authority_per_child(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["portal", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        daan = db.session.scalar(select(Member).where(Member.display_name == "Daan"))
        assert daan is not None
        holders = {m.display_name for m in authority.authority_holders(daan.family_id, daan.id)}
        db.session.remove()
    assert holders == {"Mama (Marieke)", "Papa (Ahmed)"}
