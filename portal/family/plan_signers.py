"""Who must sign a version of the plan, and where each of them stands.

The signers are fixed when a version is proposed (PlanSigner rows): every parent with authority,
every young person of 12 or older (also one without a login yet) and every guest who may write
in the plan. Someone who becomes one of them while the version is open is added to it. A version
stored before signers were kept lists them in its `required` JSON; it still reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal import db
from portal.access.age import age_on
from portal.access.models import LEVEL_WRITE, Grant
from portal.access.policy import grant_state
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from portal.family.plan_history_models import PlanSigner, PlanSignoff, PlanVersion

YOUNG_PERSON_SIGNS_FROM = 12
WHY_PARENT, WHY_YOUNG_PERSON, WHY_GUEST = "parent", "young_person", "guest"

# Where a signer stands. A state in BLOCKING keeps the version from being agreed.
SIGNED = "signed"
DISAGREED = "disagreed"
NOT_TAKING_PART = "not_taking_part"
WAITING = "waiting"
NOT_INVITED = "not_invited"  # a member without a login who was not invited yet
INVITED = "invited"  # invited, not joined yet
LEFT = "left"  # no longer in the family (or no longer a guest who writes in the plan)
BLOCKING = frozenset({WAITING, NOT_INVITED, INVITED, DISAGREED})
STATES = (SIGNED, DISAGREED, NOT_TAKING_PART, WAITING, NOT_INVITED, INVITED, LEFT)


def required_parents(family_id: int) -> list[Member]:
    """The parents whose authority makes their signature necessary: the one place that says
    who they are (so that authority kept per child changes only this function)."""
    return list(
        db.session.scalars(
            select(Member)
            .where(
                Member.family_id == family_id,
                Member.removed_at.is_(None),
                Member.role == ROLE_PARENT,
                Member.has_authority.is_(True),
            )
            .order_by(Member.id)
        )
    )


@dataclass(frozen=True)
class Candidate:
    """Someone who must sign if a version were proposed now."""

    member_id: int | None
    guest_user_id: int | None
    name: str
    why: str

    @property
    def key(self) -> tuple[str, int]:
        return ("member", self.member_id) if self.member_id else ("guest", self.guest_user_id or 0)


def _young_people(family_id: int) -> list[Member]:
    today = clock.today()
    members = db.session.scalars(
        select(Member)
        .where(
            Member.family_id == family_id,
            Member.removed_at.is_(None),
            Member.role == ROLE_YOUNG_PERSON,
            Member.birth_date.is_not(None),
        )
        .order_by(Member.id)
    )
    return [
        m
        for m in members
        if m.birth_date is not None and age_on(m.birth_date, today) >= YOUNG_PERSON_SIGNS_FROM
    ]


def plan_writing_guests(family_id: int) -> dict[int, str]:
    """Guests whose access now lets them write in the plan: user id -> name."""
    now = clock.now()
    found: dict[int, str] = {}
    rows = db.session.execute(
        select(Grant, User)
        .join(User, User.id == Grant.grantee_id)
        .where(Grant.family_id == family_id)
    ).all()
    for grant, user in rows:
        if grant_state(grant, now) == "active" and grant.level_for("plan") == LEVEL_WRITE:
            found[user.id] = user.display_name
    return found


def candidates(family: Family) -> list[Candidate]:
    """Who must sign a version proposed now."""
    found = [Candidate(m.id, None, m.display_name, WHY_PARENT) for m in required_parents(family.id)]
    found += [
        Candidate(m.id, None, m.display_name, WHY_YOUNG_PERSON) for m in _young_people(family.id)
    ]
    member_users = set(
        db.session.scalars(
            select(Member.user_id).where(
                Member.family_id == family.id,
                Member.removed_at.is_(None),
                Member.user_id.is_not(None),
            )
        )
    )
    for user_id, name in sorted(plan_writing_guests(family.id).items()):
        if user_id not in member_users:
            found.append(Candidate(None, user_id, name, WHY_GUEST))
    return found


@dataclass(frozen=True)
class Signer:
    """One signer of one version as the pages and the API show them."""

    id: int | None  # the PlanSigner row; None for an older version's signer or one not stored yet
    member_id: int | None
    user_id: int | None  # the login that signs: the member's account or the guest
    name: str
    why: str
    state: str
    at: datetime | None  # when they signed, said "niet akkoord" or were marked
    reason: str | None
    marked_by: str | None  # who marked them "doet niet mee"
    joined_later: bool
    earlier_disagreement: str | None = None  # said "niet akkoord" first, then signed

    @property
    def blocks(self) -> bool:
        return self.state in BLOCKING

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "member_id": self.member_id,
            "user_id": self.user_id,
            "name": self.name,
            "why": self.why,
            "state": self.state,
            "at": self.at.isoformat() if self.at else None,
            "reason": self.reason,
            "marked_by": self.marked_by,
            "joined_later": self.joined_later,
        }


def stored(version: PlanVersion) -> list[PlanSigner]:
    return list(
        db.session.scalars(
            select(PlanSigner).where(PlanSigner.version_id == version.id).order_by(PlanSigner.id)
        )
    )


def signatures(version: PlanVersion) -> dict[int, PlanSignoff]:
    rows = db.session.scalars(select(PlanSignoff).where(PlanSignoff.version_id == version.id))
    return {s.user_id: s for s in rows}


def _legacy(version: PlanVersion, signed: dict[int, PlanSignoff]) -> list[Signer]:
    """A version from before signers were kept: its `required` list, by login."""
    people = json.loads(version.required or "[]")
    result = []
    for person in people:
        user_id = person.get("user_id")
        signature = signed.get(user_id) if isinstance(user_id, int) else None
        result.append(
            Signer(
                None,
                None,
                user_id,
                str(person.get("name") or ""),
                WHY_GUEST if person.get("why") == "coach" else str(person.get("why") or ""),
                SIGNED if signature else WAITING,
                signature.signed_at if signature else None,
                None,
                None,
                False,
            )
        )
    return result


def signers_of(version: PlanVersion, family: Family, *, still_open: bool) -> list[Signer]:
    """Everyone who must sign `version` and where they stand. For the open version, anyone who
    became a signer after it was proposed is in the list too (stored when someone answers)."""
    rows = stored(version)
    signed = signatures(version)
    if not rows:
        return _legacy(version, signed)
    entries: list[tuple[PlanSigner | None, Candidate]] = [
        (row, Candidate(row.member_id, row.guest_user_id, row.name, row.why)) for row in rows
    ]
    if still_open:
        known = {candidate.key for _row, candidate in entries}
        entries += [(None, c) for c in candidates(family) if c.key not in known]
    member_ids = {c.member_id for _row, c in entries if c.member_id}
    members = {
        m.id: m
        for m in db.session.scalars(select(Member).where(Member.id.in_(member_ids)))
        if m.family_id == family.id
    }
    guests = plan_writing_guests(family.id) if any(c.guest_user_id for _r, c in entries) else {}
    return [_signer(row, c, members, guests, signed) for row, c in entries]


def _signer(
    row: PlanSigner | None,
    candidate: Candidate,
    members: dict[int, Member],
    guests: dict[int, str],
    signed: dict[int, PlanSignoff],
) -> Signer:
    member = members.get(candidate.member_id or 0)
    user_id = member.user_id if member is not None else candidate.guest_user_id
    signature = signed.get(user_id) if user_id else None
    disagreed = row.disagree_reason if row is not None and row.disagreed_at else None
    state, at, reason, by = WAITING, None, None, None
    if signature is not None:
        state, at = SIGNED, signature.signed_at
    elif row is not None and row.not_taking_part_at is not None:
        state, at = NOT_TAKING_PART, row.not_taking_part_at
        reason, by = row.not_taking_part_reason, row.not_taking_part_by_name
    elif (candidate.member_id and (member is None or member.removed_at is not None)) or (
        candidate.guest_user_id and candidate.guest_user_id not in guests
    ):
        state = LEFT
    elif row is not None and row.disagreed_at is not None:
        state, at, reason = DISAGREED, row.disagreed_at, row.disagree_reason
    elif member is not None and member.user_id is None:
        state = INVITED if member.invited_at is not None else NOT_INVITED
    return Signer(
        row.id if row is not None else None,
        candidate.member_id,
        user_id,
        member.display_name if member is not None else candidate.name,
        candidate.why,
        state,
        at,
        reason,
        by,
        row.joined_later if row is not None else True,
        disagreed if state == SIGNED else None,
    )


def store_new(version: PlanVersion, signers: list[Signer]) -> None:
    """Keep the signers who joined the open version after it was proposed."""
    for signer in signers:
        # (An older version's signers, from its `required` list, are never stored: they are
        # not new, and a stored row would make the version forget the rest of that list.)
        if signer.id is None and signer.joined_later:
            db.session.add(
                PlanSigner(
                    version_id=version.id,
                    member_id=signer.member_id,
                    guest_user_id=None if signer.member_id else signer.user_id,
                    name=signer.name[:100],
                    why=signer.why,
                    joined_later=True,
                )
            )
    db.session.flush()


@dataclass(frozen=True)
class Address:
    email: str
    locale: str
    name: str
    joined: bool  # False: invited to the family, no login yet


def mail_address(candidate: Candidate) -> Address | None:
    """Where to tell this signer about a proposal, or None (a young person without a login or
    an e-mail address cannot be told; the page says so)."""
    if candidate.member_id:
        member = db.session.get(Member, candidate.member_id)
        if member is None:
            return None
        if member.user is not None:
            return Address(member.user.email, member.user.locale or "nl", member.display_name, True)
        if member.email and member.invited_at is not None:
            return Address(member.email, "nl", member.display_name, False)
        return None
    user = db.session.get(User, candidate.guest_user_id) if candidate.guest_user_id else None
    if user is None:
        return None
    return Address(user.email, user.locale or "nl", user.display_name, True)
