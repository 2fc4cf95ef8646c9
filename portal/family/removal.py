"""Ending a membership: someone removed by a parent with authority, an invitation withdrawn,
or a person leaving themself. The row and everything the person wrote stay; everyone concerned
is told by mail. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal import db
from portal.access import authority
from portal.auth.models import User
from portal.core import clock, mail
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from portal.family.services import Conflict, FamilyError, current_members, flush_or_conflict


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    is_removed: bool  # the removed person themself


def removal_recipients(family: Family, member: Member) -> list[Recipient]:
    """Who is told that `member` no longer takes part: the person themself and every parent
    with authority, each once."""
    people = [member, *(m for m in current_members(family) if authority.has_any_authority(m))]
    found: dict[str, Recipient] = {}
    for person in people:
        address = person.user.email if person.user is not None else person.email
        if address and address.lower() not in found:
            found[address.lower()] = Recipient(address, person.display_name, person is member)
    return list(found.values())


def remove_member(family: Family, member: Member, version: int, by: User | None = None) -> None:
    """Removing keeps the row (and everything the person wrote); it only ends the membership.
    `by` is who removed them (None when they left themself). Everyone concerned gets a mail."""
    if member.version != version:
        raise Conflict(member)
    if member.role == ROLE_PARENT and member.has_authority:
        others = db.session.scalar(
            select(func.count()).where(
                Member.family_id == family.id,
                Member.role == ROLE_PARENT,
                Member.has_authority.is_(True),
                Member.user_id.is_not(None),
                Member.removed_at.is_(None),
                Member.id != member.id,
            )
        )
        if not others:
            raise FamilyError("last_parent_with_authority")
    recipients = removal_recipients(family, member)
    member.removed_at = clock.now()
    flush_or_conflict(member)
    if member.role == ROLE_YOUNG_PERSON:
        authority.sync_family(family.id)
    for recipient in recipients:
        mail.send(
            recipient.address,
            "member_removed",
            locale="nl",
            name=recipient.name,
            removed=member.display_name,
            is_removed=recipient.is_removed,
            family=family.name,
            by=by.display_name if by is not None else None,
            url=mail.link("family.index"),
        )
    if member.user_id:
        from portal.live.namespace import recheck_now

        recheck_now(member.user_id, family.id)
