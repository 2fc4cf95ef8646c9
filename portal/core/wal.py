"""SQLite: fold the write-ahead log back into the database in a thread of its own.

SQLite does this "checkpoint" inside whichever commit takes the log past 1,000 pages: with the
portal's writes (a message, its audit row, the heads they move) about every hundredth message,
and that commit took 2-5 ms longer. Under gevent the whole process waits with it — every socket
of the instance — so it showed as a tail in message delivery every second or so. A real OS thread
does it here instead, twice a second: the sqlite3 module lets go of the GIL while SQLite works,
and a PASSIVE checkpoint waits for no one, so commits and the event loop go on meanwhile.

The commits' own limit stays, raised to FALLBACK_PAGES: should this thread ever fall behind or
stop, the log still cannot grow without bound. Durability is unchanged (the log is synced at
every commit as before; a checkpoint only copies what is already safe).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

CHECKPOINT_SECONDS = 0.5
FALLBACK_PAGES = 10_000  # ~40 MB of log before a commit checkpoints by itself
log = logging.getLogger(__name__)


def _native() -> tuple[Callable[..., Any], Callable[[float], None]]:
    """A real thread and a real sleep, also when gevent has patched `threading` and `time`
    (a patched thread is a greenlet: it would run in the event loop, the very thing to avoid)."""
    import _thread

    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return _thread.start_new_thread, time.sleep
    return monkey.get_original("_thread", "start_new_thread"), monkey.get_original("time", "sleep")


class Checkpointer:
    def __init__(self, path: str, every: float = CHECKPOINT_SECONDS) -> None:
        self.path = path
        # mode=rw: open the portal's database, never create an empty one. Resolved once, here.
        self._uri = Path(path).resolve().as_uri() + "?mode=rw"
        self.every = every
        self.runs = 0  # passes that found new frames copied into the database (tests, curiosity)
        self._stopped = False

    def start(self) -> Checkpointer:
        start_thread, _ = _native()
        start_thread(self._run, ())
        return self

    def stop(self) -> None:
        self._stopped = True  # the thread sees it within one period

    def _run(self) -> None:
        _, sleep = _native()
        connection: sqlite3.Connection | None = None
        last: tuple[int, int] = (0, 0)
        failing = False
        while True:
            sleep(self.every)
            if self._stopped:  # asked during the sleep: no pass on a file that may be gone
                break
            try:
                if connection is None:
                    connection = sqlite3.connect(
                        self._uri, uri=True, timeout=1, check_same_thread=False
                    )
                # (busy, frames in the log, frames of it now in the database file); the log
                # starts over once a writer finds it fully copied.
                _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames < 0:
                    # Not in WAL mode as this connection knows the file: it may have opened it
                    # before the file was switched to WAL (just made), and would go on seeing
                    # it so. The next pass opens it anew.
                    connection.close()
                    connection = None
                    continue
                if copied > 0 and (frames, copied) != last:
                    self.runs += 1
                last = (frames, copied)
                failing = False
            except sqlite3.Error:
                # A locked or missing file now is not a reason to stop: the next period tries
                # again, and the commits' own limit holds meanwhile. Said once per bad stretch
                # (logging from this thread, next to gevent's patched locks, is kept rare).
                if connection is not None:
                    connection.close()
                connection = None
                if not failing:
                    log.warning("background WAL checkpoint failed", exc_info=True)
                failing = True
        if connection is not None:
            connection.close()


def checkpoint_in_background(engine: Engine) -> Checkpointer | None:
    """For a serving process on a SQLite file: raise the commits' own checkpoint limit and start
    the checkpoint thread. None for PostgreSQL or an in-memory database."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return None

    @event.listens_for(engine, "connect")
    def _raise_limit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")

    engine.dispose()  # connections opened before (migrations, start-up) get the new limit too
    return Checkpointer(path).start()
