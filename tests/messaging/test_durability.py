"""Durability: the server process is killed with SIGKILL in the middle of a stream of messages
from several clients; after a restart every acknowledged message is there exactly once, and the
clients' resends of what was in flight land once too (idempotency keys)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.auth.models import User
from portal.family.models import ROLE_PARENT, Family, Member
from portal.messaging.models import Conversation, Message, Participant
from tests.helpers import PASSWORD
from tests.support.servers import free_port, port_open, wait_until

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 4
TOTAL = 1000
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Server:
    def __init__(self, database_url: str, port: int, folder: str) -> None:
        self.port = port
        self.env = {
            **os.environ,
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_ENVIRONMENT": "test",
            "PORTAL_SECRET_KEY": "durability-secret-key-that-is-long-enough-0123",
            "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
            "PORTAL_MAIL_BACKEND": "outbox",
            "PORTAL_OUTBOX_DIR": folder,
            "PORTAL_ARGON2_TIME_COST": "1",
            "PORTAL_ARGON2_MEMORY_KIB": "8192",
            "PORTAL_MESSAGE_BURST": "100000",
            "PORTAL_MESSAGE_PER_MINUTE": "6000000",
        }
        self.log = Path(folder) / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portal", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: port_open(self.port), "portal server", self.log)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def sign_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{base}/signin", timeout=5).text)
    assert token
    browser.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        timeout=5,
    )
    browser.headers["X-CSRFToken"] = browser.get(f"{base}/api/v1/session", timeout=5).json()[
        "csrf_token"
    ]
    return browser


def test_sigkill_mid_stream_loses_no_acknowledged_message(
    app: Flask,
    database_url: str,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    users = [make_user(email=f"ouder{i}@example.org") for i in range(CLIENTS)]
    family = make_family(users[0])
    for user in users[1:]:
        add_member(family, user, ROLE_PARENT)
    with app.app_context():
        conversation = Conversation(family_id=family.id, topic="Stroom", created_by_id=users[0].id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=u.id) for u in users
        )
        db.session.commit()
        cid = conversation.id
        db.session.remove()

    folder = tempfile.mkdtemp(prefix="portal-durability-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Server(database_url, port, folder)
    server.start()
    try:
        acked: dict[str, int] = {}
        lock = threading.Lock()
        killed = threading.Event()
        url = f"{base}/api/v1/families/{family.id}/conversations/{cid}/messages"

        def stream(index: int, keys: list[str], browser: requests.Session) -> list[str]:
            """Send keys in order until the server dies; return what was never acknowledged."""
            for position, key in enumerate(keys):
                try:
                    response = browser.post(url, json={"client_key": key, "body": key}, timeout=5)
                except requests.RequestException:
                    return keys[position:]
                if response.status_code in (200, 201):
                    with lock:
                        acked[key] = response.json()["seq"]
                        if len(acked) >= TOTAL // 3 and not killed.is_set():
                            killed.set()
                            server.kill()
                else:
                    return keys[position:]
            return []

        per_client = TOTAL // CLIENTS
        keys = [[f"c{i}-m{n:05d}" for n in range(per_client)] for i in range(CLIENTS)]
        browsers = [sign_in(base, f"ouder{i}@example.org") for i in range(CLIENTS)]
        leftovers: list[list[str]] = [[] for _ in range(CLIENTS)]

        def run(i: int) -> None:
            leftovers[i] = stream(i, keys[i], browsers[i])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert killed.is_set(), "the server was never killed"
        acked_before_kill = dict(acked)
        assert len(acked_before_kill) >= TOTAL // 3

        server.start()  # same database, fresh process
        browsers = [sign_in(base, f"ouder{i}@example.org") for i in range(CLIENTS)]
        # Clients resend everything not acknowledged, in-flight ones included: exactly once.
        for i in range(CLIENTS):
            assert stream(i, leftovers[i], browsers[i]) == []
    finally:
        server.stop()

    with app.app_context():
        rows = db.session.execute(
            select(Message.client_key, func.count(), func.min(Message.seq))
            .where(Message.conversation_id == cid)
            .group_by(Message.client_key)
        ).all()
        seqs = sorted(db.session.scalars(select(Message.seq).where(Message.conversation_id == cid)))
        db.session.remove()
    stored = {key: (count, seq) for key, count, seq in rows}
    for key, seq in acked_before_kill.items():
        assert stored.get(key) == (1, seq), key  # present, once, with the acknowledged number
    assert len(stored) == TOTAL and all(count == 1 for count, _ in stored.values())
    assert seqs == list(range(1, TOTAL + 1))  # no gaps, no doubles
