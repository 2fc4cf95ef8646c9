"""When the family ends someone's access, they see nothing more: tried as an attacker would
(reserved and odd event names, an oversized long-polling POST) and across two real gevent
instances sharing the database and a real Redis (revocation, expiry, a revocation that commits
late, member removal, participant removal, sign-out elsewhere).

"Nothing more" means: no message whose send began after the ending returned reaches the person.
Waits for the disconnect are generous; how fast it is, is a benchmark figure
(bench/bench_endings.py), not something these tests assert."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access.models import AuditChainHead, AuditEvent, Grant, GrantPart
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.models import Conversation, Participant
from tests.conftest import LiveServer
from tests.live.process import portal_server
from tests.live.raw_socket import RawSocket
from tests.live.test_live import CSRF, Listener, http_sign_in, post_page_form, refused_with
from tests.support.servers import RedisServer


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    """Sockets a test opened, closed at its end."""
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.close()


REPETITIONS = 20


@dataclass
class World:
    family_id: int
    conversation_id: int
    mother_id: int
    father_id: int
    guest_id: int


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> World:
    """Mama and Papa (parents) and Oma (a guest with a grant for messages), all three in one
    conversation."""
    mother = make_user(email="mama@example.org", name="Mama")
    father = make_user(email="papa@example.org", name="Papa")
    guest = make_user(email="oma@example.org", name="Oma")
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    with app.app_context():
        conversation = Conversation(family_id=family.id, topic="Weekend", created_by_id=mother.id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=u.id)
            for u in (mother, father, guest)
        )
        db.session.commit()
        cid = conversation.id
        db.session.remove()
    return World(family.id, cid, mother.id, father.id, guest.id)


def grant(app: Flask, world: World, expires_at: datetime | None = None) -> int:
    """A fresh active grant for Oma: messages (write) and plan (read)."""
    now = clock.now()
    with app.app_context():
        row = Grant(
            family_id=world.family_id,
            grantee_id=world.guest_id,
            origin="invitation",
            purpose="Meedenken",
            valid_from=now - timedelta(days=1),
            expires_at=expires_at or now + timedelta(days=30),
            accepted_at=now,
            approved_at=now,
            parts=[GrantPart(part="messages", level="write"), GrantPart(part="plan", level="read")],
        )
        db.session.add(row)
        db.session.commit()
        grant_id = row.id
        db.session.remove()
    return grant_id


def send(listener: Listener, cid: int, key: str, body: str) -> Any:
    return listener.client.call(
        "message.send",
        {"conversation_id": cid, "client_key": key, "body": body},
        namespace="/live",
        timeout=10,
    )


def bodies(listener: Listener) -> list[str]:
    return [data["body"] for name, data in listener.events if name == "message.new"]


def wait_for_body(listener: Listener, body: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if body in bodies(listener):
            return
        time.sleep(0.02)
    raise AssertionError(f"{body!r} not heard within {timeout}s; heard {bodies(listener)}")


def send_after_the_end(sender: Listener, world: World, label: str) -> list[str]:
    """Three messages, all sent after the ending returned; waits until the sender heard the
    last one (so any delivery to others has had its turn) and returns their bodies."""
    sent = [f"{label} na {k}" for k in range(3)]
    for k, body in enumerate(sent):
        assert send(sender, world.conversation_id, f"{label}-na-{k}", body)["ok"]
    wait_for_body(sender, sent[-1])
    time.sleep(0.3)
    return sent


def change_plan(people: People, base: str, world: World, text: str) -> None:
    """The mother changes the plan through the API; waits until her own socket heard it."""
    browser = people.mother_browser
    csrf = browser.get(f"{base}/api/v1/session", timeout=5).json()["csrf_token"]
    plan = f"{base}/api/v1/families/{world.family_id}/plan"
    heard = len([n for n, _ in people.mother.events if n == "plan.changed"])
    version = browser.get(plan, timeout=5).json()["version"]
    changed = browser.put(
        plan, json={"version": version, "tomorrow": text}, headers={"X-CSRFToken": csrf}, timeout=10
    )
    assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 10
    while len([n for n, _ in people.mother.events if n == "plan.changed"]) == heard:
        assert time.monotonic() < deadline, "the mother did not hear her own plan change"
        time.sleep(0.02)
    time.sleep(0.3)


def page_post(browser: requests.Session, base: str, path: str) -> None:
    response = post_page_form(browser, base, path, {})
    assert response.status_code == 200, response.text[:300]


# --- one instance: names a client may not use -------------------------------------------------


def test_reserved_and_unknown_event_names_are_refused_and_change_nothing(
    app: Flask, live_server: LiveServer, world: World, listeners: list[Listener]
) -> None:
    """A guest who sends `disconnect` or `connect` as an ordinary event (to drop out of the
    list of sockets that revocation looks in) gets a refusal, and is still cut off."""
    base = live_server.url
    grant_id = grant(app, world)
    mother_browser = http_sign_in(base, "mama@example.org")
    raw = RawSocket(base, http_sign_in(base, "oma@example.org"))
    try:
        subscribed = raw.call(f'["subscribe",{{"family_id":{world.family_id}}}]')
        assert subscribed["ok"] and "messages" in subscribed["parts"], subscribed
        for frame in (
            '["disconnect"]',
            '["disconnect","client namespace disconnect"]',
            '["connect",{}]',
            '["refused_event"]',
            '["on_subscribe",{}]',
            "[1,2,3]",
            "[null]",
            '[{"event":"subscribe"}]',
        ):
            assert refused_with(raw.call(frame)) == "unknown_event", frame
        mother = Listener(base, mother_browser)
        listeners.append(mother)
        assert mother.subscribe(world.family_id)["ok"]
        assert send(mother, world.conversation_id, "voor-00001", "Nog samen")["ok"]
        raw.wait(lambda f: "Nog samen" in f, 5)  # still subscribed: the refusals changed nothing

        page_post(mother_browser, base, f"/families/{world.family_id}/access/{grant_id}/revoke")
        sent = send_after_the_end(mother, world, "raw")
        assert raw.wait_closed(10), "the guest's socket stayed open after the revocation"
        heard = [m["body"] for m in raw.events("message.new")]
        assert heard == ["Nog samen"] and not set(sent) & set(heard), heard
        assert raw.events("access.revoked")[0]["family_id"] == world.family_id
    finally:
        raw.close()


# --- two instances with Redis ------------------------------------------------------------------


@dataclass
class Instances:
    one: str
    two: str


@pytest.fixture(scope="module")
def instances(database_url: str) -> Iterator[Instances]:
    """Two gevent instances and a Redis, shared by this module's tests (their data is new each
    test; the processes are not)."""
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer())
        settings = {"redis_url": redis.url, "message_burst": "1000", "message_per_minute": "1000"}
        one = stack.enter_context(portal_server(database_url, **settings)).base
        two = stack.enter_context(portal_server(database_url, **settings)).base
        yield Instances(one, two)


@dataclass
class People:
    mother_browser: requests.Session  # on instance two
    mother: Listener  # on instance two
    guest_browser: requests.Session  # on instance one


@pytest.fixture
def people(instances: Instances, world: World, listeners: list[Listener]) -> People:
    mother_browser = http_sign_in(instances.two, "mama@example.org")
    mother = Listener(instances.two, mother_browser)
    listeners.append(mother)
    assert mother.subscribe(world.family_id)["ok"]
    return People(mother_browser, mother, http_sign_in(instances.one, "oma@example.org"))


def guest_on_one(
    instances: Instances, people: People, world: World, listeners: list[Listener], label: str
) -> Listener:
    """Oma's socket on instance one, subscribed, and hearing a message sent before the end."""
    guest = Listener(instances.one, people.guest_browser)
    listeners.append(guest)
    answer = guest.subscribe(world.family_id)
    assert answer["ok"] and "messages" in answer["parts"], answer
    body = f"{label} voor"
    assert send(people.mother, world.conversation_id, f"{label}-voor", body)["ok"]
    wait_for_body(guest, body)
    return guest


