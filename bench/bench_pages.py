"""Signed-in pages under gunicorn as production runs them, next to a floor measured in the same
run with the same gunicorn settings: a bare Flask endpoint that loads one row by primary key
through the ORM.

PostgreSQL (fsync on) first, SQLite as a second line. For 10 and 10,000 entries per family
(goals, agreements and dossier entries) in each of BENCH_FAMILIES families (20): the plan page,
the dossier list and a single-object API read (one dossier entry). wrk on 127.0.0.1 spreads its
requests over all the families (each family's log chain is one lock held through the commit: one
family alone would measure that lock, not the portal). Bounded: a few seconds per run. Prints
requests/s, p50/p99 and queries per request; asserts nothing. Also the live-edit propagation: a
goal changed over the API, seen by another subscribed client (p50/p99).

The portal runs as `gunicorn -c config/gunicorn.conf.py` with PORTAL_WORKERS=2 and
PORTAL_THREADS=4 (a page/API instance on this 2-core machine); the floor gets the same worker
settings from that file.

Run: .venv/bin/python bench/bench_pages.py [seconds] [connections]
     BENCH_DATABASES=postgresql,sqlite (the default; either one alone)
     BENCH_SIZES=10,10000; BENCH_FAMILIES=20; BENCH_ONLY=API only the pages whose name holds it;
     BENCH_WORKERS / BENCH_THREADS: other worker settings; BENCH_STDERR=1 the servers' output
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import count_queries, percentiles  # noqa: E402
from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

PASSWORD = "bench password 123"
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "10,10000").split(","))
FAMILIES = int(os.environ.get("BENCH_FAMILIES", "20"))
DATABASES = os.environ.get("BENCH_DATABASES", "postgresql,sqlite").split(",")
# BENCH_ONLY="API" (a part of the names below): only those pages; the live edit only with all.
ONLY = os.environ.get("BENCH_ONLY", "")
# As config/gunicorn.conf.py runs a page/API instance; the same settings for the floor.
WORKERS = os.environ.get("BENCH_WORKERS", "2")
THREADS = os.environ.get("BENCH_THREADS", "4")
PRODUCTION_CONFIG = ROOT / "config" / "gunicorn.conf.py"
# The floor's gunicorn config: production's worker settings, without the portal's own hook.
FLOOR_CONFIG = """
import runpy
_production = runpy.run_path({path!r})
for _name in ("workers", "worker_class", "threads", "timeout", "graceful_timeout", "keepalive",
              "accesslog"):
    if _name in _production:
        globals()[_name] = _production[_name]
"""
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
        "PORTAL_WORKERS": WORKERS,
        "PORTAL_THREADS": THREADS,
        "PORTAL_ASYNC_MODE": "threading",
    }


def gunicorn(
    app_spec: str, env: dict[str, str], cwd: Path, ready: str, config: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """Start gunicorn and wait until `ready` answers (the workers have loaded the app)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(config),
            "--log-level",
            "warning",
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


