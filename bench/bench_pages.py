"""Signed-in pages under gunicorn, next to a floor measured in the same run with the same
gunicorn settings: a bare Flask endpoint that loads one row by primary key through the ORM.

For 10, 1,000 and 10,000 entries (goals, agreements and dossier entries): the plan page, the
dossier list and a single-object API read (one dossier entry). Load from wrk on 127.0.0.1
(bounded: a few seconds per run). Prints requests/s, p50/p99 and queries per page. Asserts
nothing. Also the live-edit propagation: a goal changed over the API, seen by another
subscribed client (p50/p99).

Run: .venv/bin/python bench/bench_pages.py [seconds] [connections]
     BENCH_DATABASE=postgresql: floor and portal on PostgreSQL (fsync on), the production set-up
     BENCH_SIZES=10,1000 fewer sizes; BENCH_ONLY=API only the pages whose name holds it;
     BENCH_STDERR=1 the servers' own output (errors, tracebacks) on this terminal
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
import socketio
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import count_queries, percentiles  # noqa: E402
from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

PASSWORD = "bench password 123"
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "10,1000,10000").split(","))
# BENCH_ONLY="API" (a part of the names below): only those pages; the live edit only with all.
ONLY = os.environ.get("BENCH_ONLY", "")
# The same settings for the floor and the portal; BENCH_GUNICORN="--workers 4 ..." to compare.
GUNICORN = (
    os.environ["BENCH_GUNICORN"].split()
    if os.environ.get("BENCH_GUNICORN")
    else ["--workers", "2", "--worker-class", "gthread", "--threads", "4"]
) + ["--log-level", "warning"]
# The portal's workers start as in production (bench/portal_workers.py).
PORTAL_CONFIG = ["-c", str(ROOT / "bench" / "portal_workers.py")]
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

FLOOR = """
import os
from flask import Flask
from sqlalchemy import create_engine, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker

class Base(DeclarativeBase):
    pass

class Row(Base):
    __tablename__ = "floor_row"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

engine = create_engine(os.environ["FLOOR_DB"])
Base.metadata.create_all(engine)
session = scoped_session(sessionmaker(bind=engine))
if session.get(Row, 1) is None:
    session.add(Row(id=1, name="een rij"))
    session.commit()
session.remove()
app = Flask(__name__)

@app.get("/row")
def row():
    found = session.get(Row, 1)
    name = found.name if found else ""
    session.remove()
    return {"id": 1, "name": name}
