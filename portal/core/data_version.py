"""One number that changes with every committed change to the portal's data.

A page kept for a reader (portal/core/kept_pages.py) is served again only while this number is
what it was when the page was drawn. So every transaction that writes anything besides the
access log itself counts it up, in the same transaction, just before it commits: a reader who
sees the change also sees the new number, and one who sees the old number sees the old data.

Writes are noticed where every statement passes (the engine's `before_cursor_execute`), not in
the services, so no change can forget to count: an INSERT, UPDATE, DELETE or REPLACE into any
table but the log's own (audit_event, audit_chain_head) and this one marks the transaction, and
its commit counts up. Migrations do not count (their connection says so, migrations/env.py):
the table may not exist yet while they run.

On PostgreSQL the counting UPDATE holds the row's lock until the commit, so transactions that
change data commit one after another (their work runs side by side; it is the last step). Reads
and the log's rows never take it.
"""

from __future__ import annotations

import re
from typing import Any, cast

from flask import g, has_request_context
from sqlalchemy import Connection, Integer, Table, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base

WROTE = "portal_data_written"
# Set in `g` when a request's transaction changed data (kept_pages keeps no such page).
WROTE_IN_REQUEST = "portal_request_wrote_data"
MIGRATING = "portal_migrating"
NOT_DATA = frozenset({"audit_event", "audit_chain_head", "data_version"})
_TARGET = re.compile(
    r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)',
    re.IGNORECASE,
)
_BUMP = "UPDATE data_version SET n = n + 1 WHERE id = 1"


class DataVersion(Base):
    """One row (id 1): how many data-changing transactions have committed."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)


_table = cast(Table, DataVersion.__table__)
CURRENT = select(_table.c.n).where(_table.c.id == 1).scalar_subquery()


def written_table(statement: str) -> str | None:
    """The table a data-changing statement writes to, or None for anything else."""
    match = _TARGET.match(statement)
    return match.group(1).lower() if match else None


def current(conn: Connection) -> int:
    return int(conn.execute(select(CURRENT)).scalar_one())


def install(engine: Engine) -> None:
    if getattr(engine, "_portal_data_version", False):
        return
    engine._portal_data_version = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(
        conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if conn.info.get(WROTE):
            return
        table = written_table(statement)
        if table is not None and table not in NOT_DATA:
            conn.info[WROTE] = True
            if has_request_context():
                setattr(g, WROTE_IN_REQUEST, True)

    @event.listens_for(engine, "commit")
    def _count_up(conn: Any) -> None:
        if conn.info.pop(WROTE, False) and not conn.info.get(MIGRATING):
            conn.exec_driver_sql(_BUMP)

    @event.listens_for(engine, "rollback")
    def _forget(conn: Any) -> None:
        conn.info.pop(WROTE, None)
