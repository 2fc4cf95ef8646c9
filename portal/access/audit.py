"""Writing and verifying the hash-chained access log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.access.models import AuditChainHead, AuditEvent
from portal.core import clock

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    payload = [
        event.chain_key,
        event.seq,
        event.at.isoformat(timespec="microseconds"),
        event.family_id,
        event.actor_user_id,
        event.actor_name,
        event.actor_role,
        event.organisation,
        event.basis,
        event.action,
        event.object_type,
        event.object_id,
        event.outcome,
        event.reason,
        event.client_address,
        event.prev_hash,
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def _lock_head(chain_key: int) -> AuditChainHead:
    """The chain head row, locked for this transaction (PostgreSQL) so links never fork."""
    query = select(AuditChainHead).where(AuditChainHead.chain_key == chain_key).with_for_update()
    head = db.session.scalar(query)
    if head is not None:
        return head
    try:
        with db.session.begin_nested():
            db.session.add(AuditChainHead(chain_key=chain_key, last_seq=0, last_hash=GENESIS))
    except IntegrityError:
        pass  # another transaction created it first; lock theirs
    head = db.session.scalar(query)
    assert head is not None
    return head


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
) -> AuditEvent:
    """Append one row in this transaction; the request commit stores data and log together."""
    chain_key = family_id or 0
    head = _lock_head(chain_key)
    event = AuditEvent(
        chain_key=chain_key,
        seq=head.last_seq + 1,
        at=clock.now(),
        family_id=family_id,
        actor_user_id=actor_user_id,
        actor_name=actor_name[:100],
        actor_role=actor_role,
        organisation=organisation,
        basis=basis,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        reason=reason,
        client_address=client_address,
        prev_hash=head.last_hash,
    )
    event.hash = _digest(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    db.session.add(event)
    db.session.flush()
    return event


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