def test_revocation_on_another_instance_ends_the_socket_and_every_later_message(
    app: Flask, instances: Instances, world: World, people: People, listeners: list[Listener]
) -> None:
    for run in range(REPETITIONS):
        label = f"intrekken{run:02d}"
        grant_id = grant(app, world)
        guest = guest_on_one(instances, people, world, listeners, label)
        path = f"/families/{world.family_id}/access/{grant_id}/revoke"
        page_post(people.mother_browser, instances.two, path)
        sent = send_after_the_end(people.mother, world, label)
        assert guest.disconnected.wait(10), f"run {run}: guest still connected"
        assert not set(sent) & set(bodies(guest)), f"run {run}: {bodies(guest)}"
        assert guest.wait_for("access.revoked")["family_id"] == world.family_id


def test_expiry_ends_the_socket_by_its_own_timer_and_no_later_message_arrives(
    app: Flask, instances: Instances, world: World, people: People, listeners: list[Listener]
) -> None:
    for run in range(REPETITIONS):
        label = f"verloop{run:02d}"
        ends = clock.now() + timedelta(seconds=2.5)
        grant(app, world, expires_at=ends)
        guest = guest_on_one(instances, people, world, listeners, label)
        time.sleep(max((ends - clock.now()).total_seconds(), 0) + 0.01)
        sent = send_after_the_end(people.mother, world, label)
        assert guest.disconnected.wait(10), f"run {run}: expired guest still connected"
        assert not set(sent) & set(bodies(guest)), f"run {run}: {bodies(guest)}"


