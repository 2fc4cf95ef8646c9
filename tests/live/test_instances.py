"""Several instances behind one address (DESIGN: N instances + Redis message queue + sticky
sessions): two real portal processes share the database and a real Redis. What happens on one
reaches the sockets on the other — messages, typing, plan changes, who is looking at the plan —
a sender's rate limit is one bucket whichever instance they write through, and someone who
signs out on one is disconnected on the other (the sign-out is published after commit)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
import requests
from flask import Flask

from portal import db
from portal.auth.models import User
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.models import Conversation, Participant
from tests.live.process import portal_server
from tests.live.test_live import CSRF, Listener, http_sign_in, refused_with
from tests.support.servers import RedisServer


@pytest.fixture
def parents(
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> tuple[User, User, Family]:
    """Mama and Papa, both parents with authority, who sign in on the two instances."""
    mother = make_user(email="mama@example.org", name="Mama")
    father = make_user(email="papa@example.org", name="Papa")
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    return mother, father, family


def names_seen(listener: Listener, wanted: list[str], timeout: float = 5, since: int = 0) -> None:
    """Wait until `listener` heard a presence event naming exactly `wanted` (among the events
    from number `since` on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, data in listener.events[since:]:
            if name == "presence" and [p["name"] for p in data["people"]] == wanted:
                return
        time.sleep(0.02)
    heard = [d["people"] for n, d in listener.events[since:] if n == "presence"]
    raise AssertionError(f"no presence {wanted} within {timeout}s; heard {heard}")


def send(listener: Listener, cid: int, key: str, body: str) -> Any:
    return listener.client.call(
        "message.send",
        {"conversation_id": cid, "client_key": key, "body": body},
        namespace="/live",
        timeout=5,
    )


def test_two_instances_share_live_events_through_redis(
    app: Flask, database_url: str, parents: tuple[User, User, Family]
) -> None:
    mother, father, family = parents
    with app.app_context():
        conversation = Conversation(family_id=family.id, topic="Omgang", created_by_id=mother.id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=u.id) for u in (mother, father)
        )
        db.session.commit()
        cid, fid = conversation.id, family.id
        db.session.remove()

    listeners: list[Listener] = []
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        # Three messages at once per sender, then one a minute: whichever instance they use.
        settings = {"redis_url": redis.url, "message_burst": "3", "message_per_minute": "1"}
        one = stack.enter_context(portal_server(database_url, **settings)).base
        two = stack.enter_context(portal_server(database_url, **settings)).base
        stack.callback(lambda: [listener.close() for listener in listeners])
        mama_browser = http_sign_in(one, "mama@example.org")
        papa_browser = http_sign_in(two, "papa@example.org")
        mama = Listener(one, mama_browser)  # on instance one
        papa = Listener(two, papa_browser)  # on instance two
        listeners.extend([mama, papa])
        for listener in (mama, papa):
            assert listener.subscribe(fid)["ok"]

        # A message sent on one reaches the other instance's socket, once.
        ack = send(mama, cid, "instances-0001", "Wie haalt op?")
        assert ack["ok"] and ack["seq"] == 1, ack
        event = papa.wait_for("message.new", timeout=5)
        assert (event["seq"], event["body"], event["author_name"]) == (1, "Wie haalt op?", "Mama")

        # Typing on two is seen on one (and not echoed to the typist).
        assert papa.client.call("typing", {"conversation_id": cid}, namespace="/live", timeout=5)[
            "ok"
        ]
        typing = mama.wait_for("typing", timeout=5)
        assert (typing["user_id"], typing["name"]) == (father.id, "Papa")
        assert not [name for name, _ in papa.events if name == "typing"]

        # A plan change over instance two's API reaches the parent on instance one.
        csrf = papa_browser.get(f"{two}/api/v1/session", timeout=5).json()["csrf_token"]
        plan = f"{two}/api/v1/families/{fid}/plan"
        version = papa_browser.get(plan, timeout=5).json()["version"]
        changed = papa_browser.put(
            plan,
            json={"version": version, "tomorrow": "Rustig ontbijten"},
            headers={"X-CSRFToken": csrf},
            timeout=5,
        )
        assert changed.status_code == 200, changed.text
        plan_event = mama.wait_for("plan.changed", timeout=5)
        assert (plan_event["family_id"], plan_event["part"]) == (fid, "questions")

        # Who is looking at the plan: both, whichever instance each is on.
        here = mama.client.call(
            "presence", {"family_id": fid, "page": "plan"}, namespace="/live", timeout=5
        )
        assert [p["name"] for p in here["people"]] == ["Mama"], here
        both = papa.client.call(
            "presence", {"family_id": fid, "page": "plan"}, namespace="/live", timeout=5
        )
        assert [p["name"] for p in both["people"]] == ["Mama", "Papa"], both
        names_seen(mama, ["Mama", "Papa"])

        # Mama's second device, on instance two, has no fresh tokens: one message went
        # through instance one, two more go through two, the fourth is refused.
        phone = Listener(two, mama_browser)
        listeners.append(phone)
        assert phone.subscribe(fid)["ok"]
        for n in (2, 3):
            assert send(phone, cid, f"instances-000{n}", f"Bericht {n}")["ok"]
        refused = send(phone, cid, "instances-0004", "Bericht 4")
        assert refused_with(refused) == "rate_limited", refused
        assert refused["retry_after"] > 0

        # Signing out on one ends papa's socket on two at once (published after commit).
        papa_on_one = requests.Session()
        papa_on_one.cookies.update(papa_browser.cookies)
        page = papa_on_one.get(f"{one}/families/{fid}", timeout=5).text
        token = CSRF.search(page)
        assert token, page[:300]
        heard = len(mama.events)
        signed_out = papa_on_one.post(
            f"{one}/signout", data={"csrf_token": token.group(1)}, timeout=5
        )
        assert signed_out.status_code == 200
        assert papa.disconnected.wait(3), "papa's socket on instance two stayed open"
        names_seen(mama, ["Mama"], since=heard)  # and mama, on one, sees that papa left


