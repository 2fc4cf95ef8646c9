"""Refusals over the /live socket, tried with a bare client (tests/live/raw_socket.py).

Every client event gets an answer, also an event without a name. A socket that is refused the
same thing again and again leaves one row in the family's log at once and one more that counts
the repeats (portal/access/repeats.py), written when the socket goes away, when its minute is
over, or when the server stops; other sockets and other refusals are counted apart. The chain
still verifies, and "Wie keek mee?" says how often, in Dutch and in English."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import db
from portal.access import audit
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.models import Conversation, Participant
from tests.conftest import LiveServer
from tests.helpers import sign_in
from tests.live.process import portal_server
from tests.live.raw_socket import RawSocket
from tests.live.test_live import http_sign_in, refused_with
from tests.support.servers import log_tail

FLOOD = 50
STRANGER = "vreemde@example.org"  # signed up, but no relation to the family at all


@dataclass
class World:
    family_id: int
    conversation_id: int
    other_conversation_id: int
    mother: User
    father: User  # reads the portal in English
    stranger_id: int


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> World:
    mother = make_user(email="mama@example.org", name="Mama")
    father = make_user(email="papa@example.org", name="Papa", locale="en")
    stranger = make_user(email=STRANGER, name="Vreemde")
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    with app.app_context():
        ids = []
        for topic in ("Weekend", "School"):
            conversation = Conversation(family_id=family.id, topic=topic, created_by_id=mother.id)
            db.session.add(conversation)
            db.session.flush()
            db.session.add_all(
                Participant(conversation_id=conversation.id, user_id=u.id) for u in (mother, father)
            )
            ids.append(conversation.id)
        db.session.commit()
        db.session.remove()
    return World(family.id, ids[0], ids[1], mother, father, stranger.id)


def send(conversation_id: int) -> str:
    body = f'{{"conversation_id":{conversation_id},"client_key":"poging-0001","body":"Hallo"}}'
    return f'["message.send",{body}]'


def subscribe(family_id: int) -> str:
    return f'["subscribe",{{"family_id":{family_id}}}]'


Row = tuple[str, str | None, int]  # action, object id, count


def refusals(app: Flask, world: World) -> list[Row]:
    """The stranger's refused rows in the family's log, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.object_id, AuditEvent.count)
            .where(
                AuditEvent.family_id == world.family_id,
                AuditEvent.actor_user_id == world.stranger_id,
                AuditEvent.outcome == "denied",
            )
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    return [(action, object_id, count) for action, object_id, count in rows]


def wait_for_rows(app: Flask, world: World, number: int, timeout: float = 10) -> list[Row]:
    deadline = time.monotonic() + timeout
    while len(rows := refusals(app, world)) < number:
        assert time.monotonic() < deadline, f"{number} rows expected, got {rows}"
        time.sleep(0.05)
    return rows


def chain_problems(app: Flask) -> list[audit.ChainProblem]:
    with app.app_context():
        _checked, problems = audit.verify()
        db.session.remove()
    return problems


def refuse(raw: RawSocket, frame: str, times: int) -> None:
    for _ in range(times):
        assert refused_with(raw.call(frame)) in ("not_found", "forbidden"), frame


# --- a flood of one refusal ------------------------------------------------------------------


def test_a_flood_of_one_refusal_is_one_row_at_once_and_one_count_when_the_socket_goes(
    app: Flask, client: FlaskClient, live_server: LiveServer, world: World
) -> None:
    base = live_server.url
    cid = str(world.conversation_id)
    raw = RawSocket(base, http_sign_in(base, STRANGER))
    try:
        refuse(raw, send(world.conversation_id), FLOOD)
        # Every refusal was answered; the first is in the log, the others are counted.
        assert refusals(app, world) == [("message.send", cid, 1)]
    finally:
        raw.close()
    rows = wait_for_rows(app, world, 2)
    assert rows == [("message.send", cid, 1), ("message.send", cid, FLOOD - 1)]
    assert chain_problems(app) == []

    sign_in(client, world.mother)
    page = client.get(f"/families/{world.family_id}/audit").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert body.count("wilde een bericht sturen") == 1, body
    assert f"{FLOOD} keer geweigerd" in body and "sinds" in body

    father = client.application.test_client()
    sign_in(father, world.father)
    english = father.get(f"/families/{world.family_id}/audit").get_data(as_text=True)
    assert f"refused {FLOOD} times" in english.split("<tbody>")[1]
    items = father.get(f"/api/v1/families/{world.family_id}/audit").get_json()["items"]
    counted = [i for i in items if i["actor"]["user_id"] == world.stranger_id]
    assert [(i["count"], i["text"]["outcome"]) for i in counted] == [
        (FLOOD - 1, f"refused {FLOOD - 1} times"),  # newest first
        (1, "refused"),
    ]


