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
own kept connection: 1,090-1,150 req/s at 1.3-1.4 ms.

How: the first request to arrive writes (the leader); requests that arrive while it writes queue
their rows; when it is done, one of them writes everything queued meanwhile as the next batch.
No thread of its own, no timer: a request alone writes at once, as before. Each request still
waits until the commit that holds its rows has succeeded; if that commit fails, every request
of the batch fails (and answers no data). The rows of a batch are linked into their chains in
the order the requests queued.

Only for transactions that wrote nothing else (a read's rows): a change and its audit rows stay
in one transaction (audit.write_pending decides). On SQLite only: PostgreSQL has no database-wide
write lock to queue for, and groups concurrent commits' syncs itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from portal import db


@dataclass
class _Ticket:
    rows: list[dict[str, Any]]
    done: bool = False
    error: BaseException | None = None


@dataclass
class GroupCommit:
    engine: Engine
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _queue: list[_Ticket] = field(default_factory=list)
    _writing: bool = False
    _conn: Connection | None = None
    # Batches written and rows in them (tests, benchmarks).
    batches: int = 0
    rows: int = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Put `rows` (as audit.write queues them) into the log durably; returns once the
        commit that holds them succeeded, raises if it failed."""
        ticket = _Ticket(rows)
        with self._cond:
            self._queue.append(ticket)
            while self._writing and not ticket.done:
                self._cond.wait()
            if ticket.done:  # another request wrote it in its batch
                if ticket.error is not None:
                    raise ticket.error
                return
            self._writing = True
            batch, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            self._commit([row for queued in batch for row in queued.rows])
        except BaseException as exc:
            error = exc
        with self._cond:
            for queued in batch:
                queued.done = True
                queued.error = error
            self._writing = False
            self.batches += 1
            self.rows += sum(len(queued.rows) for queued in batch)
            self._cond.notify_all()
        if error is not None:
            raise error

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        from portal.access import audit

        # Its own connection, kept (only the leader uses it): SQLite keeps the pages it read
        # (the chain heads, the log's last pages) for the next batch, where a connection from
        # the pool had to read them again after another connection wrote.
        with db.reading(False):
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._conn = self.engine.connect()
            conn = self._conn
            try:
                audit.link_and_insert(conn, rows)
                conn.commit()
            except BaseException:
                self._conn = None
                conn.invalidate()  # a fresh connection for the next batch, whatever broke
                raise


_by_engine: dict[Engine, GroupCommit] = {}
_made = threading.Lock()


def for_engine(engine: Engine) -> GroupCommit | None:
    """The engine's group commit, or None where it does not apply: not SQLite, or a database
    in memory (another connection would see another database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if database in (None, "", ":memory:") or "mode=memory" in str(engine.url):
        return None
    found = _by_engine.get(engine)
    if found is None:
        with _made:
            found = _by_engine.setdefault(engine, GroupCommit(engine))
    return found
