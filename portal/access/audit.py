"""Writing and verifying the hash-chained access log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import db
from portal.access.models import AuditChainHead, AuditEvent
from portal.core import clock

GENESIS = "0" * 64


FIELDS = (
    "chain_key",
    "seq",
    "at",
    "family_id",
    "actor_user_id",
    "actor_name",
    "actor_role",
    "organisation",
    "basis",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "reason",
    "client_address",
    "prev_hash",
)


def _digest_of(values: dict[str, Any]) -> str:
    payload = [values[name] for name in FIELDS]
    payload[2] = values["at"].isoformat(timespec="microseconds")
    count = values.get("count", 1)
    if count != 1:
        # Only a row that stands for more than one access hashes its count: a row for one
        # (every row written before rows had counts) hashes as it always did and still
        # verifies, while a count changed afterwards, to 1 or from 1, breaks the row's hash.
        payload.append(count)
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def _digest(event: AuditEvent) -> str:
    return _digest_of({**{name: getattr(event, name) for name in FIELDS}, "count": event.count})


_heads = cast(Table, AuditChainHead.__table__)
_HEAD = (
    select(_heads.c.last_seq, _heads.c.last_hash)
    .where(_heads.c.chain_key == bindparam("chain_key"))
    .with_for_update()
)
_MOVE_HEAD = (
    update(_heads)
    .where(_heads.c.chain_key == bindparam("key"))
    .values(last_seq=bindparam("seq"), last_hash=bindparam("hash"))
)
_EVENTS = cast(Table, AuditEvent.__table__)
_INSERT_EVENT = insert(_EVENTS)
# PostgreSQL runs an UPDATE inside a WITH of the INSERT: the row and the moved head in one
# statement, one round trip fewer on every audited request (a page view writes one row).
# Every value is named (row_*, head_*): a parameter named like a column would otherwise be
# taken as a value for that column by the UPDATE too.
_INSERT_AND_MOVE = (
    insert(_EVENTS)
    .values({c.name: bindparam(f"row_{c.name}") for c in _EVENTS.c if c.name != "id"})
    .add_cte(
        update(_heads)
        .where(_heads.c.chain_key == bindparam("head_key"))
        .values(last_seq=bindparam("head_seq"), last_hash=bindparam("head_hash"))
        .cte("moved_head")
    )
)


PENDING = "audit_pending"


def _lock_head(conn: Connection, chain_key: int) -> tuple[int, str]:
    """The chain head (last seq, last hash), locked for this transaction (PostgreSQL) so links
    never fork; on SQLite the caller holds the write lock already (`db.take_write_lock`)."""
    head = conn.execute(_HEAD, {"chain_key": chain_key}).first()
    if head is not None:
        return head.last_seq, head.last_hash
    try:
        with conn.begin_nested():
            conn.execute(
                insert(AuditChainHead).values(chain_key=chain_key, last_seq=0, last_hash=GENESIS)
            )
    except IntegrityError:
        pass  # another transaction created it first; lock theirs
    head = conn.execute(_HEAD, {"chain_key": chain_key}).first()
    assert head is not None
    return head.last_seq, head.last_hash


def row(
    *,
    family_id: int | None,
    actor_user_id: int | None,
    actor_name: str,
    actor_role: str,
    organisation: str | None,
    basis: str,
    action: str,
    object_type: str,
    object_id: str | None,
    outcome: str,
    reason: str | None,
    client_address: str | None,
    count: int = 1,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One log row's values, before it is linked into its chain (seq and hashes). `count` and
    `at` for a row that counts repeats (portal/access/repeats.py): how many, and when the last
    of them was; every other row is one access, now."""
    return {
        "chain_key": family_id or 0,
        "at": at or clock.now(),
        "family_id": family_id,
        "actor_user_id": actor_user_id,
        "actor_name": actor_name[:100],
        "actor_role": actor_role,
        "organisation": organisation,
        "basis": basis,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "reason": reason,
        "client_address": client_address,
        "count": count,
    }


