"""Where a sent message's CPU goes, in-process: the scenarios of bench/bench_messaging.py
(a family conversation of 50 readers, or 100 families' conversations of 5), every reader with a
subscribed socket, the writers sending over the /live namespace through Flask-SocketIO's test
client, so each message runs the real handler: the context query, the policy, the insert, the
audit row, the commit, its readers decided and the emit. The sockets' writes are counted
instead of sent: what is left is the portal's own work per message, which the relay in
bench_messaging.py does not do. The portal has as many other sign-ins as in that benchmark.

Prints the CPU per message (process_time; per block of 100 too, as this machine's speed
drifts), the statements per message, one pass of the live sweep, and with --profile the
heaviest functions (cProfile, which adds its own cost per call).

Run: .venv/bin/python bench/profile_messaging.py [--scenario family-50|rooms-100x5]
     [--messages 1000] [--database sqlite|postgresql] [--sign-ins 800] [--profile]
Not part of `make bench`: a tool for looking.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_messaging import PASSWORD, SEED  # noqa: E402
from bench.common import count_queries  # noqa: E402

ENV = {
    "PORTAL_ENVIRONMENT": "test",
    "PORTAL_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456",
    "PORTAL_BASE_URL": "http://127.0.0.1:5000",
    "PORTAL_MAIL_BACKEND": "outbox",
    "PORTAL_ARGON2_TIME_COST": "1",
    "PORTAL_ARGON2_MEMORY_KIB": "8192",
    "PORTAL_MESSAGE_BURST": "1000000",
    "PORTAL_MESSAGE_PER_MINUTE": "60000000",
}


def sign_in(client: Any, email: str) -> None:
    page = client.get("/signin").get_data(as_text=True)
    marker = page.index('name="csrf_token"')
    token = page[page.index('value="', marker) + 7 :]
    token = token[: token.index('"')]
    answer = client.post(
        "/signin", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    if answer.status_code != 302:  # signed in: on to the start page
        raise RuntimeError(f"sign-in failed for {email}: {answer.status_code}")


def sweep_pass(app: Any, passes: int = 5) -> None:
    """The live layer's safety sweep over every subscribed socket, in its batches (the gevent
    hub serves nothing else during a batch); the best of a few passes."""
    from portal import db
    from portal.live import sweep
    from portal.live.registry import registry

    connections = registry.snapshot()
    best: list[float] = []
    with app.app_context(), db.reading():
        for _ in range(passes):
            batches = []
            for start in range(0, len(connections), sweep.BATCH):
                begun = time.perf_counter()
                sweep._sweep_batch(connections[start : start + sweep.BATCH])
                db.session.rollback()
                batches.append((time.perf_counter() - begun) * 1000)
            if not best or sum(batches) < sum(best):
                best = batches
    print(
        f"sweep pass over {len(connections)} sockets (best of {passes}): {sum(best):.1f} ms in "
        f"{len(best)} batches (longest {max(best, default=0):.1f} ms)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--scenario", choices=("family-50", "rooms-100x5"), default="family-50")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--sign-ins",
        type=int,
        default=800,
        help="sign-ins of the portal in all (as in bench_messaging.py: every bench user once)",
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="portal-profile-live-")
    postgres = None
    if args.database == "postgresql":
        from tests.support.servers import PostgresServer

        postgres = PostgresServer(durable=True).start()
        url = postgres.url
    else:
        url = f"sqlite:///{folder}/bench.db"
    os.environ.update(ENV, PORTAL_DATABASE_URL=url, PORTAL_OUTBOX_DIR=folder)
    try:
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, url],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        ids = json.loads(seeded.stdout.strip().splitlines()[-1])
        run(url, ids, args)
    finally:
        if postgres is not None:
            postgres.stop()


def run(url: str, ids: dict[str, Any], args: argparse.Namespace) -> None:
    from config import Settings
    from portal import create_app
    from portal.extensions import socketio

    app = create_app(Settings.from_env(async_mode="threading"))
    # (family, conversation, writer, readers) per room, as bench_messaging.py's scenarios
    if args.scenario == "family-50":
        rooms = [
            (
                ids["big_family"],
                ids["family_50"],
                "zender@bench.example",
                [f"lid{i}@bench.example" for i in range(50)],
            )
        ]
    else:
        rooms = [
            (
                fid,
                cid,
                f"g{k}-zender@bench.example",
                [f"g{k}-lid{j}@bench.example" for j in range(5)],
            )
            for k, (fid, cid) in enumerate(ids["small"])
        ]
    writers = []
    signed_in = set()
    for family, conversation, writer, readers in rooms:
        for email in [writer, *readers]:
            http = app.test_client()
            sign_in(http, email)
            signed_in.add(email)
            sock = socketio.test_client(app, namespace="/live", flask_test_client=http)
            reply = sock.emit("subscribe", {"family_id": family}, namespace="/live", callback=True)
            if not reply.get("ok"):
                raise RuntimeError(f"{email} could not subscribe: {reply}")
            if email == writer:
                writers.append((sock, conversation))
    # The portal's other sign-ins (the other scenarios' people), as the bench has them.
    everyone = ["zender@bench.example"] + [f"lid{i}@bench.example" for i in range(200)]
    everyone += [
        f"g{k}-{who}@bench.example"
        for k in range(100)
        for who in ["zender"] + [f"lid{j}" for j in range(5)]
    ]
    for email in [e for e in everyone if e not in signed_in][
        : max(args.sign_ins - len(signed_in), 0)
    ]:
        sign_in(app.test_client(), email)
    # The sockets' writes, counted per recipient instead of sent: the relay's part of the work.
    # The test client already stands in for the server's writes at this very hook (decoding
    # every packet again for its queue, which no real server does); this stands in for that.
    delivered: Counter[str] = Counter()

    def write(eio_sid: str, packet: Any) -> None:
        delivered[eio_sid] += 1

    socketio.server._send_eio_packet = write
    number = 0

    def send(count: int) -> None:
        nonlocal number
        for _ in range(count):
            sender, conversation = writers[number % len(writers)]
            number += 1
            ack = sender.emit(
                "message.send",
                {
                    "conversation_id": conversation,
                    "client_key": f"p{time.time_ns()}-{number:07d}",
                    "body": json.dumps({"t": time.time(), "i": number}),
                },
                namespace="/live",
                callback=True,
            )
            if not ack.get("ok"):
                raise RuntimeError(f"send refused: {ack}")

    send(50)  # warm up: caches of statements, the first connections
    sweep_pass(app)
    delivered.clear()
    with count_queries(app) as statements:
        send(10)
    blocks = []
    started = time.process_time()
    for _ in range(0, args.messages, 100):
        begun = time.process_time()
        send(100)
        blocks.append((time.process_time() - begun) * 10)
    args.messages = 100 * len(blocks)
    cpu = (time.process_time() - started) / args.messages * 1000
    print(
        "ms per message, by 100:",
        " ".join(f"{b:.1f}" for b in blocks),
        f"(best {min(blocks):.2f}, median {statistics.median(blocks):.2f})",
    )
    print(
        f"{args.database}, {args.scenario}: {args.messages} messages (the writer reads too): "
        f"{cpu:.2f} ms CPU per message; {len(statements) / 10:.1f} statements per message; "
        f"deliveries per message {sum(delivered.values()) / (args.messages + 10):.1f}; "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        send(args.messages)
        profile.disable()
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
