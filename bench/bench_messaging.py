"""Live message delivery: the portal's /live namespace next to a bare Flask-SocketIO relay (the
floor), measured in the same run, on the same machine, in the same async mode, with the same
client code.

Scenarios (issue "Real-time messaging", acceptance point 8):
  family-50   one family room of 50 receivers, 100 messages/s
  room-200    one room of 200 receivers, 50 messages/s (10k deliveries/s)
  rooms-100x5 100 family rooms of 5 receivers (500 clients), 100 messages/s in total
  connect-200 200 authenticated connect + subscribe sequences, all at once

The portal's path per message includes the policy check, the insert with a sequence number, the
audit row and the commit before the emit. Receivers are a minimal asyncio Engine.IO client
(bench/eio.py) spread over several processes, so they are not the bottleneck. Prints the async
mode, the database, delivered/expected and p50/p90/p99/max latency (send to receive, ms), and
for the connect storm the total seconds. Asserts nothing; every run is bounded in time and
count; only 127.0.0.1.

Both servers run side by side; each scenario runs on the floor and on the portal back to back,
for --rounds rounds (order swapped each round); the summary takes the median of the rounds.

Run: python bench/bench_messaging.py [--mode gevent|threading] [--database sqlite|postgresql]
                                     [--seconds 5] [--rounds 3] [--instances 1]
                                     [--only family-50,room-200,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import eio  # noqa: E402
from bench.common import percentiles  # noqa: E402
from tests.support.servers import free_port, log_tail, port_open, wait_until  # noqa: E402

PASSWORD = "bench password 123"
HOST = "127.0.0.1"
RECEIVER_PROCESSES = 4
SCENARIOS = ("family-50", "room-200", "rooms-100x5", "connect-200")
BIG, SMALL_FAMILIES, SMALL = 200, 100, 5
# family-50: who writes, taking turns. One, as in earlier runs (the room: 50 receivers and the
# writer); more writers cost the one process the same, and spread the sends over --instances.
FAMILY_WRITERS = 1

FLOOR = """
import sys
mode = sys.argv[2]
if mode == "gevent":
    from gevent import monkey
    monkey.patch_all()
from flask import Flask
from flask_socketio import SocketIO, join_room, emit
app = Flask(__name__)
io = SocketIO(app, async_mode=mode, max_http_buffer_size=64 * 1024)
@io.on("join", namespace="/live")
def join(data):
    join_room(data["room"], namespace="/live")
    return {"ok": True}
@io.on("message.send", namespace="/live")
def send(data):
    emit("message.new", data, to=data["room"], namespace="/live")
    return {"ok": True}
extra = {"allow_unsafe_werkzeug": True} if mode == "threading" else {}
if mode == "gevent":  # as the portal's server (portal/live/server.py): writes go out at once
    import socket
    from gevent import pywsgi
    class NoDelay(pywsgi.WSGIHandler):
        def handle(self):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()
    extra = {"handler_class": NoDelay}
