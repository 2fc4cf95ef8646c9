"""Live message delivery: the portal's /live namespace next to a bare Flask-SocketIO relay (the
floor), same machine, same async mode (threading), same client code.

A family room of N receivers; one sender sends at R messages/s for S seconds. The portal's path
includes the policy check, the insert with a sequence number, the commit and the audit row.
Receivers run in several processes (python-socketio clients) so they are not the bottleneck.
Prints delivered/expected, p50/p90/p99/max latency. Asserts nothing.

Run: .venv/bin/python bench/bench_messaging.py [receivers] [rate] [seconds]
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentiles  # noqa: E402
from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

PASSWORD = "bench password 123"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

FLOOR = """
import sys
from flask import Flask
from flask_socketio import SocketIO, join_room, emit
app = Flask(__name__)
io = SocketIO(app, async_mode="threading")
@io.on("join", namespace="/live")
def join(data):
    join_room("room", namespace="/live")
    return {"ok": True}
@io.on("message.send", namespace="/live")
def send(data):
    emit("message.new", data, to="room", namespace="/live")
    return {"ok": True}
io.run(app, host="127.0.0.1", port=int(sys.argv[1]), allow_unsafe_werkzeug=True, log_output=False)
"""


def receiver(base: str, cookies: list[dict[str, str]], subscribe: dict, ready, results) -> None:
    """One process, several clients; records (receive time - send time) per delivery."""
    clients = []
    latencies: list[float] = []
    for cookie in cookies:
        client = socketio.Client(reconnection=False)

        def on_new(data, latencies=latencies):
            try:
                sent = float(json.loads(data["body"])["t"])
            except (KeyError, ValueError, TypeError):
                return
            latencies.append((time.time() - sent) * 1000)

        client.on("message.new", on_new, namespace="/live")
        header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookie.items())} if cookie else {}
        client.connect(base, headers=header, namespaces=["/live"], transports=["websocket"])
        event, payload = next(iter(subscribe.items()))
        client.call(event, payload, namespace="/live", timeout=10)
        clients.append(client)
    ready.put(len(clients))
    signal.signal(signal.SIGTERM, lambda *a: None)
    time.sleep(float(os.environ.get("BENCH_LISTEN", "10")))
    results.put(latencies)
    for client in clients:
        client.disconnect()


def sign_in(base: str, email: str) -> dict[str, str]:
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{base}/signin", timeout=10).text)
    assert token
    browser.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        timeout=10,
    )
    return requests.utils.dict_from_cookiejar(browser.cookies)


def run(
    name: str,
    base: str,
    cookies: list[dict[str, str]],
    sender_cookie: dict[str, str],
    subscribe: dict,
    send_event: dict,
    rate: float,
    seconds: float,
) -> None:
    procs = 4
    chunks = [cookies[i::procs] for i in range(procs)]
    ready: mp.Queue = mp.Queue()
    results: mp.Queue = mp.Queue()
    os.environ["BENCH_LISTEN"] = str(seconds + 4)
    workers = [
        mp.Process(target=receiver, args=(base, chunk, subscribe, ready, results))
        for chunk in chunks
        if chunk
    ]
    for worker in workers:
        worker.start()
    connected = sum(ready.get(timeout=60) for _ in workers)
    sender = socketio.Client(reconnection=False)
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in sender_cookie.items())}
    sender.connect(
        base,
        headers=header if sender_cookie else {},
        namespaces=["/live"],
        transports=["websocket"],
    )
    event, payload = next(iter(subscribe.items()))
    sender.call(event, payload, namespace="/live", timeout=10)
    total = int(rate * seconds)
    start = time.time()
    for i in range(total):
        target = start + i / rate
        delay = target - time.time()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"t": time.time(), "i": i})
        sender.emit(
            "message.send",
            {**send_event, "client_key": f"bench-{i:08d}", "body": body},
            namespace="/live",
        )
    time.sleep(3)
    sender.disconnect()
    latencies: list[float] = []
    for _ in workers:
        latencies.extend(results.get(timeout=60))
    for worker in workers:
        worker.join(timeout=10)
    expected = total * connected
    p = percentiles(latencies) if latencies else {"p50": 0, "p90": 0, "p99": 0, "max": 0}
    print(
        f"{name:>8}: {connected} receivers, {rate:.0f} msg/s for {seconds:.0f} s -> "
        f"delivered {len(latencies)}/{expected}, latency p50 {p['p50']:.1f} ms, "
        f"p90 {p['p90']:.1f} ms, p99 {p['p99']:.1f} ms, max {p['max']:.1f} ms",
        flush=True,
    )


def main() -> None:
    receivers = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 100
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5
    folder = tempfile.mkdtemp(prefix="portal-bench-live-")

    port = free_port()
    floor = subprocess.Popen(
        [sys.executable, "-c", FLOOR, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port), "floor relay")
        base = f"http://127.0.0.1:{port}"
        run("floor", base, [{}] * receivers, {}, {"join": {}}, {}, rate, seconds)
    finally:
        floor.terminate()
        floor.wait()

    database = f"sqlite:///{folder}/bench.db"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database,
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456",
        "PORTAL_MAIL_BACKEND": "outbox",
        "PORTAL_OUTBOX_DIR": folder,
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "8192",
        "PORTAL_MESSAGE_BURST": "1000000",
        "PORTAL_MESSAGE_PER_MINUTE": "60000000",
    }
    port = free_port()
    env["PORTAL_BASE_URL"] = f"http://127.0.0.1:{port}"
    subprocess.run(
        [sys.executable, "-c", SEED, database, str(receivers)], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "portal", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port), "portal")
        base = f"http://127.0.0.1:{port}"
        cookies = [sign_in(base, f"lid{i}@bench.example") for i in range(receivers)]
        sender = sign_in(base, "zender@bench.example")
        run(
            "portal",
            base,
            cookies,
            sender,
            {"subscribe": {"family_id": 1}},
            {"conversation_id": 1},
            rate,
            seconds,
        )
    finally:
        server.terminate()
        server.wait()


SEED = """
import sys
from config import Settings
from portal import create_app, db
from portal.migrate import upgrade
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.family.models import Family, Member
from portal.messaging.models import Conversation, Participant
url, n = sys.argv[1], int(sys.argv[2])
upgrade(url)
app = create_app()
with app.app_context():
    secret = passwords.hash_password("bench password 123")
    sender = User(email="zender@bench.example", display_name="Zender", password_hash=secret,
                  email_verified_at=clock.now())
    db.session.add(sender); db.session.flush()
    family = Family(name="Gezin Bench", created_by_id=sender.id); db.session.add(family)
    db.session.flush()
    db.session.add(Member(family_id=family.id, user_id=sender.id, role="parent",
                          display_name="Zender", has_authority=True, joined_at=clock.now()))
    conv = Conversation(family_id=family.id, topic="Bench", created_by_id=sender.id)
    db.session.add(conv); db.session.flush()
    db.session.add(Participant(conversation_id=conv.id, user_id=sender.id))
    for i in range(n):
        u = User(email=f"lid{i}@bench.example", display_name=f"Lid {i}", password_hash=secret,
                 email_verified_at=clock.now())
        db.session.add(u); db.session.flush()
        db.session.add(Member(family_id=family.id, user_id=u.id, role="network",
                              display_name=f"Lid {i}", joined_at=clock.now()))
        db.session.add(Participant(conversation_id=conv.id, user_id=u.id))
    db.session.commit()
"""


if __name__ == "__main__":
    main()
