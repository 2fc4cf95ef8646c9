"""Over-long messages are refused in words by every way in (socket, API, page form), counting
line breaks once, and nothing is stored; a read reaches the reader's other pages as the stored
unread count, and only theirs."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.auth.models import User
from portal.core.textlength import Length, count
from portal.family.models import Family, Member
from portal.messaging.models import Message, Participant
from tests.conftest import LiveServer
from tests.helpers import post_form, sign_in
from tests.live.test_live import Listener, http_sign_in, listeners  # noqa: F401
from tests.messaging.test_live_messages import send, setup_world
from tests.messaging.test_messaging import api_for

TOO_LONG = "Een bericht kan hoogstens 10.000 tekens hebben; dit zijn er 12.000."


def stored(app: Flask, cid: int) -> int:
    with app.app_context():
        n = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id == cid)
        )
        db.session.remove()
    return int(n or 0)


def test_one_definition_of_a_character() -> None:
    assert count("a\r\nb\rc\nd") == 7
    assert count("👍🏽") == 2 and count("e\u0301") == 2
    assert Length(max=10).field_flags == {"max_chars": 10}  # no maxlength: browsers cut at it


def test_the_socket_refuses_an_over_long_message_in_words(
    app: Flask,
    live_server: LiveServer,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    listeners: list[Listener],  # noqa: F811
) -> None:
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    mama = Listener(live_server.url, http_sign_in(live_server.url, "mama@example.org"))
    listeners.append(mama)
    assert mama.subscribe(fid)["ok"]
    ack = send(mama, cid, "te-lang-00001", "x" * 12_000)
    assert ack == {"ok": False, "error": {"code": "too_long", "message": TOO_LONG}}
    # 10,000 with the line breaks a browser sends (CR LF) counted once: accepted.
    ack = send(mama, cid, "precies-00001", ("y" * 9 + "\r\n") * 1000)
    assert ack["ok"] is True
    assert stored(app, cid) == 1


def test_the_api_and_the_page_form_refuse_it_and_keep_the_text(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    with app.app_context():
        mother = db.session.scalar(select(User).where(User.email == "mama@example.org"))
        assert mother is not None
        db.session.expunge(mother)
        db.session.remove()
    api = api_for(app, mother)
    response = api.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": "api-te-lang-1", "body": "x" * 12_000},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [{"field": "body", "message": TOO_LONG}]

    client = app.test_client()
    sign_in(client, mother)
    page = f"/families/{fid}/messages/{cid}"
    text = ("regel\r\n" * 1715) + "slot"  # 12,009 sent, 10,294 counted
    response = post_form(client, page, {"body": text, "client_key": "form-te-lang-1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Een bericht kan hoogstens 10.000 tekens hebben; dit zijn er 10.294." in html
    assert "regel\r\n" * 1715 + "slot</textarea>" in html  # the whole text, in the box
    assert 'maxlength="' not in html
    assert stored(app, cid) == 0


def test_a_read_updates_the_readers_other_pages_only(
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
    papa_browser = http_sign_in(base, "papa@example.org")
    papa_phone, papa_laptop = Listener(base, papa_browser), Listener(base, papa_browser)
    listeners.extend([mama, papa_phone, papa_laptop])
    for listener in (mama, papa_phone, papa_laptop):
        assert listener.subscribe(fid)["ok"]
    for i in range(3):
        assert send(mama, cid, f"lees-mij-{i:04d}", f"Bericht {i}")["ok"]
    # Drawing the page marks nothing read.
    assert papa_browser.get(f"{base}/families/{fid}/messages/{cid}").status_code == 200
    assert not any(name == "unread.changed" for name, _ in papa_laptop.events)

    ack = papa_phone.client.call(
        "read", {"conversation_id": cid, "seq": 2}, namespace="/live", timeout=5
    )
    assert ack == {"ok": True, "seq": 2}
    assert papa_laptop.wait_for("unread.changed") == {
        "family_id": fid,
        "type": "unread.changed",
        "total": 1,
    }
    assert mama.wait_for("message.read")["seq"] == 2
    assert not any(name == "unread.changed" for name, _ in mama.events)


def test_without_the_script_a_person_marks_read_themselves(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    world = setup_world(app, make_user, make_family, add_member)
    fid, cid = world["family"].id, world["cid"]
    with app.app_context():
        mother, father = (
            db.session.scalar(select(User).where(User.email == email))
            for email in ("mama@example.org", "papa@example.org")
        )
        assert mother is not None and father is not None
        db.session.expunge_all()
        db.session.remove()
    mama = api_for(app, mother)
    for i in range(2):
        mama.post(
            f"/families/{fid}/conversations/{cid}/messages",
            {"client_key": f"zonder-js-{i:03d}", "body": f"Bericht {i}"},
        )
    client = app.test_client()
    sign_in(client, father)
    page = f"/families/{fid}/messages/{cid}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="mark-read"' in html and "<noscript>" in html
    response = post_form(client, page, {"action": "read", "seq": "2"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Participant, (cid, father.id))
        assert row is not None and row.last_read_seq == 2
        db.session.remove()
    assert 'data-testid="mark-read"' not in client.get(page).get_data(as_text=True)