def wrk(base: str, paths: list[str], cookie: str | None = None) -> dict[str, float]:
    """requests/s and latency percentiles (ms) from wrk's --latency report, its requests going
    round the given paths: the best of RUNS runs, after a short run that is not counted (each
    worker thread's first requests compile templates and fill caches, which a short run would
    otherwise count as the page's tail).

    Why the best: wrk keeps its connections open, and which gthread worker accepts each one is
    chance. Often one worker took most of them and the other sat idle: the same server then
    measured 35 or 70 req/s from one run to the next, the floor as much. The best run is the
    one where the connections were spread over both workers; floor and pages alike."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        listed = ", ".join(f'"{path}"' for path in paths)
        script.write(
            f"local paths = {{{listed}}}\n"
            "local i = 0\n"
            "request = function()\n"
            "  i = i % #paths + 1\n"
            "  return wrk.format(nil, paths[i])\n"
            "end\n"
        )
    try:
        _run_wrk(base, script.name, cookie, WARMUP_SECONDS)
        runs = [_parse_wrk(_run_wrk(base, script.name, cookie, SECONDS)) for _ in range(RUNS)]
    finally:
        os.unlink(script.name)
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


def _run_wrk(base: str, script: str, cookie: str | None, seconds: int) -> str:
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        script,
        base,
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout


def seed(db_url: str, size: int) -> dict[str, Any]:
    """FAMILIES families, each with `size` goals, agreements and dossier entries (bulk inserts),
    and one parent who is a member of them all."""
    from sqlalchemy import func, insert, select

    from bench.common import bench_app
    from portal import db
    from portal.auth import passwords
    from portal.auth.models import User
    from portal.core import clock
    from portal.dossier.models import DossierEntry
    from portal.family.models import ROLE_PARENT, Agreement, Family, Goal, Member

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
            for n in range(FAMILIES):
                family = Family(name=f"Gezin Bench {n}", created_by_id=user.id)
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
        family_ids = list(db.session.scalars(select(Family.id).order_by(Family.id)))
        have = dict(
            db.session.execute(
                select(DossierEntry.family_id, func.count()).group_by(DossierEntry.family_id)
            ).all()
        )
        user_id = user.id
        db.session.commit()  # SQLite: one writer at a time, and the bulk inserts are next
        engine = app.extensions["portal_engine"]
        now = clock.now()
        for family_id in family_ids:
            rows = range(have.get(family_id, 0), size)
            if not rows:  # already there from the smaller size before
                continue
            with engine.begin() as conn:
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
        entries = dict(
            db.session.execute(
                select(DossierEntry.family_id, func.max(DossierEntry.id)).group_by(
                    DossierEntry.family_id
                )
            ).all()
        )
        goal_id = (
            db.session.scalar(select(func.min(Goal.id)).where(Goal.family_id == family_ids[0])) or 0
        )
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
    first = family_ids[0]
    client.get(f"/families/{first}")  # (the session's first page gives it its CSRF token)
    for name, path in paths(first, entries[first]).items():
        client.get(path)  # warm: the first audit row of a family starts its chain
        client.get(path)
        with count_queries(app) as statements:
            client.get(path)
        counts[name] = str(len(statements))
    return {
        "families": [(family_id, entries[family_id]) for family_id in family_ids],
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


def live_on_socket_server(db_url: str, facts: dict[str, Any]) -> dict[str, float]:
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
        family_id = facts["families"][0][0]
        return live_edit_latency(base, sign_in(base), family_id, facts["goal"])
    finally:
        stop(process)


def main() -> None:
    for database in DATABASES:
        workdir = Path(tempfile.mkdtemp(prefix="portal-bench-pages-"))
        postgres = None
        try:
            floor_dir = workdir / "floor"
            floor_dir.mkdir()
            (floor_dir / "floor_app.py").write_text(FLOOR)
            (floor_dir / "floor_conf.py").write_text(
                FLOOR_CONFIG.format(path=str(PRODUCTION_CONFIG))
            )
            if database == "postgresql":
                from tests.support.servers import PostgresServer

                postgres = PostgresServer(durable=True).start()  # fsync on, as in production
                db_url = postgres.url
                floor_db = postgres.create_database("floor")
                label = "PostgreSQL (fsync on)"
            else:
                db_url = f"sqlite:///{workdir}/portal.db"
                floor_db = f"sqlite:///{floor_dir}/floor.db"
                label = "SQLite (WAL, synchronous=NORMAL)"
            _measure(db_url, floor_dir, floor_db, label)
        finally:
            if postgres is not None:
                postgres.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def _measure(db_url: str, floor_dir: Path, floor_db: str, label: str) -> None:
    floor_env = {**environment(floor_db), "FLOOR_DB": floor_db}
    print(
        f"== {label}: gunicorn -c config/gunicorn.conf.py ({WORKERS} gthread workers x "
        f"{THREADS} threads), the floor likewise; wrk -c{CONNECTIONS} -d{SECONDS}s over "
        f"{FAMILIES} families, best of {RUNS} runs"
    )
    # Create the floor's table and row once, before two workers could race to do it.
    subprocess.run(
        [sys.executable, "-c", "import floor_app"], cwd=floor_dir, env=floor_env, check=True
    )
    # The floor server stays up and is measured again right before every page: this machine's
    # speed drifts by up to 2x between minutes, so each page is compared with the floor of the
    # same minute. (An idle gunicorn costs the page's run nothing.)
    floor, floor_port = gunicorn(
        "floor_app:app", floor_env, floor_dir, "/row", floor_dir / "floor_conf.py"
    )
    try:
        _pages(db_url, f"http://127.0.0.1:{floor_port}")
    finally:
        stop(floor)


def _pages(db_url: str, floor_base: str) -> None:
    columns = ("req/s", "% floor", "p50 ms", "p99 ms", "p99/floor", "queries", "floor r/s")
    print(f"{'entries':>8} {'what':<16} " + " ".join(f"{c:>9}" for c in columns))
    live: dict[str, float] = {}
    for size in SIZES:
        facts = seed(db_url, size)
        for name in paths(0, 0):
            if ONLY not in name:
                continue
            spread = [paths(family, entry)[name] for family, entry in facts["families"]]
            # A fresh server per page: slow requests left over from one run (wrk stops
            # waiting, the server does not) must not hold a lock during the next.
            portal, port = gunicorn(
                "portal:create_app()", environment(db_url), ROOT, "/signin", PRODUCTION_CONFIG
            )
            base = f"http://127.0.0.1:{port}"
            try:
                browser = sign_in(base)
                cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
                base_floor = wrk(floor_base, ["/row"])
                result = wrk(base, spread, cookie)
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