def test_a_revocation_that_commits_late_is_still_enforced(
    app: Flask, instances: Instances, world: World, people: People, listeners: list[Listener]
) -> None:
    """The revocation waits for the family's audit chain head (held by another transaction) and
    commits 1.5 s after it was written: the guest on the other instance is still cut off."""
    grant_id = grant(app, world)
    guest = guest_on_one(instances, people, world, listeners, "laat")
    change_plan(people, instances.two, world, "Voor het intrekken")
    guest.wait_for("plan.changed", 10)
    engine = app.extensions["portal_engine"]
    holding = threading.Event()
    released = threading.Event()

    def hold_the_chain_head() -> None:
        with engine.begin() as conn:
            conn.execute(select(AuditChainHead).with_for_update())
            holding.set()
            released.wait(1.5)

    holder = threading.Thread(target=hold_the_chain_head)
    holder.start()
    try:
        assert holding.wait(5)
        path = f"/families/{world.family_id}/access/{grant_id}/revoke"
        page_post(people.mother_browser, instances.two, path)
    finally:
        released.set()
        holder.join()
    sent = send_after_the_end(people.mother, world, "laat")
    change_plan(people, instances.two, world, "Na het intrekken")
    assert guest.disconnected.wait(10), "guest still connected after a late revocation"
    assert not set(sent) & set(bodies(guest)), bodies(guest)
    plan_events = [d["family_id"] for n, d in guest.events if n == "plan.changed"]
    assert len(plan_events) == 1, guest.events  # the change before the revocation only


def test_member_removal_on_another_instance_ends_their_socket(
    app: Flask, instances: Instances, world: World, people: People, listeners: list[Listener]
) -> None:
    father = Listener(instances.one, http_sign_in(instances.one, "papa@example.org"))
    listeners.append(father)
    assert father.subscribe(world.family_id)["ok"]
    assert send(people.mother, world.conversation_id, "lid-voor-1", "Voor het weghalen")["ok"]
    wait_for_body(father, "Voor het weghalen")
    with app.app_context():
        member_id = db.session.scalar(
            select(Member.id).where(
                Member.family_id == world.family_id, Member.user_id == world.father_id
            )
        )
    # A parent with authority is never removed by someone else; he leaves, in a browser that
    # talks to the other instance than the one holding his socket.
    path = f"/families/{world.family_id}/members/{member_id}/remove"
    page_post(http_sign_in(instances.two, "papa@example.org"), instances.two, path)
    sent = send_after_the_end(people.mother, world, "lid")
    assert father.disconnected.wait(10), "removed member still connected"
    assert not set(sent) & set(bodies(father)), bodies(father)


def test_participant_removal_on_another_instance_stops_the_conversation_at_once(
    app: Flask, instances: Instances, world: World, people: People, listeners: list[Listener]
) -> None:
    grant(app, world)
    guest = guest_on_one(instances, people, world, listeners, "deelnemer")
    api = f"{instances.two}/api/v1/families/{world.family_id}/conversations"
    csrf = people.mother_browser.get(f"{instances.two}/api/v1/session", timeout=5).json()
    removed = people.mother_browser.delete(
        f"{api}/{world.conversation_id}/participants/{world.guest_id}",
        headers={"X-CSRFToken": csrf["csrf_token"]},
        timeout=10,
    )
    assert removed.status_code in (200, 204), removed.text
    sent = send_after_the_end(people.mother, world, "deelnemer")
    assert not set(sent) & set(bodies(guest)), bodies(guest)
    assert guest.wait_for("conversation.removed", 10)["conversation_id"] == world.conversation_id


def test_signing_out_on_another_instance_ends_the_socket(
    instances: Instances, world: World, people: People, listeners: list[Listener]
) -> None:
    father_browser = http_sign_in(instances.one, "papa@example.org")
    father = Listener(instances.one, father_browser)
    listeners.append(father)
    assert father.subscribe(world.family_id)["ok"]
    elsewhere = requests.Session()
    elsewhere.cookies.update(father_browser.cookies)
    page = elsewhere.get(f"{instances.two}/families/{world.family_id}", timeout=5).text
    token = CSRF.search(page)
    assert token, page[:300]
    signed_out = elsewhere.post(
        f"{instances.two}/signout", data={"csrf_token": token.group(1)}, timeout=5
    )
    assert signed_out.status_code == 200
    sent = send_after_the_end(people.mother, world, "uitloggen")
    assert father.disconnected.wait(10), "signed-out socket on the other instance stayed open"
    assert not set(sent) & set(bodies(father)), bodies(father)


