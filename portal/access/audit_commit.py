"""Group commit for the audit rows of reads: the rows of requests that wait at the same moment
go into the log in one write transaction, with one durable commit, before any of those
requests answers.

Why: every read of family data writes its audit row and commits it durably before answering
("no audit row, no data"). On SQLite each of those commits takes the database's one write lock
and syncs the log to disk. Measured under gunicorn (2 workers x 4 threads, wrk -c8, the API
read of one dossier entry through the express lane, 2026-12-03): without its audit write the
read did 2,635 req/s at 0.71 ms of CPU each, like the floor; with a write transaction of its
own per request 845-908 req/s at 1.5-1.6 ms, the workers idle 30 % of the time in the lock
queue and the sync. With this group commit (about two rows a batch under that load) and its
own kept connection: 1,090-1,150 req/s at 1.3-1.4 ms. The sync was still the largest part: the
same run with the batches not synced at all (measured only, never the code) did 1,708 req/s.
So the batch commits without SQLite's sync and then syncs the log file itself, outside the
write lock (`_sync`), before anyone of the batch answers: the other worker's batch can commit
meanwhile, and syncs that overlap are one flush for the kernel. 1,200-1,290 req/s. The
batch's statements then went from SQLAlchemy to the driver's connection (audit.py):
1,309-1,354 req/s at 1.23 ms, against 1,825-1,880 with no sync (measured only). Once the
lane's reads went to the driver too (1,679-1,709 req/s), the sync was the largest cost left:
in-process, one batch's sync took 300 µs of CPU against 230 µs for the whole rest of the read.
So a process writes its next batch only after the last one is synced: the rows that arrive
meanwhile wait and go in together, with one sync for all of them. Fewer, larger batches; two
runs each, in the same minutes: 1,551-1,566 -> 1,884-2,049 req/s, p50 5.6 -> 3.6-4.0 ms (the
other process still commits and syncs while this one syncs).

How: the first request to arrive writes (the leader); requests that arrive while it writes and
syncs queue their rows; when it is done, one of them writes everything queued meanwhile as the
next batch.
No thread of its own, no timer: a request alone writes at once, as before. Each request still
waits until the commit that holds its rows is on disk; if the commit or the sync fails, every
request of the batch fails (and answers no data). The rows of a batch are linked into their
chains in the order the requests queued.

Only for transactions that wrote nothing else (a read's rows): a change and its audit rows stay
in one transaction (audit.write_pending decides). On SQLite only: PostgreSQL has no database-wide
write lock to queue for, and groups concurrent commits' syncs itself.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from portal import db

log = logging.getLogger(__name__)


class SyncFailedBefore(RuntimeError):
    """An earlier sync of the log failed: this process writes no more reads' rows."""


@dataclass
class _Ticket:
    rows: list[dict[str, Any]]
    taken: bool = False  # in a batch that is being written
    done: bool = False
    error: BaseException | None = None


