"""The family decides who is in a conversation: someone taken out sees and hears nothing more
from it (pages, API and open sockets, within a second); someone added sees its history."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal import db
from portal.auth.models import User
from portal.core import clock
from portal.family.models import Family, Member
from portal.messaging.models import Participant
from tests.api.client import is_problem
from tests.conftest import LiveServer
from tests.live.test_live import Listener, http_sign_in, listeners, refused_with  # noqa: F401
from tests.messaging.test_live_messages import send, setup_world
from tests.messaging.test_messaging import api_for, start, world  # noqa: F401


def test_removed_person_gets_nothing_more_and_can_be_added_back(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    family, mother, father, teen = world["family"], world["mother"], world["father"], world["teen"]
    mama, papa = api_for(app, mother), api_for(app, father)
    conversation = start(mama, family, "School", [father, teen])
    base = f"/families/{family.id}/conversations/{conversation['id']}"
    assert (
        mama.post(f"{base}/messages", {"client_key": "ppl-key-01", "body": "Hoi"}).status_code
        == 201
    )

    removed = mama.delete(f"{base}/participants/{father.id}")
    assert removed.status_code == 200
    assert father.id not in {p["user_id"] for p in removed.get_json()["participants"]}
    # Papa's view: the conversation no longer exists for him; a message to it is refused whole.
    assert papa.get(base).status_code == 404
    refused = papa.post(f"{base}/messages", {"client_key": "ppl-key-02", "body": "Hallo?"})
    assert is_problem(refused, 404)
    assert len(mama.get(f"{base}/messages?after=0").get_json()["items"]) == 1
    listed = papa.get(f"/families/{family.id}/conversations").get_json()["items"]
    assert conversation["id"] not in {c["id"] for c in listed}
    assert is_problem(mama.delete(f"{base}/participants/{father.id}"), 404)

    again = mama.post(f"{base}/participants", {"user_id": father.id})
    assert again.status_code == 200
    assert [m["body"] for m in papa.get(f"{base}/messages?after=0").get_json()["items"]] == ["Hoi"]
    assert is_problem(mama.post(f"{base}/participants", {"user_id": father.id}), 409)
    # Only members and guests with the messages part can be added.
    stranger = world["other"].created_by_id
    assert is_problem(mama.post(f"{base}/participants", {"user_id": stranger}), 422)


def test_the_last_person_cannot_be_removed(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    family, mother, father = world["family"], world["mother"], world["father"]
    mama = api_for(app, mother)
    conversation = start(mama, family, "Vakantie", [father])
    base = f"/families/{family.id}/conversations/{conversation['id']}"
    assert mama.delete(f"{base}/participants/{father.id}").status_code == 200
    last = mama.delete(f"{base}/participants/{mother.id}")
    assert is_problem(last, 409) and "Er moet iemand" in last.get_json()["detail"]


def test_page_asks_before_removing(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    family, mother, father = world["family"], world["mother"], world["father"]
    mama = api_for(app, mother)
    conversation = start(mama, family, "Zorg", [father])
    url = f"/families/{family.id}/messages/{conversation['id']}/people/{father.id}/remove"
    confirm = mama.client.get(url)
    assert confirm.status_code == 200
    assert "Papa weghalen uit dit gesprek?" in confirm.get_data(as_text=True)
    # Looking at the question changed nothing.
    assert (
        api_for(app, father)
        .get(f"/families/{family.id}/conversations/{conversation['id']}")
        .status_code
        == 200
    )


def test_open_socket_of_a_removed_person_hears_nothing_more(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    setup = setup_world(app, make_user, make_family, add_member)
    fid, cid = setup["family"].id, setup["cid"]
    base = live_server.url
    mama_http = http_sign_in(base, "mama@example.org")
    mama = Listener(base, mama_http)
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.extend([mama, papa])
    assert mama.subscribe(fid)["ok"] and papa.subscribe(fid)["ok"]
    assert send(mama, cid, "before-0001", "Nog samen")["ok"]
    papa.wait_for("message.new")

    csrf = mama_http.get(f"{base}/api/v1/session", timeout=5).json()["csrf_token"]
    papa_id = next(
        p["user_id"]
        for p in mama_http.get(
            f"{base}/api/v1/families/{fid}/conversations/{cid}", timeout=5
        ).json()["participants"]
        if p["name"] == "Papa"
    )
    removed_at = time.monotonic()
    response = mama_http.delete(
        f"{base}/api/v1/families/{fid}/conversations/{cid}/participants/{papa_id}",
        headers={"X-CSRFToken": csrf},
        timeout=5,
    )
    assert response.status_code == 200
    event = papa.wait_for("conversation.removed", timeout=1.0)
    assert event["conversation_id"] == cid and time.monotonic() - removed_at < 1.0
    before = [name for name, _ in papa.events].count("message.new")
    assert send(mama, cid, "after-00001", "Zonder papa")["ok"]
    assert refused_with(send(papa, cid, "after-00002", "Mag ik nog?")) == "not_found"
    time.sleep(0.5)
    assert [name for name, _ in papa.events].count("message.new") == before


def test_removal_made_elsewhere_stops_the_messages_at_once(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    """No signal at all: only the database row changes (as when a message about it was lost).
    The next message is fanned out to the people allowed at that moment, so it never reaches
    him, whatever his socket's rooms say."""
    setup = setup_world(app, make_user, make_family, add_member)
    fid, cid = setup["family"].id, setup["cid"]
    base = live_server.url
    mama = Listener(base, http_sign_in(base, "mama@example.org"))
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.extend([mama, papa])
    assert mama.subscribe(fid)["ok"] and papa.subscribe(fid)["ok"]
    assert send(mama, cid, "before-00001", "Nog samen")["ok"]
    assert papa.wait_for("message.new")["body"] == "Nog samen"
    with app.app_context():
        row = db.session.scalar(
            select(Participant)
            .join(User, User.id == Participant.user_id)
            .where(Participant.conversation_id == cid, User.email == "papa@example.org")
        )
        assert row is not None
        row.removed_at = clock.now()
        db.session.commit()
        db.session.remove()
    assert send(mama, cid, "after-000001", "Zonder papa")["ok"]
    assert mama.wait_for("message.new")  # delivered to those still in it
    time.sleep(0.5)
    assert [d["body"] for n, d in papa.events if n == "message.new"] == ["Nog samen"]


