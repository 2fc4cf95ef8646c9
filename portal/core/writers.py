"""One SQLite writer at a time, in a queue that hands the write lock on at once.

SQLite lets one transaction write at a time. A second writer's `BEGIN IMMEDIATE` does not wait
in line: SQLite's busy handler puts it to sleep for 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50,
100 ms in turn and tries again, however soon the lock came free. Under load (every page view
commits its audit row) that made the waits, not the work, the tail: measured under gunicorn
(2 workers x 4 threads, bench/bench_pages.py, API read) taking the lock took p50 2-12 ms, p90
30-60 ms, p99 85-340 ms and up to 1.1 s, for transactions that hold it for about a millisecond.

So writers queue before they ask SQLite: a lock per process for its threads, then an
exclusive `flock` on a file next to the database for the processes (the kernel wakes the next
waiter as soon as it is released). Used where the threads are real (gunicorn's gthread
workers, tests); a gevent process has none to queue (portal.db).
When the holder's transaction ends (commit, rollback, or its connection closing) the next one
goes. SQLite's own locking stays as it was underneath: whoever does not queue (the sqlite3
shell, a migration in another program) is still kept out by SQLite, and a writer that waited
too long here goes on to SQLite's busy handler as before, so nothing new can hang.
"""

from __future__ import annotations

import fcntl
import os
import threading
from typing import Any

# As long as SQLite's own busy timeout (portal.db): past it, SQLite decides as it always did.
WAIT_SECONDS = 15.0


class WriterQueue:
    def __init__(self, database_path: str) -> None:
        self.lock_path = database_path + "-writer"
        self._pid = -1
        self._thread_lock: Any = None
        self._fd = -1
        self._holder: int | None = None  # id() of the DB-API connection that holds the turn
        self._guard = threading.Lock()  # short: creating the per-process state once

    def _state(self) -> tuple[Any, int]:
        # Per process: a forked worker must not share its parent's lock or open file (flock
        # locks belong to the open file, so a shared one would not keep the processes apart).
        # Made on first use, not at import.
        if self._pid != os.getpid():
            with self._guard:
                if self._pid != os.getpid():
                    self._thread_lock = threading.Lock()
                    self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                    self._holder = None
                    self._pid = os.getpid()
        return self._thread_lock, self._fd

    def acquire(self, dbapi_connection: Any) -> bool:
        """Wait for this connection's turn to write. False: waited too long (or no lock file);
        the caller goes on and SQLite's busy handler decides, as without the queue."""
        key = id(dbapi_connection)
        if self._holder == key and self._pid == os.getpid():
            return True
        try:
            thread_lock, fd = self._state()
        except OSError:
            return False
        if not thread_lock.acquire(timeout=WAIT_SECONDS):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            thread_lock.release()
            return False
        self._holder = key
        return True

    def release(self, dbapi_connection: Any) -> None:
        """The connection's transaction has ended: the next writer's turn."""
        if self._holder != id(dbapi_connection) or self._pid != os.getpid():
            return
        self._holder = None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    @property
    def held(self) -> bool:
        return self._holder is not None and self._pid == os.getpid()


_queues: dict[str, WriterQueue] = {}
_queues_guard = threading.Lock()


def queue_for(database_path: str) -> WriterQueue:
    """One queue per database file in this process, however many engines point at it."""
    path = os.path.realpath(database_path)
    with _queues_guard:
        found = _queues.get(path)
        if found is None:
            found = _queues[path] = WriterQueue(path)
        return found


def install(dialect: Any, queue: WriterQueue) -> None:
    """Hand the turn on when a transaction ends: after the driver's own commit or rollback
    (also the pool's rollback of a returned connection) or when a connection is closed."""
    commit, rollback, close = dialect.do_commit, dialect.do_rollback, dialect.do_close

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            queue.release(_driver(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            queue.release(_driver(dbapi_connection))

    def do_close(dbapi_connection: Any) -> None:
        try:
            close(dbapi_connection)
        finally:
            queue.release(_driver(dbapi_connection))

    dialect.do_commit, dialect.do_rollback, dialect.do_close = do_commit, do_rollback, do_close


def _driver(connection: Any) -> Any:
    """The sqlite3 connection itself, whether given it or the pool's proxy around it."""
    return getattr(connection, "dbapi_connection", None) or connection