def test_other_sockets_and_other_refusals_are_counted_apart(
    app: Flask, live_server: LiveServer, world: World
) -> None:
    """Two sockets of one sign-in, each refused the same send; one of them also refused a
    subscribe and a send to another conversation. Nothing is merged across them."""
    base = live_server.url
    browser = http_sign_in(base, STRANGER)
    one, two = RawSocket(base, browser), RawSocket(base, browser)
    cid, other, fid = world.conversation_id, world.other_conversation_id, world.family_id
    try:
        for _ in range(5):
            refuse(one, send(cid), 1)
            refuse(two, send(cid), 1)
            refuse(one, subscribe(fid), 1)
            refuse(one, send(other), 1)
        firsts = [("message.send", str(cid), 1)] * 2
        firsts += [("live.subscribe", str(fid), 1), ("message.send", str(other), 1)]
        assert Counter(refusals(app, world)) == Counter(firsts)
    finally:
        one.close()
        two.close()
    rows = wait_for_rows(app, world, 8)
    counts = [(action, object_id, 4) for action, object_id, _ in firsts]
    assert Counter(rows) == Counter(firsts + counts), rows
    assert chain_problems(app) == []


def test_refusals_sent_side_by_side_are_each_logged_or_counted(
    app: Flask, live_server: LiveServer, world: World
) -> None:
    """The server handles one socket's events side by side (a thread each): every refusal is
    in the log once, as a row of its own or in a count; none is lost, none counted twice."""
    base = live_server.url
    raw = RawSocket(base, http_sign_in(base, STRANGER))
    try:
        answers = raw.call_all([send(world.conversation_id)] * FLOOD)
        assert all(refused_with(a) in ("not_found", "forbidden") for a in answers)
    finally:
        raw.close()
    deadline = time.monotonic() + 10
    while sum(count for _, _, count in refusals(app, world)) < FLOOD:
        assert time.monotonic() < deadline, refusals(app, world)
        time.sleep(0.05)
    time.sleep(0.6)  # a sweep pass: nothing more comes
    rows = refusals(app, world)
    assert sum(count for _, _, count in rows) == FLOOD, rows
    assert len(rows) < FLOOD / 2, rows  # and they were counted, not logged one by one
    assert chain_problems(app) == []


def test_a_count_is_written_when_its_minute_is_over(
    app: Flask, live_server: LiveServer, world: World
) -> None:
    """While the socket stays open: the minute ends, the count is written (at the time of the
    last repeat), and the same refusal after it is logged at once again."""
    base = live_server.url
    cid = str(world.conversation_id)
    raw = RawSocket(base, http_sign_in(base, STRANGER))
    try:
        refuse(raw, send(world.conversation_id), 10)
        clock.advance(timedelta(seconds=61))
        assert wait_for_rows(app, world, 2) == [("message.send", cid, 1), ("message.send", cid, 9)]
        refuse(raw, send(world.conversation_id), 3)
        assert refusals(app, world)[2:] == [("message.send", cid, 1)]
    finally:
        raw.close()
    rows = wait_for_rows(app, world, 4)
    assert [count for _, _, count in rows] == [1, 9, 1, 2]
    times = _times(app, world)
    assert times[0] < times[1] < times[2] - timedelta(seconds=60), times
    assert chain_problems(app) == []


def _times(app: Flask, world: World) -> list[datetime]:
    with app.app_context():
        times = list(
            db.session.scalars(
                select(AuditEvent.at)
                .where(AuditEvent.actor_user_id == world.stranger_id)
                .order_by(AuditEvent.id)
            )
        )
        db.session.remove()
    return times


def test_counts_still_open_are_written_when_the_server_stops(
    app: Flask, database_url: str, world: World
) -> None:
    """A real gevent server, stopped as systemd or a container stops it (SIGTERM) while the
    flooding socket is still open: it ends normally and writes the count first."""
    cid = str(world.conversation_id)
    with portal_server(database_url) as served:
        raw = RawSocket(served.base, http_sign_in(served.base, STRANGER))
        try:
            refuse(raw, send(world.conversation_id), 20)
            assert refusals(app, world) == [("message.send", cid, 1)]
            served.process.terminate()
            try:
                code: int | None = served.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                code = None
            assert code == 0, log_tail(served.log)
        finally:
            raw.close()
    assert refusals(app, world) == [("message.send", cid, 1), ("message.send", cid, 19)]
    assert chain_problems(app) == []


# --- every event is answered -----------------------------------------------------------------


def test_an_event_without_a_name_is_answered_like_an_unknown_one(
    live_server: LiveServer, world: World
) -> None:
    """`42/live,1[]` has an acknowledgement id but no event name; neither has an event whose
    data is no list, or none at all. Each is refused with an answer, and the socket goes on."""
    base = live_server.url
    raw = RawSocket(base, http_sign_in(base, "mama@example.org"))
    try:
        for frame in ("[]", "", "{}", '{"event":"subscribe"}', " 5", "null", '"subscribe"'):
            assert refused_with(raw.call(frame)) == "unknown_event", frame
        # The same as binary events: one whose data is empty but for its attachment, and one
        # that announces no attachments at all (an ordinary event then).
        assert refused_with(raw.call_binary("[]", [b"\x00\x01"])) == "unknown_event"
        assert raw.call_binary(subscribe(world.family_id), [])["ok"]
        assert raw.call(subscribe(world.family_id))["ok"]
    finally:
        raw.close()
