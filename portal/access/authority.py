"""Parental authority (gezag) per child: the one place that says who holds it.

Authority is recorded per child (a parent may have it for one child and not for another; at most
two holders per child). It is set when a parent or a child is added, confirmed by the parent when
they join, and afterwards changed only by the operator command (`flask portal set-authority`),
never by the other parent. `Member.has_authority` stays in step: a parent with authority over at
least one child of the family (or, while no child is recorded, what the parent was added as).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select

from portal import db
from portal.core import clock
from portal.family import changes
from portal.family.models import (
    ROLE_PARENT,
    ROLE_YOUNG_PERSON,
    Member,
    ParentalAuthority,
)

MAX_HOLDERS = 2


class AuthorityError(Exception):
    """Authority that cannot be recorded like this; `field` names the form field."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


def authority_holders(family_id: int, child_member_id: int) -> list[Member]:
    """The current members with authority over this child, by id."""
    return list(
        db.session.scalars(
            select(Member)
            .join(ParentalAuthority, ParentalAuthority.parent_id == Member.id)
            .where(
                ParentalAuthority.family_id == family_id,
                ParentalAuthority.child_id == child_member_id,
                Member.removed_at.is_(None),
            )
            .order_by(Member.id)
        )
    )


def has_authority_over(parent_member_id: int, child_member_id: int) -> bool:
    """Whether this member holds authority over this child."""
    found = db.session.scalar(
        select(ParentalAuthority.id).where(
            ParentalAuthority.parent_id == parent_member_id,
            ParentalAuthority.child_id == child_member_id,
        )
    )
    return found is not None


def has_any_authority(member: Member) -> bool:
    """Whether this member is a parent with authority over at least one child of the family."""
    return member.role == ROLE_PARENT and member.has_authority


def children_of(parent_member_id: int) -> list[int]:
    """The ids of the current children this parent holds authority over."""
    return list(
        db.session.scalars(
            select(ParentalAuthority.child_id)
            .join(Member, Member.id == ParentalAuthority.child_id)
            .where(ParentalAuthority.parent_id == parent_member_id, Member.removed_at.is_(None))
            .order_by(ParentalAuthority.child_id)
        )
    )


def holders_by_child(family_id: int) -> dict[int, list[int]]:
    """child member id -> the parent member ids with authority over that child (one query)."""
    found: dict[int, list[int]] = {}
    for child_id, parent_id in db.session.execute(
        select(ParentalAuthority.child_id, ParentalAuthority.parent_id)
        .where(ParentalAuthority.family_id == family_id)
        .order_by(ParentalAuthority.parent_id)
    ):
        found.setdefault(child_id, []).append(parent_id)
    return found


def _current(family_id: int, ids: Iterable[int], role: str) -> list[Member]:
    wanted = set(ids)
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            select(Member).where(
                Member.family_id == family_id,
                Member.id.in_(wanted),
                Member.role == role,
                Member.removed_at.is_(None),
            )
        )
    )
    if len(found) != len(wanted):
        raise AuthorityError("authority_not_in_family", "authority")
    return found


def _holder_count(child_id: int) -> int:
    return int(
        db.session.scalar(select(func.count()).where(ParentalAuthority.child_id == child_id)) or 0
    )


def check_for_new_parent(
    family_id: int, child_ids: Iterable[int], set_by: Member | None
) -> list[Member]:
    """The children a new parent may be recorded with authority over, or AuthorityError: the one
    adding may only pass on authority over a child they hold it over themself (or over a child
    nobody holds it over), and a child has at most two holders. Checked before anything is
    written, so a refusal leaves nothing half-made."""
    children = _current(family_id, child_ids, ROLE_YOUNG_PERSON)
    for child in children:
        holders = _holder_count(child.id)
        if holders >= MAX_HOLDERS:
            raise AuthorityError("authority_two_holders", "authority")
        if holders and (set_by is None or not has_authority_over(set_by.id, child.id)):
            raise AuthorityError("authority_not_yours", "authority")
    return children


