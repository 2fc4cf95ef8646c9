"""Database: one declarative base, one engine per process, one session per request or event.

Services only flush; the request (or socket event) is the one place that commits, see
`commit()` and the hooks in `portal.__init__`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_app_context, has_request_context, request
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


session: scoped_session[Session] = scoped_session(sessionmaker(expire_on_commit=False))
_engines: dict[str, Engine] = {}


def make_engine(url: str) -> Engine:
    """One engine per URL per process; SQLite gets WAL, foreign keys and a busy timeout."""
    if url in _engines:
        return _engines[url]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy manage transactions itself; pysqlite's own BEGIN handling is off.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # SQLite's own advice for WAL: a commit survives a killed process (the log is in
            # the OS's hands at once); only a power cut can lose the last commits. FULL would
            # sync the log at every commit, page views' audit rows included.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A request that changes data takes the write lock up front (BEGIN IMMEDIATE), so
            # two writers wait for each other instead of deadlocking. Page views (GET, HEAD)
            # read without it: their only write is usually the audit row at the end, which
            # takes the lock then (take_write_lock), so page views of all workers read side
            # by side instead of one request at a time.
            chosen = _READING.get()
            reading = (
                chosen
                if chosen is not None
                else (
                    has_request_context()
                    and request.method in SAFE_METHODS
                    # Socket events run in their handshake's GET context; they read-then-write
                    # (sequence numbers) and need the lock from the start.
                    and not hasattr(request, "sid")
                )
            )
            conn.info[_SQLITE_WRITING] = not reading
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_write_needs_lock(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # A page view that writes after all (a read mark): take the lock before the write.
            if not conn.info.get(_SQLITE_WRITING, True) and statement[:9].upper().startswith(
                _WRITES
            ):
                _upgrade(conn)

    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    _engines[url] = engine
    return engine


# How transactions begin where no request tells (None: as the request says). The live layer's
# background work (the sweep, acting on a published ending) only reads and must not hold
# SQLite's write lock while it yields to other greenlets.
_READING: ContextVar[bool | None] = ContextVar("portal_reading", default=None)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside this block begin without SQLite's write lock; a write inside
    takes it then, as a page view's does."""
    marker = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(marker)


def gevent_threads() -> bool:
    """Whether gevent has patched `threading` in this process (its greenlets are the threads)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SQLITE_WRITING = "portal_sqlite_writing"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


def _upgrade(conn: Any) -> None:
    """End a SQLite read transaction (nothing written yet) and start a writing one.

    A read transaction cannot simply start writing in WAL mode: if anyone committed since it
    began, SQLite refuses at once (SQLITE_BUSY_SNAPSHOT) instead of waiting. Starting over
    with BEGIN IMMEDIATE waits for the lock and sees the latest data."""
    conn.info[_SQLITE_WRITING] = True
    dbapi = conn.connection.dbapi_connection
    dbapi.execute("COMMIT")
    dbapi.execute("BEGIN IMMEDIATE")


def take_write_lock(sess: Session) -> None:
    """Make sure this transaction may write and holds what serialises writers (SQLite)."""
    take_write_lock_on(sess.connection())


def take_write_lock_on(conn: Any) -> None:
    """The same for a Core connection in a transaction."""
    if conn.dialect.name == "sqlite" and not conn.info.get(_SQLITE_WRITING, True):
        _upgrade(conn)


@event.listens_for(Session, "before_commit")
def _audit_before_commit(sess: Session) -> None:
    from portal.access import audit

    audit.write_pending(sess)


@event.listens_for(Session, "after_soft_rollback")
def _audit_after_rollback(sess: Session, previous: Any) -> None:
    if not previous.nested:
        from portal.access import audit

        audit.discard_pending(sess)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["PORTAL_SETTINGS"].database_url)
    session.configure(bind=engine)
    app.extensions["portal_engine"] = engine

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        session.remove()


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current request's transaction has committed (mail, live events)."""
    if has_app_context():
        g.setdefault("after_commit", []).append(callback)
    else:  # CLI or background work without a request: run now, caller has committed.
        callback()


def commit() -> None:
    """The one commit point: commit, then run what waited for it."""
    session.commit()
    callbacks = g.pop("after_commit", []) if has_app_context() else []
    for callback in callbacks:
        callback()


def rollback() -> None:
    session.rollback()
    if has_app_context():
        g.pop("after_commit", None)
