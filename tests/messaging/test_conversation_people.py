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
from tests.live.test_live import Listener, http_sign_in, listeners  # noqa: F401
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
    assert send(papa, cid, "after-00002", "Mag ik nog?") == {"ok": False, "error": "not_found"}
    time.sleep(0.5)
    assert [name for name, _ in papa.events].count("message.new") == before


def test_removal_made_by_another_instance_reaches_open_sockets_by_the_sweep(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    """No local signal: only the database row changes, as when another instance removed him."""
    setup = setup_world(app, make_user, make_family, add_member)
    fid, cid = setup["family"].id, setup["cid"]
    base = live_server.url
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.append(papa)
    assert papa.subscribe(fid)["ok"]
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
    assert papa.wait_for("conversation.removed", timeout=1.0)["conversation_id"] == cid