def check_for_new_child(family_id: int, parent_ids: Iterable[int]) -> list[Member]:
    """The parents a new child may be recorded with (at most two), or AuthorityError."""
    parents = _current(family_id, parent_ids, ROLE_PARENT)
    if len(parents) > MAX_HOLDERS:
        raise AuthorityError("authority_two_holders", "authority")
    return parents


def record_for_new_parent(parent: Member, children: list[Member], by_user_id: int | None) -> None:
    """A parent just added, with the children check_for_new_parent allowed."""
    for child in children:
        _add(parent, child, by_user_id)
    sync(parent)


def record_for_new_child(child: Member, parents: list[Member], by_user_id: int | None) -> None:
    """A child just added, with the parents check_for_new_child allowed. Every parent's
    has_authority follows (a parent added with authority before any child was recorded, and
    not chosen for this first child, holds authority over no child now)."""
    for parent in parents:
        _add(parent, child, by_user_id)
    sync_family(child.family_id)


def sync_family(family_id: int) -> None:
    """`sync` for every current parent of the family (after a child came or went)."""
    for parent in db.session.scalars(
        select(Member).where(
            Member.family_id == family_id,
            Member.role == ROLE_PARENT,
            Member.removed_at.is_(None),
        )
    ):
        sync(parent)


def _add(
    parent: Member, child: Member, by_user_id: int | None, reference: str | None = None
) -> None:
    db.session.add(
        ParentalAuthority(
            family_id=parent.family_id,
            child_id=child.id,
            parent_id=parent.id,
            set_by_id=by_user_id,
            # A parent who already takes part recorded it themself, or the court did.
            confirmed_at=clock.now() if parent.user_id is not None or reference else None,
            court_reference=reference,
        )
    )
    db.session.flush()


def confirm_on_join(parent: Member, confirmed: bool) -> None:
    """The parent, joining, says whether the authority recorded for them is right. If not, it
    is taken off (they join as a parent without authority; the operator can set it later)."""
    if parent.role != ROLE_PARENT:
        return
    if confirmed:
        for row in db.session.scalars(
            select(ParentalAuthority).where(ParentalAuthority.parent_id == parent.id)
        ):
            row.confirmed_at = clock.now()
        db.session.flush()
        return
    db.session.execute(delete(ParentalAuthority).where(ParentalAuthority.parent_id == parent.id))
    changes.note(db.session(), parent.family_id)
    parent.has_authority = False
    db.session.flush()


def change_by_operator(parent: Member, child: Member, holds: bool, court_reference: str) -> bool:
    """The operator records a court decision: `parent` now does (or does not) hold authority
    over `child`. Returns whether anything changed."""
    if parent.family_id != child.family_id:
        raise AuthorityError("authority_not_in_family")
    if parent.role != ROLE_PARENT or child.role != ROLE_YOUNG_PERSON:
        raise AuthorityError("authority_wrong_roles")
    if holds == has_authority_over(parent.id, child.id):
        return False
    if holds:
        if _holder_count(child.id) >= MAX_HOLDERS:
            raise AuthorityError("authority_two_holders")
        _add(parent, child, None, court_reference)
    else:
        db.session.execute(
            delete(ParentalAuthority).where(
                ParentalAuthority.parent_id == parent.id, ParentalAuthority.child_id == child.id
            )
        )
        changes.note(db.session(), parent.family_id)
    sync(parent, after_court=True)
    return True


def sync(parent: Member, *, after_court: bool = False) -> None:
    """Keep `has_authority` in step with the rows: true when the parent holds authority over a
    child. A parent added with authority before any child is recorded keeps it, unless the court
    took away their last authority."""
    if parent.role != ROLE_PARENT:
        return
    holds = bool(children_of(parent.id))
    if holds or after_court:
        parent.has_authority = holds
    elif _family_has_children(parent.family_id):
        parent.has_authority = False
    db.session.flush()


def _family_has_children(family_id: int) -> bool:
    return (
        db.session.scalar(
            select(Member.id).where(
                Member.family_id == family_id,
                Member.role == ROLE_YOUNG_PERSON,
                Member.removed_at.is_(None),
            )
        )
        is not None
    )