@dataclass
class GroupCommit:
    engine: Engine
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _queue: list[_Ticket] = field(default_factory=list)
    _writing: bool = False
    _conn: Connection | None = None
    _wal: str | None = None  # the write-ahead log's file, when in WAL mode
    _wal_inode: int | None = None
    # The sync that failed, if one did: from then on nothing is written (see write).
    _failed: BaseException | None = None
    # Rows written (tests).
    rows: int = 0
    # Given every statement the batches run (bench.common.count_queries): they run on the
    # driver's connection, where SQLAlchemy's events do not see them.
    trace: Callable[[str], None] | None = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Put `rows` (as audit.write queues them) into the log durably; returns once the
        commit that holds them is on disk, raises if it failed."""
        ticket = _Ticket(rows)
        with self._cond:
            self._queue.append(ticket)
            while not ticket.done and (ticket.taken or self._writing):
                self._cond.wait()
            if ticket.done:  # another request wrote it in its batch
                if ticket.error is not None:
                    raise ticket.error
                return
            if self._failed is not None:
                self._queue.remove(ticket)
                raise SyncFailedBefore("the access log could not be synced before") from (
                    self._failed
                )
            self._writing = True
            batch, self._queue = self._queue, []
            for queued in batch:
                queued.taken = True
        error: BaseException | None = None
        try:
            self._commit([row for queued in batch for row in queued.rows])
        except BaseException as exc:
            error = exc
        if error is None:
            try:
                self._sync()
            except BaseException as exc:
                error = exc
                # After a failed sync the kernel may have dropped the batch's pages and marked
                # them clean: a later sync can then succeed without them, and SQLite's log,
                # whose frames are checksummed as a chain, would after a crash lose the later
                # batches too, whose reads were answered. So this process answers no more
                # reads until it is restarted (as PostgreSQL stops after a failed fsync).
                log.critical("the access log could not be synced; no reads until a restart")
                self._failed = exc
        with self._cond:
            self._writing = False
            for queued in batch:
                queued.done = True
                queued.error = error
            self.rows += sum(len(queued.rows) for queued in batch)
            self._cond.notify_all()
        if error is not None:
            raise error

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        from portal.access import audit

        # Its own connection, kept (only the leader uses it): SQLite keeps the pages it read
        # (the chain heads, the log's last pages) for the next batch, where a connection from
        # the pool had to read them again after another connection wrote. In WAL mode it
        # commits without syncing (synchronous=NORMAL) and `_sync` then syncs the log itself,
        # outside SQLite's write lock. It never goes back to the pool with that setting: it is
        # kept, or invalidated (closed) when something broke.
        # The transaction is run on the driver's connection, in the writers' queue as every
        # SQLite writer (db.py): through SQLAlchemy the batch cost 4x the CPU (audit.py).
        conn = self._connection()
        driver: Any = conn.connection.dbapi_connection
        queue = db.writer_queue(self.engine)
        if queue is not None:
            queue.acquire(driver)
        try:
            driver.set_trace_callback(self.trace)
            driver.execute("BEGIN IMMEDIATE")
            audit.link_and_insert_sqlite(driver, self.engine.dialect, rows)
            driver.execute("COMMIT")
        except BaseException:
            self._conn = None
            conn.invalidate()  # (closing rolls back) a fresh one for the next batch
            raise
        finally:
            if queue is not None:
                queue.release(driver)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> Connection:
        conn = self.engine.connect()
        # (On the driver's connection, before any transaction: SQLite takes it then.)
        driver = conn.connection.dbapi_connection
        assert driver is not None
        mode = driver.execute("PRAGMA journal_mode").fetchone()[0]
        # The file SQLite really opened (not the URL's spelling of it).
        files = {row[1]: row[2] for row in driver.execute("PRAGMA database_list")}
        self._wal = files["main"] + "-wal" if str(mode).lower() == "wal" and files["main"] else None
        if self._wal is not None:
            driver.execute("PRAGMA synchronous=NORMAL")
        # (Otherwise SQLite's own sync at commit, as every other connection: synchronous=FULL.)
        return conn

    def _sync(self) -> None:
        """Make the committed batch durable: sync the write-ahead log, as a commit with
        synchronous=FULL would have done while holding the write lock.

        The batch's frames are in the log file (written at commit). Syncing the file makes
        them durable whoever else wrote since; if a checkpoint has meanwhile copied them into
        the database, SQLite synced the log before it did (and the database after), and the
        log is only begun again after such a complete checkpoint. The log file is not removed
        while this connection is open (SQLite removes it when the last one closes), so a
        missing file is an error, not a success. A log file new since the last sync (begun
        after the last connection had closed) also gets its directory entry synced. Several
        syncs at once, of both workers, are one flush for the kernel: this is where the
        processes' commits are grouped."""
        if self._wal is None:
            return  # (not WAL: the commit synced, as SQLite does with synchronous=FULL)
        fd = os.open(self._wal, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fdatasync(fd)
            inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        if inode != self._wal_inode:
            directory = os.open(os.path.dirname(self._wal) or ".", os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            self._wal_inode = inode


_by_engine: dict[Engine, GroupCommit | None] = {}
_made = threading.Lock()


def for_engine(engine: Engine) -> GroupCommit | None:
    """The engine's group commit, or None where it does not apply: not SQLite, or a database
    in memory (another connection would see another database). Decided once per engine: this
    is asked on every read."""
    try:
        return _by_engine[engine]
    except KeyError:
        pass
    database = engine.url.database
    applies = (
        engine.dialect.name == "sqlite"
        and database not in (None, "", ":memory:")
        and "mode=memory" not in str(engine.url)
    )
    with _made:
        return _by_engine.setdefault(engine, GroupCommit(engine) if applies else None)