def test_anyone_in_a_conversation_can_leave_it(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    """A guest or a member leaves by themselves (a question first); the family takes others
    out; whoever left sees nothing more of it, and the last one cannot leave."""
    from portal.access.models import AuditEvent

    family, mother, father, coach = (
        world["family"],
        world["mother"],
        world["father"],
        world["coach"],
    )
    mama = api_for(app, mother)
    conversation = start(mama, family, "Samen", [father, coach])
    cid = conversation["id"]
    people = f"/families/{family.id}/messages/{cid}/people"
    guest = api_for(app, coach)

    page = guest.client.get(people).get_data(as_text=True)
    assert "Gesprek verlaten" in page and "Weghalen" not in page  # only themselves
    assert "Onderwerp wijzigen" not in page
    # Taking someone else out stays the family's.
    refused = guest.client.post(
        f"{people}/{father.id}/remove", data={"csrf_token": _csrf(guest.client, people)}
    )
    assert refused.status_code == 403
    leave = f"{people}/{coach.id}/remove"
    assert "Wil je dit gesprek verlaten?" in guest.client.get(leave).get_data(as_text=True)
    left = guest.client.post(leave, data={"csrf_token": _csrf(guest.client, leave)})
    assert left.status_code == 302 and left.location.endswith(f"/families/{family.id}/messages")
    listed = guest.client.get(left.location).get_data(as_text=True)
    assert "Je doet niet meer mee in &#34;Samen&#34;." in listed
    assert guest.client.get(f"/families/{family.id}/messages/{cid}").status_code == 404
    with app.app_context():
        row = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "conversation.leave", AuditEvent.actor_user_id == coach.id
            )
        ).one()
        assert row.outcome == "allowed" and row.object_id == str(cid)

    # Over the API: the father leaves too (204), and then it is gone for him.
    papa = api_for(app, father)
    base = f"/families/{family.id}/conversations/{cid}"
    assert papa.delete(f"{base}/participants/{father.id}").status_code == 204
    assert is_problem(papa.get(base), 404)
    assert {p["user_id"] for p in mama.get(base).get_json()["participants"]} == {mother.id}
    last = mama.delete(f"{base}/participants/{mother.id}")
    assert is_problem(last, 409) and "Er moet iemand" in last.get_json()["detail"]


