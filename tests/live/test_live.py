"""The /live Socket.IO namespace, with a real python-socketio client against a real server:
authenticated connect, Origin allow-list, policy-checked subscriptions, events only for granted
parts, and revocation, expiry and sign-out ending the connection within one second."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import requests
import socketio
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access.models import AuditEvent, Grant, GrantPart
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import Family
from portal.live import sweep
from tests.conftest import LiveServer
from tests.helpers import PASSWORD

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def http_sign_in(base: str, email: str, totp: bool = False) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/signin", timeout=5).text
    token = CSRF.search(page)
    assert token
    response = browser.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        timeout=5,
    )
    if totp:
        clock.advance(timedelta(seconds=30))
        token = CSRF.search(response.text)
        assert token
        response = browser.post(
            f"{base}/signin/code",
            data={"csrf_token": token.group(1), "code": pyotp.TOTP(SECRET).at(clock.now())},
            timeout=5,
        )
    assert response.status_code == 200 and "Uitloggen" in response.text, response.text[:300]
    return browser


def post_page_form(browser: requests.Session, base: str, path: str, data: dict[str, str]) -> Any:
    page = browser.get(f"{base}{path}", timeout=5).text
    token = CSRF.search(page)
    assert token
    fields = dict(re.findall(r'name="(version)" type="hidden" value="([^"]*)"', page))
    return browser.post(
        f"{base}{path}", data={"csrf_token": token.group(1), **fields, **data}, timeout=5
    )


def refused_with(answer: Any) -> str:
    """The code of a refused client event; the answer has the contract's shape
    (`{ok: false, error: {code, message}}`) and a message to show."""
    assert answer["ok"] is False, answer
    error = answer["error"]
    assert isinstance(error["message"], str) and error["message"], answer
    code: str = error["code"]
    return code


class Listener:
    """A socket.io client that records every event it receives."""

    def __init__(self, base: str, browser: requests.Session | None, origin: str | None = None):
        self.client = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.disconnected = threading.Event()
        self.client.on("*", self._any, namespace="/live")
        self.client.on("disconnect", lambda *a: self.disconnected.set(), namespace="/live")
        headers: dict[str, str] = {}
        transports = ["websocket"]
        if origin is not None:
            # websocket-client sends the page's own Origin itself; a foreign one is tested over
            # long-polling, where ours is the only Origin header.
            headers["Origin"] = origin
            transports = ["polling"]
        if browser is not None:
            headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        self.client.connect(
            base, headers=headers, namespaces=["/live"], transports=transports, wait_timeout=5
        )

    def _any(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))

    def subscribe(self, family_id: Any) -> Any:
        return self.client.call("subscribe", {"family_id": family_id}, namespace="/live", timeout=5)

    def wait_for(self, event: str, timeout: float = 2.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, data in self.events:
                if name == event:
                    return data
            time.sleep(0.02)
        raise AssertionError(f"no {event} within {timeout}s; got {self.events}")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.close()


@pytest.fixture
def family_with_guest(
    app: Flask, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> dict[str, Any]:
    parent = make_user(email="anna@example.org")
    coach = make_user(
        email="coach@cjg.example",
        kind=KIND_PROFESSIONAL,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )
    family = make_family(parent)
    other = make_family(make_user(), name="Ander gezin")
    now = clock.now()
    with app.app_context():
        grant = Grant(
            family_id=family.id,
            grantee_id=coach.id,
            origin="invitation",
            purpose="Meekijken",
            valid_from=now - timedelta(days=1),
            expires_at=now + timedelta(days=30),
            accepted_at=now,
            approved_at=now,
            parts=[GrantPart(part="plan", level="read")],
        )
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
        db.session.remove()
    return {
        "parent": parent,
        "coach": coach,
        "family": family,
        "other": other,
        "grant_id": grant_id,
    }


def test_connect_needs_a_login_and_an_allowed_origin(
    live_server: LiveServer, family_with_guest: dict[str, Any]
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(live_server.url, None)
    browser = http_sign_in(live_server.url, "anna@example.org")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(live_server.url, browser, origin="https://evil.example")
    Listener(live_server.url, browser, origin=live_server.url).close()  # polling, allowed origin
    Listener(live_server.url, browser).close()  # websocket


def test_subscribe_is_a_policy_decision(
    app: Flask,
    live_server: LiveServer,
    family_with_guest: dict[str, Any],
    listeners: list[Listener],
) -> None:
    world = family_with_guest
    parent = Listener(live_server.url, http_sign_in(live_server.url, "anna@example.org"))
    listeners.append(parent)
    assert refused_with(parent.subscribe(world["other"].id)) == "not_found"
    assert refused_with(parent.subscribe("1; drop table")) == "bad_request"
    mine = parent.subscribe(world["family"].id)
    assert mine == {
        "ok": True,
        "family_id": world["family"].id,
        "parts": ["dossier", "messages", "plan"],
    }
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "live.subscribe").order_by(AuditEvent.id)
        ).all()
        assert [(r.family_id, r.outcome) for r in rows] == [
            (world["other"].id, "denied"),
            (world["family"].id, "allowed"),
        ]
        db.session.remove()


def test_guest_gets_only_granted_parts_and_is_cut_off_at_revocation(
    app: Flask,
    live_server: LiveServer,
    family_with_guest: dict[str, Any],
    listeners: list[Listener],
) -> None:
    world = family_with_guest
    fid = world["family"].id
    base = live_server.url
    parent_browser = http_sign_in(base, "anna@example.org")
    parent = Listener(base, parent_browser)
    guest = Listener(base, http_sign_in(base, "coach@cjg.example", totp=True))
    listeners.extend([parent, guest])
    assert parent.subscribe(fid)["ok"]
    assert guest.subscribe(fid) == {"ok": True, "family_id": fid, "parts": ["plan"]}

    post_page_form(parent_browser, base, f"/families/{fid}/plan/edit", {"tomorrow": "Rust"})
    assert guest.wait_for("plan.changed")["family_id"] == fid
    post_page_form(
        parent_browser,
        base,
        f"/families/{fid}/dossier/new",
        {"title": "Geheim", "body": "Alleen voor ons"},
    )
    assert parent.wait_for("dossier.changed")["title"] == "Geheim"
    time.sleep(0.3)
    assert "dossier.changed" not in [name for name, _ in guest.events]

    with app.app_context():
        grant = db.session.get(Grant, world["grant_id"])
        assert grant is not None
        version = grant.version
        db.session.remove()
    page = f"/families/{fid}/access/{world['grant_id']}/revoke"
    started = time.monotonic()
    response = post_page_form(parent_browser, base, page, {"version": str(version)})
    assert response.status_code == 200
    assert guest.disconnected.wait(1.0), "guest socket still open 1 s after revocation"
    assert time.monotonic() - started < 1.5
    assert guest.wait_for("access.revoked", 0.5)["family_id"] == fid
    before = len(guest.events)
    parent.events.clear()
    post_page_form(parent_browser, base, f"/families/{fid}/plan/edit", {"tomorrow": "Later"})
    parent.wait_for("plan.changed")
    assert len(guest.events) == before


def test_expiry_ends_the_subscription_by_the_clock(
    app: Flask,
    live_server: LiveServer,
    family_with_guest: dict[str, Any],
    listeners: list[Listener],
) -> None:
    fid = family_with_guest["family"].id
    guest = Listener(live_server.url, http_sign_in(live_server.url, "coach@cjg.example", totp=True))
    listeners.append(guest)
    assert guest.subscribe(fid)["ok"]
    with app.app_context():
        grant = db.session.get(Grant, family_with_guest["grant_id"])
        assert grant is not None
        grant.expires_at = clock.now() + timedelta(hours=1)
        db.session.commit()
        db.session.remove()
    clock.advance(timedelta(hours=2))  # past the grant's end; no request, no event: the clock
    # The grant's end moved without news (a direct change): the safety sweep finds it.
    assert guest.disconnected.wait(3 * sweep.RECHECK_EVERY * sweep.SWEEP_SECONDS), "still connected"
    assert guest.wait_for("access.revoked", 0.5)["reason"] == "access_ended"


def test_signing_out_in_another_tab_closes_the_socket(
    live_server: LiveServer, family_with_guest: dict[str, Any], listeners: list[Listener]
) -> None:
    base = live_server.url
    browser = http_sign_in(base, "anna@example.org")
    tab = Listener(base, browser)
    listeners.append(tab)
    assert tab.subscribe(family_with_guest["family"].id)["ok"]
    page = browser.get(f"{base}/families", timeout=5).text
    token = CSRF.search(page)
    assert token
    browser.post(f"{base}/signout", data={"csrf_token": token.group(1)}, timeout=5)
    assert tab.disconnected.wait(1.0), "socket survived sign-out"


def test_flower_safety_and_evaluations_reach_a_guest_with_the_plan_part(
    live_server: LiveServer, family_with_guest: dict[str, Any], listeners: list[Listener]
) -> None:
    """plan.changed after commit, with the part that changed, for de bloem, veiligheid and
    evaluatie, so another person's screen can update."""
    fid = family_with_guest["family"].id
    base = live_server.url
    parent_browser = http_sign_in(base, "anna@example.org")
    guest = Listener(base, http_sign_in(base, "coach@cjg.example", totp=True))
    listeners.append(guest)
    assert guest.subscribe(fid)["ok"]
    plan = f"/families/{fid}/plan"
    page = parent_browser.get(f"{base}{plan}", timeout=5).text
    token = CSRF.search(page)
    assert token
    parent_browser.post(
        f"{base}{plan}/network", data={"csrf_token": token.group(1), "name": "Oma"}, timeout=5
    )
    assert guest.wait_for("plan.changed")["part"] == "network"
    guest.events.clear()
    post_page_form(parent_browser, base, f"{plan}/safety/edit", {"signals": "Boos"})
    assert guest.wait_for("plan.changed")["part"] == "safety"
    guest.events.clear()
    parent_browser.post(
        f"{base}{plan}/evaluations",
        data={"csrf_token": token.group(1), "title": "Evaluatie", "held_on": "2027-03-01"},
        timeout=5,
    )
    assert guest.wait_for("plan.changed")["part"] == "evaluation"


@pytest.mark.parametrize("error", [KeyError("sid"), ValueError("sid is not connected")])
def test_a_socket_gone_while_its_subscribe_is_decided_is_answered_not_crashed(
    live_server: LiveServer,
    family_with_guest: dict[str, Any],
    listeners: list[Listener],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    """A page that is left or reloaded right after subscribing: by the time the policy has said
    yes, python-socketio no longer knows the socket. The server answers and keeps serving."""
    import portal.live.namespace as namespace

    def gone(_room: str) -> None:
        raise error

    world = family_with_guest
    parent = Listener(live_server.url, http_sign_in(live_server.url, "anna@example.org"))
    listeners.append(parent)
    monkeypatch.setattr(namespace, "join_room", gone)
    assert refused_with(parent.subscribe(world["family"].id)) == "gone"
    monkeypatch.undo()
    assert parent.subscribe(world["family"].id)["ok"] is True
