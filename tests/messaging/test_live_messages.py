"""Messages over the /live socket with real clients: acknowledged with a sequence number,
delivered once to participants only, typing and read receipts, every event re-checked."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import socketio
from flask import Flask
from sqlalchemy import select, update

from portal import db
from portal.auth.models import User, UserSession
from portal.core import clock
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.limits import send_limit
from portal.messaging.models import Conversation, Message, Participant
from tests.conftest import LiveServer
from tests.live.test_live import Listener, http_sign_in, listeners, refused_with  # noqa: F401


def setup_world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    mother = make_user(email="mama@example.org", name="Mama")
    father = make_user(email="papa@example.org", name="Papa")
    carer = make_user(email="stief@example.org", name="Stiefouder")
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    add_member(family, carer, ROLE_PARENT)
    with app.app_context():
        conversation = Conversation(family_id=family.id, topic="School", created_by_id=mother.id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            [
                Participant(conversation_id=conversation.id, user_id=mother.id),
                Participant(conversation_id=conversation.id, user_id=father.id),
            ]
        )
        db.session.commit()
        cid = conversation.id
        db.session.remove()
    return {"family": family, "cid": cid}


def send(listener: Listener, cid: int, key: str, body: str) -> Any:
    return listener.client.call(
        "message.send",
        {"conversation_id": cid, "client_key": key, "body": body},
        namespace="/live",
        timeout=5,
    )


def test_send_ack_delivery_typing_and_receipts(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    base = live_server.url
    mama = Listener(base, http_sign_in(base, "mama@example.org"))
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    stief = Listener(base, http_sign_in(base, "stief@example.org"))
    listeners.extend([mama, papa, stief])
    for listener in (mama, papa, stief):
        assert listener.subscribe(fid)["ok"]

    ack = send(mama, cid, "sock-key-0001", "Wie haalt Sanne op?")
    assert ack == {"ok": True, "seq": 1, "id": ack["id"], "duplicate": False}
    event = papa.wait_for("message.new")
    assert (event["seq"], event["body"], event["author_name"]) == (1, "Wie haalt Sanne op?", "Mama")
    again = send(mama, cid, "sock-key-0001", "Wie haalt Sanne op?")
    assert again["seq"] == 1 and again["duplicate"] is True

    papa.client.call("typing", {"conversation_id": cid}, namespace="/live", timeout=5)
    assert mama.wait_for("typing")["name"] == "Papa"
    assert papa.client.call(
        "read", {"conversation_id": cid, "seq": 1}, namespace="/live", timeout=5
    ) == {"ok": True, "seq": 1}
    assert mama.wait_for("message.read")["seq"] == 1

    time.sleep(0.3)
    # The carer is in the family but not in this conversation: nothing arrives, and asking fails.
    assert [name for name, _ in stief.events] == []
    assert refused_with(send(stief, cid, "sock-key-0002", "Mag ik meelezen?")) == "not_found"
    assert [name for name, _ in papa.events].count("message.new") == 1
    assert refused_with(send(mama, cid, "sock-key-0003", "")) == "empty"
    assert refused_with(send(mama, cid, "x", "hoi")) == "bad_client_key"
    assert refused_with(send(mama, 10**9, "sock-key-0004", "hoi")) == "not_found"


def test_socket_sender_is_rate_limited_others_keep_being_served(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    base = live_server.url
    mama = Listener(base, http_sign_in(base, "mama@example.org"))
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.extend([mama, papa])
    assert mama.subscribe(fid)["ok"] and papa.subscribe(fid)["ok"]
    # The bucket's clock held still: on a slow machine 25 sends can outlast a refill.
    send_limit.clock = lambda: 1000.0
    answers = [send(mama, cid, f"burst-{i:05d}", f"{i}") for i in range(25)]
    limited = [a for a in answers if not a["ok"]]
    assert limited and all(
        refused_with(a) == "rate_limited" and a["retry_after"] > 0 for a in limited
    )
    assert send(papa, cid, "papa-00001", "Ik ben er ook")["ok"]


def test_every_event_checks_that_the_session_still_counts(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    """The session check rides along in each event's one context query. A session ended in a
    way no message announced (revoked "an hour ago", e.g. by another instance's clock) stops the
    socket's next event (refused, nothing stored, nobody told), and the sweep closes the socket."""
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    base = live_server.url
    mama = Listener(base, http_sign_in(base, "mama@example.org"))
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.extend([mama, papa])
    assert mama.subscribe(fid)["ok"] and papa.subscribe(fid)["ok"]
    assert send(mama, cid, "before-0001", "Nog ingelogd")["ok"]
    papa.wait_for("message.new")

    with app.app_context():
        mama_id = db.session.scalar(select(User.id).where(User.email == "mama@example.org"))
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == mama_id)
            .values(revoked_at=clock.now() - timedelta(hours=1))
        )
        db.session.commit()
        db.session.remove()

    for event, data in (
        ("message.send", {"conversation_id": cid, "client_key": "after-00001", "body": "Niet"}),
        ("typing", {"conversation_id": cid}),
        ("read", {"conversation_id": cid, "seq": 1}),
    ):
        try:
            answer = mama.client.call(event, data, namespace="/live", timeout=5)
        except socketio.exceptions.SocketIOError:
            break  # the sweep closed the socket first: nothing more can be sent on it
        assert refused_with(answer) == "unauthorized"
    assert mama.disconnected.wait(20), "the sweep did not close the ended session's socket"
    time.sleep(0.3)
    assert [name for name, _ in papa.events].count("message.new") == 1
    assert [name for name, _ in papa.events].count("typing") == 0
    with app.app_context():
        bodies = db.session.scalars(select(Message.body).where(Message.conversation_id == cid))
        assert list(bodies) == ["Nog ingelogd"]
    # Papa's own session is untouched: his events still go through.
    assert send(papa, cid, "papa-00001", "Ik wel")["ok"]


