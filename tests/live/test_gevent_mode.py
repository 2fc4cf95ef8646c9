"""The gevent async mode (production /socket.io/ instances) with a real server process: a
python-socketio client connects with its session, subscribes, sends and receives, and pages are
served by the same monkey-patched process. Keeps `PORTAL_ASYNC_MODE=gevent` from rotting."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from config import Settings, SettingsError
from portal import create_app, db
from portal.auth.models import User
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.models import Conversation, Participant
from tests.live.process import portal_server
from tests.live.test_live import Listener, http_sign_in
from tests.support.servers import log_tail


def test_async_mode_is_validated() -> None:
    with pytest.raises(SettingsError, match="PORTAL_ASYNC_MODE"):
        Settings.from_env({"PORTAL_ASYNC_MODE": "eventlet"})
    assert Settings.from_env({"PORTAL_ASYNC_MODE": "gevent"}).async_mode == "gevent"
    assert Settings.from_env({}).async_mode == "threading"


def test_gevent_mode_refuses_an_unpatched_process() -> None:
    # This test process is not monkey-patched: gevent mode must say so instead of blocking.
    with pytest.raises(SettingsError, match="monkey-patched"):
        create_app(Settings(async_mode="gevent", secret_key="x" * 40).validated())


def test_gevent_server_connect_subscribe_send_receive(
    app: Flask,
    database_url: str,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother = make_user(email="mama@example.org", name="Mama")
    father = make_user(email="papa@example.org", name="Papa")
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    with app.app_context():
        conversation = Conversation(family_id=family.id, topic="School", created_by_id=mother.id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=u.id) for u in (mother, father)
        )
        db.session.commit()
        cid = conversation.id
        db.session.remove()

    listeners: list[Listener] = []
    with portal_server(database_url) as served:
        base, log = served.base, served.log
        try:
            mama = Listener(base, http_sign_in(base, "mama@example.org"))
            papa = Listener(base, http_sign_in(base, "papa@example.org"))
            listeners.extend([mama, papa])
            for listener in (mama, papa):
                reply = listener.subscribe(family.id)
                assert reply["ok"] and "messages" in reply["parts"], reply
            ack = mama.client.call(
                "message.send",
                {
                    "conversation_id": cid,
                    "client_key": "gevent-key-0001",
                    "body": "Hoi vanuit gevent",
                },
                namespace="/live",
                timeout=5,
            )
            assert ack["ok"] and ack["seq"] == 1 and not ack["duplicate"], ack
            event = papa.wait_for("message.new", timeout=5)
            assert (event["seq"], event["body"]) == (1, "Hoi vanuit gevent")
            assert event["author_name"] == "Mama"
            assert "Gezinsportaal (gevent)" in log.read_text(), log_tail(log)
        finally:
            for listener in listeners:
                listener.close()
