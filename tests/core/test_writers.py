"""SQLite writers wait their turn in our queue (portal/core/writers.py), not in SQLite's
sleeping retries: across processes (a lock file), across threads, handed on when a
transaction ends however it ends, and never waited on past SQLite's own timeout."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal import db
from portal.core import writers
from tests.support.servers import wait_until


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = db.make_engine(f"sqlite:///{tmp_path}/writers.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (body TEXT)"))
    yield engine
    engine.dispose()


def _write_in_thread(engine: Engine, body: str) -> threading.Event:
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO note VALUES (:b)"), {"b": body})
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT body FROM note ORDER BY rowid")).scalars())


def test_a_writer_waits_while_another_process_has_the_turn(engine: Engine) -> None:
    queue = db._writer_queues[engine]
    # Another process takes the turn (only the lock file: SQLite itself is not locked, so
    # without the queue the write below would go through at once).
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({queue.lock_path!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = _write_in_thread(engine, "na de ander")
        assert not done.wait(0.5), "wrote while another process had the turn"
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert done.wait(10)
    finally:
        holder.kill()
        holder.wait(5)
    assert _notes(engine) == ["na de ander"]


def test_threads_take_turns_and_every_end_of_a_transaction_hands_it_on(engine: Engine) -> None:
    queue = db._writer_queues[engine]
    for end in ("commit", "rollback", "close", "invalidate"):
        conn = engine.connect()
        transaction = conn.begin()  # BEGIN IMMEDIATE: this connection has the turn
        conn.execute(text("INSERT INTO note VALUES (:b)"), {"b": f"eerst {end}"})
        assert queue.held
        done = _write_in_thread(engine, f"daarna {end}")
        assert not done.wait(0.3), f"a second writer went ahead before {end}"
        if end == "commit":
            transaction.commit()
        elif end == "rollback":
            transaction.rollback()
        elif end == "invalidate":
            conn.invalidate()  # the connection is thrown away: SQLite lets go, so do we
        conn.close()
        assert done.wait(10), f"the turn was not handed on after {end}"
        wait_until(lambda: not queue.held, "turn handed back")
    assert _notes(engine) == [
        "eerst commit",
        "daarna commit",
        "daarna rollback",
        "daarna close",
        "daarna invalidate",
    ]


def test_past_sqlites_own_timeout_a_writer_goes_on_to_sqlite(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = db._writer_queues[engine]
    monkeypatch.setattr(writers, "WAIT_SECONDS", 0.2)
    stuck = object()  # a holder that never ends (only the queue: SQLite is free)
    taken = threading.Event()
    threading.Thread(target=lambda: (queue.acquire(stuck), taken.set()), daemon=True).start()
    assert taken.wait(5)
    started = time.monotonic()
    done = _write_in_thread(engine, "toch geschreven")
    assert done.wait(10)
    assert time.monotonic() - started >= 0.2  # it did wait its turn first
    assert _notes(engine) == ["toch geschreven"]
    queue.release(stuck)
    assert not queue.held


def test_one_queue_per_database_file_and_none_in_memory(tmp_path: Path) -> None:
    first = db.make_engine(f"sqlite:///{tmp_path}/same.db")
    second = db.make_engine(f"sqlite:///{tmp_path}/./same.db")
    memory = db.make_engine("sqlite://")
    try:
        assert db._writer_queues[first] is db._writer_queues[second]
        assert memory not in db._writer_queues
    finally:
        for engine in (first, second, memory):
            engine.dispose()