def test_people_of_an_instance_that_stopped_are_dropped() -> None:
    """An instance killed without saying goodbye leaves its fields in Redis; once its alive key
    has expired, nobody reads its people as present, and the fields go."""
    from portal.live import presence

    with RedisServer() as redis_server:
        presence.configure(redis_server.url)
        try:
            store = presence._shared
            assert store is not None
            key = presence._key(7, "plan")
            store.set(presence._alive_key("levend"), "1", px=presence.ALIVE_MS)
            store.hset(key, "levend:sid-1", '[1, "Mama"]')
            store.hset(key, "gestopt:sid-2", '[2, "Papa"]')  # no alive key: that one stopped
            store.hset(key, "levend:sid-3", "geen json")  # not written by the portal
            assert presence._names(7, "plan") == [{"user_id": 1, "name": "Mama"}]
            assert store.hkeys(key) == [b"levend:sid-1"]
        finally:
            presence.configure("")


def test_people_on_an_instance_that_was_killed_leave_the_others_list(
    app: Flask, database_url: str, parents: tuple[User, User, Family]
) -> None:
    """An instance killed with SIGKILL says no goodbye; within two presence periods (its alive
    key expires, then a live instance looks) the others hear that its people left."""
    from portal.live import presence
    from portal.live.namespace import SWEEP_SECONDS

    mother, father, family = parents
    fid = family.id
    listeners: list[Listener] = []
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        one = stack.enter_context(portal_server(database_url, redis_url=redis.url))
        two = stack.enter_context(portal_server(database_url, redis_url=redis.url))
        stack.callback(lambda: [listener.close() for listener in listeners])
        mama = Listener(one.base, http_sign_in(one.base, "mama@example.org"))
        papa = Listener(two.base, http_sign_in(two.base, "papa@example.org"))
        listeners.extend([mama, papa])
        for listener in (mama, papa):
            assert listener.subscribe(fid)["ok"]
            reply = listener.client.call(
                "presence", {"family_id": fid, "page": "plan"}, namespace="/live", timeout=5
            )
            assert reply["ok"], reply
        names_seen(mama, ["Mama", "Papa"])

        heard = len(mama.events)
        two.process.kill()  # no disconnect, no goodbye: papa's field stays in Redis
        two.process.wait(timeout=10)
        limit = presence.ALIVE_MS / 1000 + presence.CHECK_EVERY * SWEEP_SECONDS + 5
        names_seen(mama, ["Mama"], timeout=limit, since=heard)