def test_the_family_gives_a_conversation_a_new_topic(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    family, mother, coach = world["family"], world["mother"], world["coach"]
    mama = api_for(app, mother)
    conversation = start(mama, family, "School", [coach])
    base = f"/families/{family.id}/conversations/{conversation['id']}"
    people = f"/families/{family.id}/messages/{conversation['id']}/people"
    topic_url = f"/families/{family.id}/messages/{conversation['id']}/topic"

    assert "Onderwerp wijzigen" in mama.client.get(people).get_data(as_text=True)
    too_long = mama.client.post(
        topic_url, data={"csrf_token": _csrf(mama.client, people), "topic": "Lang " * 30}
    )
    text = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and "Lang Lang" in text  # what was typed stays
    assert mama.get(base).get_json()["topic"] == "School"
    renamed = mama.client.post(
        topic_url, data={"csrf_token": _csrf(mama.client, people), "topic": "School <b>Daan</b>"}
    )
    assert renamed.status_code == 302
    shown = mama.client.get(renamed.location).get_data(as_text=True)
    # Stored as the plain text it is, escaped where it is shown.
    assert "Het onderwerp is nu &#34;School &lt;b&gt;Daan&lt;/b&gt;&#34;." in shown
    assert "<b>Daan" not in shown
    assert mama.get(base).get_json()["topic"] == "School <b>Daan</b>"

    # The API: a clear 422 for nonsense, nothing changed.
    assert is_problem(mama.patch(base, {"topic": ""}), 422)
    assert is_problem(mama.patch(base, {"topic": 7}), 422)
    assert is_problem(mama.patch(base, {"topic": "X", "colour": "rood"}), 422)
    assert mama.patch(base, {"topic": "Schoolreis"}).get_json()["topic"] == "Schoolreis"
    # A guest in it reads the topic but cannot change it.
    guest = api_for(app, coach)
    assert "Onderwerp wijzigen" not in guest.client.get(people).get_data(as_text=True)
    assert is_problem(guest.patch(base, {"topic": "Van de coach"}), 403)
    assert guest.get(base).get_json()["topic"] == "Schoolreis"


def _csrf(client: Any, path: str) -> str:
    from tests.helpers import csrf_from

    return csrf_from(client.get(path).get_data(as_text=True))


def test_a_new_topic_reaches_open_sockets(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    setup = setup_world(app, make_user, make_family, add_member)
    fid, cid = setup["family"].id, setup["cid"]
    base = live_server.url
    mama_http = http_sign_in(base, "mama@example.org")
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.append(papa)
    assert papa.subscribe(fid)["ok"]
    csrf = mama_http.get(f"{base}/api/v1/session", timeout=5).json()["csrf_token"]
    response = mama_http.patch(
        f"{base}/api/v1/families/{fid}/conversations/{cid}",
        json={"topic": "Schoolreis"},
        headers={"X-CSRFToken": csrf},
        timeout=5,
    )
    assert response.status_code == 200
    event = papa.wait_for("conversation.changed")
    assert (event["conversation_id"], event["topic"]) == (cid, "Schoolreis")
