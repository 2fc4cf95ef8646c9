"""Writing and verifying the hash-chained access log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

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
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def _digest(event: AuditEvent) -> str:
    return _digest_of({name: getattr(event, name) for name in FIELDS})


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
_INSERT_EVENT = insert(cast(Table, AuditEvent.__table__))


def _lock_head(chain_key: int) -> tuple[int, str]:
    """The chain head (last seq, last hash), locked for this transaction (PostgreSQL) so links
    never fork; SQLite's BEGIN IMMEDIATE already serialises writers."""
    head = db.session.connection().execute(_HEAD, {"chain_key": chain_key}).first()
    if head is not None:
        return head.last_seq, head.last_hash
    try:
        with db.session.begin_nested():
            db.session.execute(
                insert(AuditChainHead).values(chain_key=chain_key, last_seq=0, last_hash=GENESIS)
            )
    except IntegrityError:
        pass  # another transaction created it first; lock theirs
    head = db.session.connection().execute(_HEAD, {"chain_key": chain_key}).first()
    assert head is not None
    return head.last_seq, head.last_hash


def write(
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
) -> None:
    """Append one row in this transaction; the request commit stores data and log together.

    Three statements (lock the head, insert the row, move the head), no ORM unit of work: this
    runs for every message and every page touch of family data."""
    chain_key = family_id or 0
    last_seq, last_hash = _lock_head(chain_key)
    values: dict[str, Any] = {
        "chain_key": chain_key,
        "seq": last_seq + 1,
        "at": clock.now(),
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
        "prev_hash": last_hash,
    }
    values["hash"] = _digest_of(values)
    conn = db.session.connection()
    conn.execute(_INSERT_EVENT, values)
    conn.execute(_MOVE_HEAD, {"key": chain_key, "seq": values["seq"], "hash": values["hash"]})


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
