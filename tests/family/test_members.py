"""The family space: create it, add the other parent (another household), children with birth
dates, young people of 12+ with their own login, network members; edit with conflicts; remove."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import db
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import Family, Member
from tests.helpers import csrf_from, post_form, sign_in, years_ago
from tests.support.servers import SmtpServer, find_link


def members_of(app: Flask, family_id: int) -> list[Member]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Member).where(Member.family_id == family_id).order_by(Member.id)
            )
        )
        db.session.remove()
    return rows


def test_create_family_makes_me_parent_with_authority(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(name="Marieke")
    sign_in(client, user)
    empty = client.get("/families").get_data(as_text=True)
    assert "Je hebt nog geen gezinsruimte" in empty
    bad = post_form(client, "/families/new", {"name": "", "my_name": "Mama"})
    assert bad.status_code == 422
    assert 'value="Mama"' in bad.get_data(as_text=True)
    response = post_form(
        client, "/families/new", {"name": "Gezin Jansen", "my_name": "Mama", "household": "Huis A"}
    )
    assert response.status_code == 302
    with app.app_context():
        family = db.session.scalar(select(Family).where(Family.name == "Gezin Jansen"))
        assert family is not None
        family_id = family.id
        db.session.remove()
    (me,) = members_of(app, family_id)
    assert (me.role, me.has_authority, me.display_name, me.household, me.user_id) == (
        "parent",
        True,
        "Mama",
        "Huis A",
        user.id,
    )


def test_professionals_cannot_create_a_family(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    pro = make_user(
        kind=KIND_PROFESSIONAL,
        totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        totp_enabled_at=clock.now(),
    )
    sign_in(client, pro, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    response = client.get("/families/new")
    assert response.status_code == 302 and response.location.endswith("/professional")


def test_add_child_second_parent_and_network(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    url = f"/families/{family.id}/members/new"
    me = members_of(app, family.id)[0]
    child = post_form(
        client,
        url,
        {
            "role": "young_person",
            "display_name": "Sanne",
            "birth_date": years_ago(9).isoformat(),
            "authority_parents": str(me.id),
        },
    )
    assert child.status_code == 302
    sanne = members_of(app, family.id)[1]
    other = post_form(
        client,
        url,
        {
            "role": "parent",
            "display_name": "Papa",
            "has_authority": "y",
            "authority_children": str(sanne.id),
            "household": "Huis van papa",
            "email": "papa@example.org",
            "invite": "y",
        },
    )
    assert other.status_code == 302
    oma = post_form(
        client, url, {"role": "network", "display_name": "Oma Truus", "relation": "oma"}
    )
    assert oma.status_code == 302
    rows = members_of(app, family.id)
    assert [(m.display_name, m.role) for m in rows[1:]] == [
        ("Sanne", "young_person"),
        ("Papa", "parent"),
        ("Oma Truus", "network"),
    ]
    assert rows[2].has_authority and rows[2].household == "Huis van papa"
    assert rows[2].invited_at is not None and rows[2].user_id is None
    assert not rows[3].has_authority
    mail = smtp_server.wait_for(lambda m: m["To"] == "papa@example.org")
    assert "Uitnodiging" in mail["Subject"]
    page = client.get(f"/families/{family.id}/members").get_data(as_text=True)
    assert "9 jaar" in page and "woont in: Huis van papa" in page and "uitgenodigd op" in page


def test_bad_member_input_is_explained_and_kept(
    client: FlaskClient, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    url = f"/families/{family.id}/members/new"
    cases = [
        ({"role": "young_person", "display_name": "Tim"}, "Vul de geboortedatum in."),
        (
            {
                "role": "young_person",
                "display_name": "Tim",
                "birth_date": (clock.today() + timedelta(days=3)).isoformat(),
            },
            "Deze datum ligt in de toekomst.",
        ),
        (
            {
                "role": "young_person",
                "display_name": "Tim",
                "birth_date": years_ago(8).isoformat(),
                "email": "tim@example.org",
                "invite": "y",
            },
            "Een eigen login kan vanaf 12 jaar.",
        ),
        (
            {"role": "network", "display_name": "Buurvrouw", "invite": "y"},
            "Vul een e-mailadres in om een uitnodiging te sturen.",
        ),
        (
            {"role": "network", "display_name": "Buurvrouw", "email": "geen-adres"},
            "Dit lijkt geen geldig e-mailadres.",
        ),
        ({"role": "hacker", "display_name": "X"}, "Ongeldige keuze."),
        (
            {"role": "network", "display_name": "Buurvrouw", "birth_date": "31-02-2020"},
            "Ongeldige datum.",
        ),
    ]
    for data, message in cases:
        response = post_form(client, url, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert message in page, (data, message)
        assert f'value="{data["display_name"]}"' in page


def test_young_person_of_12_gets_own_login_through_invitation(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    response = post_form(
        client,
        f"/families/{family.id}/members/new",
        {
            "role": "young_person",
            "display_name": "Sanne",
            "birth_date": years_ago(12).isoformat(),
            "email": "sanne@example.org",
            "invite": "y",
            "authority_parents": str(members_of(app, family.id)[0].id),
        },
    )
    assert response.status_code == 302
    mail = smtp_server.wait_for(lambda m: m["To"] == "sanne@example.org")
    link = find_link(mail, "http://localhost/invite/").replace("http://localhost", "")

    sanne = make_user(email="sanne@example.org", name="Sanne")
    young = app.test_client()
    # The link moves the token into the session and redirects to a clean URL.
    response = young.get(link)
    assert response.status_code == 302 and response.location.endswith("/invite")
    page = young.get("/invite").get_data(as_text=True)
    assert "Log in of maak eerst een account" in page
    sign_in(young, sanne)
    # Signed in, the family list sends her back to the waiting invitation.
    assert young.get("/families").location.endswith("/invite")
    token = csrf_from(young.get("/invite").get_data(as_text=True))
    response = young.post("/invite", data={"csrf_token": token})
    assert response.status_code == 302
    assert young.get(f"/families/{family.id}").status_code == 200
    assert young.get(f"/families/{family.id}/audit").status_code == 200  # 12+: sees the log
    assert young.get(f"/families/{family.id}/members/new").status_code == 403

    # The same link a second time: used.
    again = app.test_client()
    again.get(link)
    response = again.get("/invite")
    assert response.status_code == 410
    assert "al gebruikt" in response.get_data(as_text=True)


def test_invitation_expires(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    post_form(
        client,
        f"/families/{family.id}/members/new",
        {"role": "network", "display_name": "Oma", "email": "oma@example.org", "invite": "y"},
    )
    mail = smtp_server.wait_for(lambda m: m["To"] == "oma@example.org")
    link = find_link(mail, "http://localhost/invite/").replace("http://localhost", "")
    clock.advance(timedelta(days=15))
    other = app.test_client()
    other.get(link)
    response = other.get("/invite")
    assert response.status_code == 410 and "verlopen" in response.get_data(as_text=True)


def test_edit_conflict_keeps_both_versions(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    child = add_member(family, None, "young_person", birth_date=years_ago(7), name="Daan")
    a, b = app.test_client(), app.test_client()
    sign_in(a, mother)
    sign_in(b, father)
    url = f"/families/{family.id}/members/{child.id}/edit"
    page_a = a.get(url).get_data(as_text=True)
    page_b = b.get(url).get_data(as_text=True)
    form = {"role": "young_person", "birth_date": years_ago(7).isoformat(), "version": "1"}
    first = a.post(url, data={**form, "csrf_token": csrf_from(page_a), "display_name": "Daan J."})
    assert first.status_code == 302
    second = b.post(url, data={**form, "csrf_token": csrf_from(page_b), "display_name": "Daantje"})
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Iemand anders heeft deze gegevens net veranderd" in page
    assert "Daan J." in page  # what is stored now
    assert 'value="Daantje"' in page  # what this parent typed, kept
    assert 'name="version" type="hidden" value="2"' in page
    resolved = b.post(
        url, data={**form, "csrf_token": csrf_from(page), "version": "2", "display_name": "Daantje"}
    )
    assert resolved.status_code == 302
    assert members_of(app, family.id)[-1].display_name == "Daantje"


def test_remove_needs_confirmation_keeps_the_row_and_protects_the_last_parent(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent = make_user()
    family = make_family(parent)
    oma = add_member(family, None, "network", name="Oma")
    sign_in(client, parent)
    confirm = client.get(f"/families/{family.id}/members/{oma.id}/remove")
    assert "Oma verwijderen?" in confirm.get_data(as_text=True)
    response = client.post(
        f"/families/{family.id}/members/{oma.id}/remove",
        data={"csrf_token": csrf_from(confirm.get_data(as_text=True)), "version": "1"},
    )
    assert response.status_code == 302
    kept = [m for m in members_of(app, family.id) if m.id == oma.id][0]
    assert kept.removed_at is not None  # the row (and what Oma wrote) stays
    assert client.get(f"/families/{family.id}/members/{oma.id}/edit").status_code == 404

    me = members_of(app, family.id)[0]
    page = client.get(f"/families/{family.id}/members/{me.id}/remove").get_data(as_text=True)
    response = client.post(
        f"/families/{family.id}/members/{me.id}/remove",
        data={"csrf_token": csrf_from(page), "version": "1"},
    )
    assert response.status_code == 409
    assert "laatste ouder met gezag" in response.get_data(as_text=True)


def test_another_familys_member_is_404_even_through_my_family(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    me, them = make_user(), make_user()
    mine = make_family(me)
    theirs = make_family(them, name="Gezin Ander")
    their_child = add_member(theirs, None, "young_person", birth_date=years_ago(5))
    sign_in(client, me)
    assert client.get(f"/families/{mine.id}/members/{their_child.id}/edit").status_code == 404
    assert client.get(f"/families/{theirs.id}/members/{their_child.id}/edit").status_code == 404
