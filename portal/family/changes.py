"""A family's change stamp: new in every transaction that changes something of the family, in
that transaction, without each service having to remember it.

At each flush the families of the new, changed and removed rows are noted; just before the
commit (before the access log is linked, so that every transaction takes the family row and
then the log's chain head, in that order) their `change_stamp` gets one new random value. A
page view that changes nothing writes nothing here. Cached fragments of the family's pages are
kept under the stamp (portal/family/plan_page.py).

What belongs to a family: every row with a family_id, the family row itself, and the parts of a
grant or of a plan version (through their parent). A statement that changes such rows outside
the unit of work (a bulk DELETE) is not seen at flush: its service calls `note()`. Not counted:
the access log (every page view writes it) and the conversations with their messages and read
marks (the family's most frequent writes; no cached fragment shows them, and they would
otherwise also write the family row in each message's transaction).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from portal.access.models import Grant, GrantApproval, GrantPart
from portal.family.models import Family, new_stamp
from portal.family.plan_history_models import PlanSigner, PlanSignoff, PlanVersion

NOTED = "portal_changed_families"
NOT_A_CHANGE = frozenset(
    {"audit_event", "conversation", "conversation_participant", "message", "message_revision"}
)
# Rows of a family without a family_id of their own: (parent model, column naming the parent).
THROUGH: dict[type, tuple[Any, str]] = {
    GrantPart: (Grant, "grant_id"),
    GrantApproval: (Grant, "grant_id"),
    PlanSigner: (PlanVersion, "version_id"),
    PlanSignoff: (PlanVersion, "version_id"),
}


def family_of(session: Session, obj: Any) -> int | None:
    if isinstance(obj, Family):
        return obj.id
    table = getattr(obj, "__tablename__", None)
    if table is None or table in NOT_A_CHANGE:
        return None
    family_id = getattr(obj, "family_id", None)
    if family_id is not None:
        return int(family_id)
    through = THROUGH.get(type(obj))
    if through is None:
        return None
    parent, column = through
    parent_id = getattr(obj, column)
    found = session.get(parent, parent_id) if parent_id is not None else None
    return int(found.family_id) if found is not None else None


@event.listens_for(Session, "after_flush")
def _note(session: Session, _context: Any) -> None:
    # Still the flush's own view of new, dirty and deleted (with their attribute history).
    noted: set[int] = session.info.setdefault(NOTED, set())
    for obj in chain(session.new, session.deleted):
        family_id = family_of(session, obj)
        if family_id is not None:
            noted.add(family_id)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            family_id = family_of(session, obj)
            if family_id is not None:
                noted.add(family_id)


def note(session: Session, family_id: int) -> None:
    """This transaction changed the family by a statement of its own (not seen at flush)."""
    session.info.setdefault(NOTED, set()).add(family_id)


def changed_here(session: Session) -> set[int]:
    """The families this transaction has changed so far (its pending changes flushed first)."""
    session.flush()
    return set(session.info.get(NOTED, ()))


# insert=True: before the access log's own before_commit (portal/db.py), so the family row is
# taken before the chain head, as every transaction does.
@event.listens_for(Session, "before_commit", insert=True)
def _stamp(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    noted = session.info.pop(NOTED, None)
    if noted:
        session.execute(
            update(Family)
            .where(Family.id.in_(sorted(noted)))
            .values(change_stamp=new_stamp())
            .execution_options(synchronize_session="evaluate")
        )


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: Any) -> None:
    if not previous.nested:
        session.info.pop(NOTED, None)