def write(**values: Any) -> None:
    """Queue one row (the arguments of `row`) for this transaction; it is linked into its chain
    and inserted just before the transaction commits (`write_pending`), so data and log still
    land together.

    Why queue: linking needs the chain head's lock (and on SQLite the database's one write
    lock). Taken at decision time, it was held through the rest of the request, template
    rendering included, and every request of every worker waited in line behind it."""
    pending: list[dict[str, Any]] = db.session.info.setdefault(PENDING, [])
    pending.append(row(**values))


def write_pending(session: Session) -> None:
    """Link and insert the queued rows of the session's transaction (on SQLite taking the write
    lock now: a page view read without it until here)."""
    pending: list[dict[str, Any]] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    db.take_write_lock(session)
    link_and_insert(session.connection(), pending)


def link_and_insert(conn: Connection, pending: list[dict[str, Any]]) -> None:
    """Link rows (as `write` queues them) into their chains and insert them: per chain one head
    lock, one insert, one head move. The connection's transaction may write (the caller took
    the write lock)."""
    for chain_key, rows in _by_chain(pending):
        last_seq, last_hash = _link(rows, *_lock_head(conn, chain_key))
        if len(rows) == 1 and conn.dialect.name == "postgresql":
            values = {f"row_{name}": value for name, value in rows[0].items()}
            head = {"head_key": chain_key, "head_seq": last_seq, "head_hash": last_hash}
            conn.execute(_INSERT_AND_MOVE, {**values, **head})
            continue
        conn.execute(_INSERT_EVENT, rows)
        conn.execute(_MOVE_HEAD, {"key": chain_key, "seq": last_seq, "hash": last_hash})


def _by_chain(pending: list[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """The rows per chain, in queued order, the chains in one order (no lock cycles)."""
    by_chain: dict[int, list[dict[str, Any]]] = {}
    for values in pending:
        by_chain.setdefault(values["chain_key"], []).append(values)
    return sorted(by_chain.items())


def _link(rows: list[dict[str, Any]], last_seq: int, last_hash: str) -> tuple[int, str]:
    """Give each row its place after the chain's head (seq, hashes); returns the new head."""
    for values in rows:
        last_seq += 1
        values["seq"] = last_seq
        values["prev_hash"] = last_hash
        values["hash"] = last_hash = _digest_of(values)
    return last_seq, last_hash


def include_pending() -> None:
    """Write this transaction's queued rows now, for a reader of the log who should see the
    access they are making (the log page, the export)."""
    write_pending(db.session())


def discard_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


@dataclass(frozen=True)
class ChainProblem:
    chain_key: int
    seq: int
    problem: str


def verify() -> tuple[int, list[ChainProblem]]:
    """Recompute every chain. Returns (rows checked, problems found)."""
    problems: list[ChainProblem] = []
    checked = 0
    heads = {h.chain_key: h for h in db.session.scalars(select(AuditChainHead))}
    seen_keys: set[int] = set()
    current_key: int | None = None
    expected_seq = 1
    prev_hash = GENESIS
    rows = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.chain_key, AuditEvent.seq)
    ).yield_per(1000)

    def close_chain(key: int, last_seq: int, last_hash: str) -> None:
        head = heads.get(key)
        if head is None:
            problems.append(ChainProblem(key, last_seq, "chain head missing"))
        elif head.last_seq != last_seq or head.last_hash != last_hash:
            problems.append(
                ChainProblem(key, head.last_seq, "rows at the end of the chain were removed")
            )

    for event in rows:
        checked += 1
        if event.chain_key != current_key:
            if current_key is not None:
                close_chain(current_key, expected_seq - 1, prev_hash)
            current_key = event.chain_key
            seen_keys.add(current_key)
            expected_seq = 1
            prev_hash = GENESIS
        if event.seq != expected_seq:
            problems.append(
                ChainProblem(event.chain_key, expected_seq, f"row(s) missing before {event.seq}")
            )
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(event.chain_key, event.seq, "link to previous row broken"))
        if _digest(event) != event.hash:
            problems.append(ChainProblem(event.chain_key, event.seq, "row was changed"))
        expected_seq = event.seq + 1
        prev_hash = event.hash
    if current_key is not None:
        close_chain(current_key, expected_seq - 1, prev_hash)
    for key, head in heads.items():
        if key not in seen_keys and head.last_seq > 0:
            problems.append(ChainProblem(key, head.last_seq, "all rows of the chain were removed"))
    return checked, problems