io.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False, **extra)
"""


@dataclass
class Room:
    receivers: list[str]  # cookie headers ("" for the floor)
    senders: list[str]  # who writes, in turn (a family room has several writers)
    subscribe: tuple[str, dict[str, Any]]  # the event that puts a socket in the room
    send: dict[str, Any]  # what message.send carries besides client_key and body


@dataclass
class Target:
    name: str  # "floor" or "portal"
    ports: list[int]  # one per instance; the first is the public address (the Origin)
    pids: list[int] = field(default_factory=list)  # the instances (and Redis, when used)
    rooms: dict[str, list[Room]] = field(default_factory=dict)  # scenario -> rooms
    storm: list[tuple[str, tuple[str, dict[str, Any]]]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.ports[0]}"

    def port(self, index: int) -> int:
        """The instance connection number `index` goes to: round robin, and a connection stays
        on its instance (what nginx's sticky sessions do in front of several instances)."""
        return self.ports[index % len(self.ports)]


# --- receivers (separate processes) ------------------------------------------------------------


def receiver_process(origin: str, members: list, ready, stop, results) -> None:
    asyncio.run(_receive(origin, members, ready, stop, results))


async def _receive(origin: str, members: list, ready, stop, results) -> None:
    latencies: list[float] = []
    seen: set[tuple[int, int]] = set()
    duplicates = 0

    def handler(index: int):
        prefix = len("42/live,")

        def on_event(text: str) -> None:
            nonlocal duplicates
            now = time.time()
            try:
                name, data = json.loads(text[prefix:])
                if name != "message.new":
                    return
                body = json.loads(data["body"])
            except (ValueError, KeyError, TypeError):
                return
            key = (index, body["i"])
            if key in seen:
                duplicates += 1
                return
            seen.add(key)
            latencies.append((now - body["t"]) * 1000)

        return on_event

    limit = asyncio.Semaphore(25)

    async def join(
        index: int, port: int, cookie: str, subscribe: tuple[str, dict]
    ) -> eio.Connection | None:
        async with limit:
            try:
                conn = await eio.connect(HOST, port, cookie, origin)
                conn.on_event = handler(index)
                reply = await conn.call(subscribe[0], subscribe[1])
                return conn if reply.get("ok") else None
            except (TimeoutError, OSError, eio.ProtocolError):
                return None

    conns = await asyncio.gather(*(join(i, p, c, s) for i, (p, c, s) in enumerate(members)))
    ready.put(sum(1 for c in conns if c is not None))
    deadline = time.monotonic() + 180  # bounded even if the parent never says stop
    while not stop.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    results.put((latencies, duplicates))
    await asyncio.gather(*(c.close() for c in conns if c is not None), return_exceptions=True)


# --- one scenario ------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    target: str
    line: str
    p: dict[str, float]
    delivered: int = 0
    expected: int = 0
    seconds: float = 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes so far (Linux /proc), 0 for one unknown."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def run_messages(target: Target, scenario: str, rate: float, seconds: float) -> Result:
    rooms = target.rooms[scenario]
    members = [
        (target.port(i), cookie, subscribe)
        for i, (cookie, subscribe) in enumerate(
            (cookie, room.subscribe) for room in rooms for cookie in room.receivers
        )
    ]
    chunks = [members[i::RECEIVER_PROCESSES] for i in range(RECEIVER_PROCESSES)]
    ctx = mp.get_context("fork")
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    workers = [
        ctx.Process(target=receiver_process, args=(target.origin, chunk, ready, stop, results))
        for chunk in chunks
        if chunk
    ]
    for worker in workers:
        worker.start()
    before = load()
    try:
        connected = sum(ready.get(timeout=120) for _ in workers)
        spy = profile(target, scenario, seconds)
        acks = asyncio.run(_send(target, rooms, rate, seconds))
        cpu = acks["cpu"]
        if spy is not None:
            spy.wait(timeout=60)
        time.sleep(2)  # let the last deliveries drain
    finally:
        stop.set()
    latencies: list[float] = []
    duplicates = 0
    for _ in workers:
        got, dup = results.get(timeout=60)
        latencies.extend(got)
        duplicates += dup
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
    total = int(rate * seconds)
    per_room = [len(room.receivers) for room in rooms]
    expected = sum(per_room[i % len(rooms)] for i in range(total))
    p = percentiles(latencies) if latencies else {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    ack_p = percentiles(acks["times"]) if acks["times"] else {"p50": 0, "p99": 0}
    line = (
        f"{scenario:<12} {target.name:<7} {connected} receivers in {len(rooms)} room(s), "
        f"{rate:.0f} msg/s for {seconds:.0f} s: delivered {len(latencies)}/{expected}"
        f"{f' (+{duplicates} twice)' if duplicates else ''}, "
        f"p50 {p['p50']:.1f} ms, p90 {p['p90']:.1f} ms, p99 {p['p99']:.1f} ms, "
        f"max {p['max']:.1f} ms; acks {acks['ok']}/{total} (p50 {ack_p['p50']:.1f} ms, "
        f"p99 {ack_p['p99']:.1f} ms); server CPU {cpu * 1000 / max(total, 1):.1f} ms per "
        f"message (incl. its fan-out); {before}, after {load()}"
    )
    print(line, flush=True)
    return Result(scenario, target.name, line, p, len(latencies), expected)


def profile(target: Target, scenario: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """With BENCH_PYSPY=<folder>, record where the server spends the scenario (py-spy, raw)."""
    folder = os.environ.get("BENCH_PYSPY")
    if not folder or not target.pids:
        return None
    out = Path(folder) / f"{target.name}-{scenario}.raw"
    pid = target.pids[0]  # the first instance
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "-d", str(int(seconds) + 1), "-f", "raw"]
        + ["-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _send(target: Target, rooms: list[Room], rate: float, seconds: float) -> dict[str, Any]:
    # Writers connect after the receivers, continuing the round robin over the instances.
    first = sum(len(room.receivers) for room in rooms)
    writers = [(index, room, cookie) for index, room in enumerate(rooms) for cookie in room.senders]
    conns = await asyncio.gather(
        *(
            eio.connect(HOST, target.port(first + n), cookie, target.origin)
            for n, (_, _, cookie) in enumerate(writers)
        )
    )
    senders: list[list[eio.Connection]] = [[] for _ in rooms]
    for conn, (index, room, _) in zip(conns, writers, strict=True):
        reply = await conn.call(room.subscribe[0], room.subscribe[1])
        if not reply.get("ok"):
            raise RuntimeError(f"sender could not subscribe: {reply}")
        senders[index].append(conn)
    total = int(rate * seconds)
    run_id = f"{time.time_ns() % 10**12:012d}"
    times: list[float] = []
    ok = 0

    def done(sent: float):
        def callback(future: asyncio.Future[Any]) -> None:
            nonlocal ok
            if not future.cancelled() and future.exception() is None and future.result()["ok"]:
                ok += 1
                times.append((time.time() - sent) * 1000)

        return callback

    futures = []
    cpu_before = cpu_seconds(target.pids)
    start = time.monotonic()
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        room = rooms[i % len(rooms)]
        in_turn = senders[i % len(rooms)]
        sent = time.time()
        body = json.dumps({"t": sent, "i": i})
        future = in_turn[(i // len(rooms)) % len(in_turn)].call_nowait(
            "message.send", {**room.send, "client_key": f"b{run_id}-{i:07d}", "body": body}
        )
        future.add_done_callback(done(sent))
        futures.append(future)
    await asyncio.wait(futures, timeout=30)
    cpu = cpu_seconds(target.pids) - cpu_before  # the sends and their fan-out, not the connects
    await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
    return {"ok": ok, "times": times, "cpu": cpu}


def run_storm(target: Target) -> Result:
    before = load()

    async def storm() -> tuple[float, list[float], int, list[eio.Connection]]:
        times: list[float] = []

        async def one(port: int, cookie: str, subscribe: tuple[str, dict]) -> eio.Connection | None:
            begun = time.monotonic()
            try:
                conn = await eio.connect(HOST, port, cookie, target.origin, timeout=15)
                reply = await conn.call(subscribe[0], subscribe[1], timeout=15)
            except (TimeoutError, OSError, eio.ProtocolError):
                return None
            if not reply.get("ok"):
                await conn.close()
                return None
            times.append((time.monotonic() - begun) * 1000)
            return conn

        start = time.monotonic()
        conns = await asyncio.gather(
            *(one(target.port(i), c, s) for i, (c, s) in enumerate(target.storm))
        )
        total = time.monotonic() - start
        live = [c for c in conns if c is not None]
        await asyncio.gather(*(c.close() for c in live), return_exceptions=True)
        return total, times, len(live), live

    total, times, ok, _ = asyncio.run(storm())
    p = percentiles(times) if times else {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    line = (
        f"{'connect-200':<12} {target.name:<7} {ok}/{len(target.storm)} authenticated "
        f"connect+subscribe in {total:.2f} s (each: p50 {p['p50']:.0f} ms, p99 {p['p99']:.0f} ms, "
        f"max {p['max']:.0f} ms); {before}, after {load()}"
    )
    print(line, flush=True)
    return Result("connect-200", target.name, line, p, ok, len(target.storm), total)


PLAN = {  # scenario -> (messages per second, seconds as a multiple of --seconds)
    "family-50": (100.0, 1),
    "room-200": (50.0, 1),
    "rooms-100x5": (100.0, 2),
}


def run_one(target: Target, scenario: str, seconds: float, scale: float) -> Result:
    if scenario == "connect-200":
        return run_storm(target)
    rate, factor = PLAN[scenario]
    return run_messages(target, scenario, rate * scale, seconds * factor)


def run_rounds(
    targets: list[Target], only: list[str], seconds: float, scale: float, rounds: int
) -> dict[str, dict[str, list[Result]]]:
    """Every scenario on both servers back to back, `rounds` times, the order swapped each
    round: this machine's speed drifts by 2x from one minute to the next, and a floor measured
    a few minutes before the portal compared two different machines."""
    results: dict[str, dict[str, list[Result]]] = {t.name: {s: [] for s in only} for t in targets}
    for number in range(rounds):
        print(f"-- round {number + 1} of {rounds}", flush=True)
        for scenario in only:
            for target in targets if number % 2 == 0 else targets[::-1]:
                results[target.name][scenario].append(run_one(target, scenario, seconds, scale))
                time.sleep(1)
    return results


# --- the two servers ---------------------------------------------------------------------------


def floor_target(port: int) -> Target:
    def rooms(n: int, size: int, prefix: str, writers: int = 1) -> list[Room]:
        return [
            Room(
                [""] * size,
                [""] * writers,
                ("join", {"room": f"{prefix}{k}"}),
                {"room": f"{prefix}{k}"},
            )
            for k in range(n)
        ]

    target = Target("floor", [port])
    target.rooms = {
        "family-50": rooms(1, 50, "f", FAMILY_WRITERS),
        "room-200": rooms(1, BIG, "b"),
        "rooms-100x5": rooms(SMALL_FAMILIES, SMALL, "s"),
    }
    target.storm = [("", ("join", {"room": "storm"}))] * BIG
    return target


def sign_in(base: str, email: str) -> str:
    browser = requests.Session()
    page = browser.get(f"{base}/signin", timeout=30).text
    marker = 'name="csrf_token"'
    start = page.index(marker)
    token = page[page.index('value="', start) + 7 :]
    token = token[: token.index('"')]
    response = browser.post(
        f"{base}/signin",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        timeout=30,
    )
    if "Uitloggen" not in response.text:
        raise RuntimeError(f"sign-in failed for {email}")
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def portal_target(ports: list[int], ids: dict[str, Any]) -> Target:
    base = f"http://{HOST}:{ports[0]}"
    emails = ["zender@bench.example"] + [f"lid{i}@bench.example" for i in range(BIG)]
    for k in range(SMALL_FAMILIES):
        emails.append(f"g{k}-zender@bench.example")
        emails.extend(f"g{k}-lid{j}@bench.example" for j in range(SMALL))
    with ThreadPoolExecutor(8) as pool:
        cookies = dict(zip(emails, pool.map(lambda e: sign_in(base, e), emails), strict=True))
    big = ids["big_family"]
    sub = ("subscribe", {"family_id": big})
    target = Target("portal", ports)
    target.rooms = {
        "family-50": [
            Room(
                [cookies[f"lid{i}@bench.example"] for i in range(50)],
                # the sender, then members writing from a second device
                [cookies["zender@bench.example"]]
                + [cookies[f"lid{i}@bench.example"] for i in range(FAMILY_WRITERS - 1)],
                sub,
                {"conversation_id": ids["family_50"]},
            )
        ],
        "room-200": [
            Room(
                [cookies[f"lid{i}@bench.example"] for i in range(BIG)],
                [cookies["zender@bench.example"]],
                sub,
                {"conversation_id": ids["room_200"]},
            )
        ],
        "rooms-100x5": [
            Room(
                [cookies[f"g{k}-lid{j}@bench.example"] for j in range(SMALL)],
                [cookies[f"g{k}-zender@bench.example"]],
                ("subscribe", {"family_id": fid}),
                {"conversation_id": cid},
            )
            for k, (fid, cid) in enumerate(ids["small"])
        ],
    }
    target.storm = [(cookies[f"lid{i}@bench.example"], sub) for i in range(BIG)]
    return target


def start(args: list[str], env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_until(lambda: port_open(port), log.stem, log)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def median_result(results: list[Result]) -> Result:
    """One result per scenario: the median of the rounds' p50 and p99 (each on its own), and
    complete only when every round delivered everything."""
    first = results[0]
    p = {key: statistics.median(r.p[key] for r in results) for key in ("p50", "p99")}
    complete = all(r.delivered == r.expected for r in results)
    return Result(
        first.scenario,
        first.target,
        first.line,
        p,
        first.expected if complete else min(r.delivered for r in results),
        first.expected,
        statistics.median(r.seconds for r in results),
    )


def summary(
    mode: str,
    database: str,
    instances: int,
    rounds: dict[str, dict[str, list[Result]]],
    only: list[str],
) -> None:
    count = len(next(iter(rounds["portal"].values())))
    print(
        f"\nSummary ({mode}, portal on {database}, {instances} instance(s)"
        f"{' + Redis' if instances > 1 else ''}, floor one process; median of {count} round(s), "
        "floor and portal back to back; targets from the issue):",
        flush=True,
    )
    for name in only:
        result = median_result(rounds["portal"][name])
        base = median_result(rounds["floor"][name])
        per_round = ", ".join(
            f"{p.p['p99']:.0f}/{f.p['p99']:.0f}"
            for p, f in zip(rounds["portal"][name], rounds["floor"][name], strict=True)
        )
        if name == "connect-200":
            met = result.delivered == result.expected and result.seconds <= 3
            print(
                f"  {name:<12} portal {result.delivered}/{result.expected} in "
                f"{result.seconds:.2f} s (floor {base.seconds:.2f} s) -> target <= 3 s: "
                f"{'met' if met else 'NOT met'}",
                flush=True,
            )
            continue
        p99, p50 = result.p["p99"], result.p["p50"]
        floor_p99 = base.p["p99"]
        ratio = p99 / floor_p99 if floor_p99 else float("nan")
        complete = result.delivered == result.expected
        if name == "family-50":
            met = complete and p50 <= 10 and p99 <= 50 and ratio <= 3.5
            target = "all delivered, p50 <= 10 ms, p99 <= 50 ms and <= 3.5x floor"
        elif name == "room-200":
            met = complete and p99 <= 100
            target = "nothing lost, p99 <= 100 ms"
        else:
            met = ratio <= 2
            target = "p99 <= 2x floor"
        print(
            f"  {name:<12} portal p50 {p50:.1f} / p99 {p99:.1f} ms, floor p50 "
            f"{base.p['p50']:.1f} / p99 {floor_p99:.1f} ms ({ratio:.2f}x; p99 per round "
            f"portal/floor {per_round}), delivered {'all' if complete else 'NOT all'} -> "
            f"{target}: {'met' if met else 'NOT met'}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("gevent", "threading"), default="gevent")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=3, help="floor and portal, back to back")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="portal instances (more than one: sharing emits through Redis; the floor stays one)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the message rates (to find the knee)"
    )
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    for name in only:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name}; one of {SCENARIOS}")
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-live-"))
    print(
        f"async mode {args.mode}; portal database {args.database}, {args.instances} "
        f"instance(s){' + Redis' if args.instances > 1 else ''}; receivers: bench/eio.py in "
        f"{RECEIVER_PROCESSES} processes; {os.cpu_count()} cores; {load()}",
        flush=True,
    )

    postgres = redis = None
    if args.database == "postgresql":
        from tests.support.servers import PostgresServer

        postgres = PostgresServer(durable=True).start()  # fsync on: as durable as SQLite FULL
        database = postgres.url
    else:
        database = f"sqlite:///{folder}/bench.db"
    ports = [free_port() for _ in range(args.instances)]
    env = {
        **os.environ,
        "PORTAL_ASYNC_MODE": args.mode,
        "PORTAL_DATABASE_URL": database,
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456",
        "PORTAL_BASE_URL": f"http://{HOST}:{ports[0]}",
        "PORTAL_MAIL_BACKEND": "outbox",
        "PORTAL_OUTBOX_DIR": str(folder),
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "8192",
        "PORTAL_MESSAGE_BURST": "1000000",
        "PORTAL_MESSAGE_PER_MINUTE": "60000000",
    }
    servers: list[subprocess.Popen[bytes]] = []
    logs = [folder / f"portal-{n + 1}.log" for n in range(args.instances)]
    try:
        if args.instances > 1:
            # Several instances share their emits through Redis, as in a multi-instance
            # deployment (python-socketio's RedisManager); Redis's CPU is counted as the portal's.
            from tests.support.servers import RedisServer

            redis = RedisServer().start()
            env["PORTAL_REDIS_URL"] = redis.url
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, database],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        ids = json.loads(seeded.stdout.strip().splitlines()[-1])
        for port, log in zip(ports, logs, strict=True):
            command = [sys.executable, "-m", "portal", "--port", str(port)]
            servers.append(start(command, env, log, port))
        portal = portal_target(ports, ids)
        portal.pids = [server.pid for server in servers]
        if redis is not None and redis.process is not None:
            portal.pids.append(redis.process.pid)
        floor_port = free_port()
        servers.append(
            start(
                [sys.executable, "-c", FLOOR, str(floor_port), args.mode],
                dict(os.environ),
                folder / "floor.log",
                floor_port,
            )
        )
        floor = floor_target(floor_port)
        floor.pids = [servers[-1].pid]
        results = run_rounds([floor, portal], only, args.seconds, args.scale, args.rounds)
    finally:
        for server in servers:
            stop(server)
        for log in logs:
            if log.exists() and "Traceback" in log.read_text(errors="replace"):
                print(f"{log.stem} log has errors:\n{log_tail(log)}", flush=True)
        if postgres is not None:
            postgres.stop()
        if redis is not None:
            redis.stop()
    summary(args.mode, args.database, args.instances, results, only)


SEED = """
import json, sys
from config import Settings
from portal import create_app, db
from portal.migrate import upgrade
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.family.models import Family, Member
from portal.messaging.models import Conversation, Participant
url = sys.argv[1]
upgrade(url)
app = create_app(Settings.from_env(async_mode="threading"))
with app.app_context():
    secret = passwords.hash_password("bench password 123")
    def user(email, name):
        u = User(email=email, display_name=name, password_hash=secret,
                 email_verified_at=clock.now())
        db.session.add(u); db.session.flush(); return u
    def family(owner, name):
        f = Family(name=name, created_by_id=owner.id); db.session.add(f); db.session.flush()
        db.session.add(Member(family_id=f.id, user_id=owner.id, role="parent",
                              display_name=owner.display_name, has_authority=True,
                              joined_at=clock.now()))
        return f
    def member(f, u):
        db.session.add(Member(family_id=f.id, user_id=u.id, role="network",
                              display_name=u.display_name, joined_at=clock.now()))
    def conversation(f, owner, people):
        c = Conversation(family_id=f.id, topic="Bench", created_by_id=owner.id)
        db.session.add(c); db.session.flush()
        db.session.add_all(Participant(conversation_id=c.id, user_id=u.id) for u in people)
        return c
    sender = user("zender@bench.example", "Zender")
    big = family(sender, "Gezin Bench")
    lids = [user(f"lid{i}@bench.example", f"Lid {i}") for i in range(200)]
    for u in lids:
        member(big, u)
    c50 = conversation(big, sender, [sender] + lids[:50])
    c200 = conversation(big, sender, [sender] + lids)
    small = []
    for k in range(100):
        s = user(f"g{k}-zender@bench.example", f"Zender {k}")
        f = family(s, f"Gezin {k}")
        people = [user(f"g{k}-lid{j}@bench.example", f"Lid {k}.{j}") for j in range(5)]
        for u in people:
            member(f, u)
        small.append((f.id, conversation(f, s, [s] + people).id))
    db.session.commit()
    print(json.dumps({"big_family": big.id, "family_50": c50.id, "room_200": c200.id,
                      "small": small}))
"""


if __name__ == "__main__":
    main()