def test_an_oversized_long_polling_post_is_answered_with_a_4xx(
    instances: Instances, world: World, people: People
) -> None:
    """As a long-polling client does it: a GET waits for the server's packets while the POST
    carries 70 KB (over the 64 KiB limit). Engine.IO refuses it with 400 and closes the
    socket, and the waiting GET hears the close."""
    browser = people.guest_browser
    base = f"{instances.one}/socket.io/?EIO=4&transport=polling"
    opened = browser.get(base, timeout=5)
    assert opened.status_code == 200 and opened.text.startswith("0{"), opened.text
    sid = json.loads(opened.text.split("\x1e")[0][1:])["sid"]
    polled: list[requests.Response] = []
    poll = threading.Thread(
        target=lambda: polled.append(browser.get(f"{base}&sid={sid}", timeout=30)), daemon=True
    )
    poll.start()
    time.sleep(0.3)  # the GET is waiting on the server
    answer = browser.post(
        f"{base}&sid={sid}",
        data=b"4" + b"x" * 70_000,
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        timeout=30,
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    poll.join(30)
    assert polled and "1" in polled[0].text.split("\x1e"), polled  # the close packet


def test_socket_refusals_are_in_the_familys_log(
    app: Flask, live_server: LiveServer, world: World, listeners: list[Listener]
) -> None:
    """A refused subscribe and a refused send concern the family: "Wie keek mee?" shows them
    as it shows refused pages."""
    base = live_server.url
    stranger_browser = http_sign_in(base, "oma@example.org")  # no grant: no relation at all
    stranger = Listener(base, stranger_browser)
    listeners.append(stranger)
    assert refused_with(stranger.subscribe(world.family_id)) == "not_found"
    assert refused_with(send(stranger, world.conversation_id, "vreemd-001", "Hallo")) in (
        "not_found",
        "forbidden",
    )
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.outcome).where(
                AuditEvent.family_id == world.family_id, AuditEvent.actor_user_id == world.guest_id
            )
        ).all()
        db.session.remove()
    assert ("live.subscribe", "denied") in rows and ("message.send", "denied") in rows, rows


def test_events_are_answered_unavailable_while_the_database_is_away() -> None:
    """A PostgreSQL of its own, stopped under a running instance: every client event still gets
    an answer (`unavailable`, with a message the page shows), none is left without one."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from portal.auth import passwords
    from portal.migrate import upgrade
    from tests.helpers import PASSWORD
    from tests.support.servers import PostgresServer

    postgres = PostgresServer().start()
    try:
        upgrade(postgres.url)
        engine = create_engine(postgres.url)
        with Session(engine) as session:
            mother = User(
                email="mama@example.org",
                display_name="Mama",
                password_hash=passwords.hash_password(PASSWORD),
                email_verified_at=clock.now(),
            )
            session.add(mother)
            session.flush()
            family = Family(name="Gezin De Vries", created_by_id=mother.id)
            session.add(family)
            session.flush()
            session.add(
                Member(
                    family_id=family.id,
                    user_id=mother.id,
                    role=ROLE_PARENT,
                    display_name="Mama",
                    has_authority=True,
                    joined_at=clock.now(),
                )
            )
            conversation = Conversation(family_id=family.id, topic="Zorg", created_by_id=mother.id)
            session.add(conversation)
            session.flush()
            session.add(Participant(conversation_id=conversation.id, user_id=mother.id))
            session.commit()
            fid, cid = family.id, conversation.id
        engine.dispose()
        with portal_server(postgres.url) as served:
            mother_socket = Listener(served.base, http_sign_in(served.base, "mama@example.org"))
            try:
                assert mother_socket.subscribe(fid)["ok"]
                postgres.stop()  # the database goes away under the running instance
                for event, data in (
                    (
                        "message.send",
                        {"conversation_id": cid, "client_key": "weg-0001", "body": "Hoi"},
                    ),
                    ("typing", {"conversation_id": cid}),
                    ("read", {"conversation_id": cid, "seq": 1}),
                    ("subscribe", {"family_id": fid}),
                ):
                    answer = mother_socket.client.call(event, data, namespace="/live", timeout=30)
                    assert refused_with(answer) == "unavailable", (event, answer)
            finally:
                mother_socket.close()
    finally:
        postgres.stop()