"""


def environment(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_DATABASE_URL": db_url,
        "PORTAL_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123",
        "PORTAL_MAIL_BACKEND": "outbox",
        "PORTAL_OUTBOX_DIR": tempfile.mkdtemp(prefix="portal-bench-mail-"),
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "8192",
        "PORTAL_SIGNIN_MAX_FAILURES_PER_CLIENT": "1000",
    }


def gunicorn(
    app_spec: str, env: dict[str, str], cwd: Path, ready: str, config: list[str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start gunicorn and wait until `ready` answers (the workers have loaded the app)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *(config or []),
            *GUNICORN,
            "-b",
            f"127.0.0.1:{port}",
            app_spec,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_STDERR") else subprocess.DEVNULL,
    )

    def answers() -> bool:
        if not port_open(port):
            return False
        try:
            return requests.get(f"http://127.0.0.1:{port}{ready}", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(answers, f"gunicorn {app_spec}", process=process)
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


WARMUP_SECONDS = 1


RUNS = 3


def wrk(url: str, cookie: str | None = None) -> dict[str, float]:
    """requests/s and latency percentiles (ms) from wrk's --latency report: the best of RUNS
    runs, after a short run that is not counted (each worker thread's first requests compile
    templates and fill caches, which a short run would otherwise count as the page's tail).

    Why the best: wrk keeps its connections open, and which gthread worker accepts each one is
    chance. Often one worker took most of them and the other sat idle: the same server then
    measured 35 or 70 req/s from one run to the next, the floor as much. The best run is the
    one where the connections were spread over both workers; floor and pages alike."""
    _run_wrk(url, cookie, WARMUP_SECONDS)
    runs = [_parse_wrk(_run_wrk(url, cookie, SECONDS)) for _ in range(RUNS)]
    return max(runs, key=lambda result: result["rps"])


def _parse_wrk(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _run_wrk(url: str, cookie: str | None, seconds: int) -> str:
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout


def seed(db_url: str, size: int) -> dict[str, Any]:
    """A family with `size` goals, agreements and dossier entries (bulk inserts)."""
    from sqlalchemy import func, insert, select

    from bench.common import bench_app
    from portal import db
    from portal.auth import passwords
    from portal.auth.models import User
    from portal.core import clock
    from portal.family.models import ROLE_PARENT, Agreement, DossierEntry, Family, Goal, Member

    app = bench_app(db_url)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "bench@example.org"))
        if user is None:
            user = User(
                email="bench@example.org",
                display_name="Ouder",
                password_hash=passwords.hash_password(PASSWORD),
                email_verified_at=clock.now(),
            )
            db.session.add(user)
            db.session.flush()
            family = Family(name="Gezin Bench", created_by_id=user.id)
            db.session.add(family)
            db.session.flush()
            db.session.add(
                Member(
                    family_id=family.id,
                    user_id=user.id,
                    role=ROLE_PARENT,
                    display_name="Ouder",
                    has_authority=True,
                    joined_at=clock.now(),
                )
            )
            db.session.commit()
        found = db.session.scalar(select(Family))
        assert found is not None
        family = found
        have = db.session.scalar(select(func.count()).select_from(DossierEntry)) or 0
        family_id, user_id = family.id, user.id
        db.session.commit()  # SQLite: one writer at a time, and the bulk insert is next
        engine = app.extensions["portal_engine"]
        now = clock.now()
        with engine.begin() as conn:
            rows = range(have, size)
            if rows:  # already there from the smaller size before
                conn.execute(
                    insert(DossierEntry),
                    [
                        {
                            "family_id": family_id,
                            "author_id": user_id,
                            "author_name": "Ouder",
                            "author_kind": "member",
                            "title": f"Stuk {i}",
                            "body": "Tekst " * 20,
                            "created_at": now,
                            "visibility": "all",
                            "version": 1,
                        }
                        for i in rows
                    ],
                )
                conn.execute(
                    insert(Goal),
                    [
                        {
                            "family_id": family_id,
                            "title": f"Doel {i}",
                            "description": "",
                            "owner": "family",
                            "phase": "in_progress",
                            "created_by_name": "Ouder",
                            "created_at": now,
                            "version": 1,
                        }
                        for i in rows
                    ],
                )
                conn.execute(
                    insert(Agreement),
                    [
                        {
                            "family_id": family_id,
                            "what": f"Afspraak {i}",
                            "owner_name": "Ouder",
                            "created_by_name": "Ouder",
                            "created_at": now,
                            "version": 1,
                        }
                        for i in rows
                    ],
                )
        entry_id = db.session.scalar(select(func.max(DossierEntry.id))) or 0
        goal_id = db.session.scalar(select(func.min(Goal.id))) or 0
        db.session.remove()
    # Outside any app context: inside one, every request would share its `g` (the signed-in
    # user and the memberships read by an earlier request), and the count would leave out
    # the queries each real request makes for them.
    counts = {}
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    client.post(
        "/signin",
        data={
            "csrf_token": CSRF.search(page).group(1),  # type: ignore[union-attr]
            "email": "bench@example.org",
            "password": PASSWORD,
        },
    )
    client.get(f"/families/{family_id}")  # (the session's first page gives it its CSRF token)
    lane = app.extensions.get("portal_express")
    for name, path in paths(family_id, entry_id).items():
        client.get(path)  # warm: the first audit row of a family starts its chain
        client.get(path)  # (and a page is kept for its reader: portal/core/kept_pages.py)
        with count_queries(app) as statements:
            client.get(path)
        counts[name] = str(len(statements))
        if lane is not None and name != "API: one entry":
            # What drawing the page costs (the application alone), next to serving it kept.
            session = client.get_cookie("portal_session")
            assert session is not None
            with count_queries(app) as drawn:
                Client(lane.wsgi_app, use_cookies=False).get(
                    path, headers={"Cookie": f"portal_session={session.value}"}
                )
            counts[name] += f"/{len(drawn)}"
    return {
        "family": family_id,
        "entry": entry_id,
        "goal": goal_id,
        **{f"q_{k}": v for k, v in counts.items()},
    }


def paths(family_id: int, entry_id: int) -> dict[str, str]:
    return {
        "plan page": f"/families/{family_id}/plan",
        "dossier list": f"/families/{family_id}/dossier",
        "API: one entry": f"/api/v1/families/{family_id}/dossier/{entry_id}",
    }


def sign_in(base: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{base}/signin", timeout=10).text)
    assert token
    browser.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "email": "bench@example.org", "password": PASSWORD},
        timeout=10,
    )
    return browser


def live_edit_latency(
    base: str, browser: requests.Session, family_id: int, goal_id: int
) -> dict[str, float]:
    """A goal changed over the API by one client, seen by another client's socket."""
    seen: dict[int, float] = {}
    arrived = threading.Event()
    listener = socketio.Client(reconnection=False)

    def on_change(data: dict) -> None:
        seen[int(data.get("version", 0))] = time.perf_counter()
        arrived.set()

    listener.on("plan.changed", on_change, namespace="/live")
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    listener.connect(
        base,
        headers={"Cookie": cookie},
        namespaces=["/live"],
        transports=["websocket"],
    )
    listener.call("subscribe", {"family_id": family_id}, namespace="/live", timeout=10)
    csrf = browser.get(f"{base}/api/v1/session", timeout=10).json()["csrf_token"]
    latencies = []
    for i in range(40):
        version = browser.get(
            f"{base}/api/v1/families/{family_id}/plan/goals/{goal_id}", timeout=10
        ).json()["version"]
        arrived.clear()
        started = time.perf_counter()
        browser.patch(
            f"{base}/api/v1/families/{family_id}/plan/goals/{goal_id}",
            json={"version": version, "title": f"Doel {i}"},
            headers={"X-CSRFToken": csrf},
            timeout=10,
        )
        if arrived.wait(5) and version + 1 in seen:
            latencies.append((seen[version + 1] - started) * 1000)
    listener.disconnect()
    return percentiles(latencies) if latencies else {}


def live_on_socket_server(db_url: str, facts: dict[str, int]) -> dict[str, float]:
    """Live edits need the Socket.IO server (python -m portal; gunicorn's gthread worker has
    no WebSocket): the edit and the socket on that one process, as in a small set-up."""
    port = free_port()
    env = {**environment(db_url), "PORTAL_BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port), "python -m portal", process=process)
        base = f"http://127.0.0.1:{port}"
        return live_edit_latency(base, sign_in(base), facts["family"], facts["goal"])
    finally:
        stop(process)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-pages-"))
    floor_dir = workdir / "floor"
    floor_dir.mkdir()
    (floor_dir / "floor_app.py").write_text(FLOOR)
    postgres = None
    if os.environ.get("BENCH_DATABASE") == "postgresql":
        from tests.support.servers import PostgresServer

        postgres = PostgresServer(durable=True).start()  # fsync on, as in production
        db_url = postgres.url
        floor_db = postgres.create_database("floor")
        database = "PostgreSQL (fsync on)"
    else:
        db_url = f"sqlite:///{workdir}/portal.db"
        floor_db = f"sqlite:///{floor_dir}/floor.db"
        database = "SQLite (synchronous=FULL)"
    try:
        _measure(workdir, db_url, floor_dir, floor_db, database)
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(workdir: Path, db_url: str, floor_dir: Path, floor_db: str, database: str) -> None:
    floor_env = {**os.environ, "FLOOR_DB": floor_db}
    settings = " ".join(GUNICORN[:-2])
    print(f"gunicorn {settings}; wrk -c{CONNECTIONS} -d{SECONDS}s, best of {RUNS} runs; {database}")
    print("(the portal's workers first do what production's do: bench/portal_workers.py)")
    # Create the floor's table and row once, before two workers could race to do it.
    subprocess.run(
        [sys.executable, "-c", "import floor_app"], cwd=floor_dir, env=floor_env, check=True
    )
    # The floor server stays up and is measured again right before every page: this machine's
    # speed drifts by up to 2x between minutes, so each page is compared with the floor of the
    # same minute. (An idle gunicorn costs the page's run nothing.)
    floor, floor_port = gunicorn("floor_app:app", floor_env, floor_dir, "/row")
    try:
        _pages(db_url, f"http://127.0.0.1:{floor_port}/row")
    finally:
        stop(floor)


def _pages(db_url: str, floor_url: str) -> None:
    # queries: per request as served; for a page "kept/drawn" (served from what was kept, and
    # drawn by the application when it could not be).
    columns = ("req/s", "% floor", "p50 ms", "p99 ms", "p99/floor", "queries", "floor r/s")
    print(f"{'entries':>8} {'what':<16} " + " ".join(f"{c:>9}" for c in columns))
    live: dict[str, float] = {}
    for size in SIZES:
        facts = seed(db_url, size)
        for name, path in paths(facts["family"], facts["entry"]).items():
            if ONLY not in name:
                continue
            # A fresh server per page: slow requests left over from one run (wrk stops
            # waiting, the server does not) must not hold SQLite's write lock during the next.
            portal, port = gunicorn(
                "portal:create_app()", environment(db_url), ROOT, "/signin", PORTAL_CONFIG
            )
            base = f"http://127.0.0.1:{port}"
            try:
                browser = sign_in(base)
                cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
                base_floor = wrk(floor_url)
                result = wrk(base + path, cookie)
            finally:
                stop(portal)
            share = 100 * result["rps"] / base_floor["rps"]
            tail_ratio = result["p99"] / base_floor["p99"]
            cells = (
                f"{result['rps']:>9.0f}",
                f"{share:>8.0f}%",
                f"{result['p50']:>9.2f}",
                f"{result['p99']:>9.2f}",
                f"{tail_ratio:>8.1f}x",
                f"{facts['q_' + name]:>9}",
                f"{base_floor['rps']:>9.0f}",
            )
            errors = f"  ({result['errors']} errors)" if result["errors"] else ""
            print(f"{size:>8} {name:<16} " + " ".join(cells) + errors, flush=True)
        if size == SIZES[0] and not ONLY:
            live = live_on_socket_server(db_url, facts)
    if live:
        print(
            "live edit (API PATCH -> plan.changed at another client): "
            f"p50 {live['p50']:.1f} ms, p99 {live['p99']:.1f} ms"
        )


if __name__ == "__main__":
    main()
