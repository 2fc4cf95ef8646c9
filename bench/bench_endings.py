"""Revocation to disconnect across two instances: how long a guest's socket on instance one
stays open after the family revokes the grant through instance two.

Two gevent instances (`python -m portal`) share the database and a Redis (message queue and
the channel on which endings are published after commit). Each run gives the guest a fresh
grant, opens the guest's socket on instance one, and times from the moment the revoke page is
posted on instance two to the moment the guest's client sees the disconnect; also from the
moment that page answered (negative: closed before the answer came back). Prints p50 and max
(ms). Asserts nothing; bounded in count.

Run: python bench/bench_endings.py [--runs 20] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_app  # noqa: E402
from portal import db  # noqa: E402
from portal.access.models import Grant, GrantPart  # noqa: E402
from portal.auth import passwords  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.core import clock  # noqa: E402
from portal.family.models import Family, Member  # noqa: E402
from tests.live.process import portal_server  # noqa: E402
from tests.support.servers import RedisServer  # noqa: E402

PASSWORD = "bench password 123"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def http_sign_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{base}/signin", timeout=30).text)
    assert token
    response = browser.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        timeout=30,
    )
    if "Uitloggen" not in response.text:
        raise RuntimeError(f"sign-in failed for {email}")
    return browser


class Guest:
    """The guest's socket on an instance: subscribed, and told when it is closed."""

    def __init__(self, base: str, browser: requests.Session) -> None:
        self.client = socketio.Client(reconnection=False)
        self.disconnected = threading.Event()
        self.client.on("disconnect", lambda *a: self.disconnected.set(), namespace="/live")
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        self.client.connect(
            base,
            headers={"Cookie": cookie},
            namespaces=["/live"],
            transports=["websocket"],
            wait_timeout=10,
        )

    def subscribe(self, family_id: int) -> Any:
        data = {"family_id": family_id}
        return self.client.call("subscribe", data, namespace="/live", timeout=10)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def seed(url: str) -> tuple[int, int]:
    """A parent and a guest (no grant yet); returns (family id, guest id)."""
    app = bench_app(url)
    with app.app_context():
        secret = passwords.hash_password(PASSWORD)
        parent = User(
            email="mama@bench.example",
            display_name="Mama",
            password_hash=secret,
            email_verified_at=clock.now(),
        )
        guest = User(
            email="oma@bench.example",
            display_name="Oma",
            password_hash=secret,
            email_verified_at=clock.now(),
        )
        db.session.add_all([parent, guest])
        db.session.flush()
        family = Family(name="Gezin Bench", created_by_id=parent.id)
        db.session.add(family)
        db.session.flush()
        db.session.add(
            Member(
                family_id=family.id,
                user_id=parent.id,
                role="parent",
                display_name="Mama",
                has_authority=True,
                joined_at=clock.now(),
            )
        )
        db.session.commit()
        ids = (family.id, guest.id)
        db.session.remove()
    return ids


def new_grant(url: str, family_id: int, guest_id: int) -> int:
    app = bench_app(url)
    now = clock.now()
    with app.app_context():
        grant = Grant(
            family_id=family_id,
            grantee_id=guest_id,
            origin="invitation",
            purpose="Meedenken",
            valid_from=now - timedelta(days=1),
            expires_at=now + timedelta(days=30),
            accepted_at=now,
            approved_at=now,
            parts=[GrantPart(part="messages", level="read"), GrantPart(part="plan", level="read")],
        )
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
        db.session.remove()
    return grant_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    from_post: list[float] = []
    from_answer: list[float] = []
    with ExitStack() as stack:
        if args.database == "postgresql":
            from tests.support.servers import PostgresServer

            url = stack.enter_context(PostgresServer()).url
        else:
            url = f"sqlite:///{tempfile.mkdtemp(prefix='portal-bench-endings-')}/bench.db"
        family_id, guest_id = seed(url)
        redis = stack.enter_context(RedisServer())
        one = stack.enter_context(portal_server(url, redis_url=redis.url)).base
        two = stack.enter_context(portal_server(url, redis_url=redis.url)).base
        parent = http_sign_in(two, "mama@bench.example")
        guest_browser = http_sign_in(one, "oma@bench.example")
        for _ in range(args.runs):
            grant_id = new_grant(url, family_id, guest_id)
            guest = Guest(one, guest_browser)
            try:
                assert guest.subscribe(family_id)["ok"]
                page = f"{two}/families/{family_id}/access/{grant_id}/revoke"
                form = parent.get(page, timeout=10).text  # fetched before the clock starts
                token = CSRF.search(form)
                version = re.search(r'name="version" type="hidden" value="([^"]*)"', form)
                assert token and version
                posted = time.perf_counter()
                answer = parent.post(
                    page,
                    data={"csrf_token": token.group(1), "version": version.group(1)},
                    timeout=30,
                )
                answered = time.perf_counter()
                if answer.status_code != 200 or not guest.disconnected.wait(30):
                    print(f"run failed: status {answer.status_code}", flush=True)
                    continue
                closed = time.perf_counter()
                from_post.append((closed - posted) * 1000)
                from_answer.append((closed - answered) * 1000)
            finally:
                guest.close()
    if from_post:
        print(
            f"revocation -> disconnect, two instances + Redis ({args.database}), from the revoke "
            f"POST: p50 {statistics.median(from_post):.0f} ms, max {max(from_post):.0f} ms "
            f"(n={len(from_post)})",
            flush=True,
        )
        before = sum(1 for value in from_answer if value <= 0)
        print(
            f"  closed before the revoke page answered: {before} of {len(from_answer)}; "
            f"latest close after the answer: {max(max(from_answer), 0):.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