def test_events_with_text_or_values_no_handler_can_use_get_an_answer(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    """Found by fuzzing: these raised in the handler and the client heard nothing back."""
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    base = live_server.url
    mama = Listener(base, http_sign_in(base, "mama@example.org"))
    listeners.append(mama)
    assert mama.subscribe(fid)["ok"]
    for page in ([], {}, ["plan"]):
        answer = mama.client.call(
            "presence", {"family_id": fid, "page": page}, namespace="/live", timeout=5
        )
        assert answer["ok"] is False, answer
    assert (
        refused_with(send(mama, cid, "half-emoji-01", "half \ud800 an emoji")) == "bad_characters"
    )
    assert refused_with(send(mama, cid, "sock-key-\ud800", "hallo")) == "bad_characters"
    # Nothing was stored, and an ordinary message still goes through (with a NUL dropped).
    sent = send(mama, cid, "after-bad-01", "hal\x00lo")
    assert sent["ok"] and sent["seq"] == 1
    with app.app_context():
        assert db.session.scalars(select(Message.body)).all() == ["hallo"]
        db.session.remove()


def test_a_read_receipt_over_the_socket_is_logged_like_the_apis(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    """Found by a review: `read` moved the read position but left no row in the log."""
    from portal.access.models import AuditEvent

    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    base = live_server.url
    mama = Listener(base, http_sign_in(base, "mama@example.org"))
    papa = Listener(base, http_sign_in(base, "papa@example.org"))
    listeners.extend([mama, papa])
    assert mama.subscribe(fid)["ok"] and papa.subscribe(fid)["ok"]
    assert send(mama, cid, "to-be-read-01", "Lees je dit?")["ok"]

    def views() -> int:
        with app.app_context():
            count = len(
                db.session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.family_id == fid,
                        AuditEvent.action == "message.view",
                        AuditEvent.object_id == str(cid),
                    )
                ).all()
            )
            db.session.remove()
        return count

    before = views()
    answer = papa.client.call(
        "read", {"conversation_id": cid, "seq": 1}, namespace="/live", timeout=5
    )
    assert answer == {"ok": True, "seq": 1}
    assert views() == before + 1
