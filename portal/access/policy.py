"""THE access policy. One function decides: `decide(actor, action, resource)`.

Deny by default: an action not listed in RULES is refused for everyone. Roles come from the
actor's membership of the resource's family and, for young people, from their age band on the day
of the request. Nothing here is cached beyond one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from portal import db
from portal.access.age import band_for
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_NETWORK, ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member

# Role keys the rules speak of.
PARENT_WITH_AUTHORITY = "parent_with_authority"
PARENT = "parent"  # carer without parental authority (e.g. step-parent, foster carer)
YOUNG_12_15 = "young_person_12_15"
YOUNG_16_17 = "young_person_16_17"
YOUNG_ADULT = "young_person_adult"
YOUNG_UNDER_12 = "young_person_under_12"
NETWORK = "network"

PARENTS = frozenset({PARENT_WITH_AUTHORITY, PARENT})
YOUNG_PEOPLE = frozenset({YOUNG_12_15, YOUNG_16_17, YOUNG_ADULT})
EVERY_MEMBER = PARENTS | YOUNG_PEOPLE | {NETWORK}

# action -> the roles that may do it. Anything absent is denied.
RULES: dict[str, frozenset[str]] = {
    "family.create": frozenset({PARENT_WITH_AUTHORITY}),
    "family.view": EVERY_MEMBER,
    "family.edit": frozenset({PARENT_WITH_AUTHORITY}),
    "member.list": EVERY_MEMBER,
    "member.view": EVERY_MEMBER,
    "member.add": frozenset({PARENT_WITH_AUTHORITY}),
    "member.edit": frozenset({PARENT_WITH_AUTHORITY}),
    "member.remove": frozenset({PARENT_WITH_AUTHORITY}),
    "member.invite": frozenset({PARENT_WITH_AUTHORITY}),
    "member.join": EVERY_MEMBER,
    # "Wie keek mee?": parents and young people of 12+ see who looked at the family's data.
    "audit.view": PARENTS | YOUNG_PEOPLE,
}


@dataclass
class Actor:
    """Who is asking, from where. Memberships are looked up once per request."""

    user: User | None
    address: str | None = None
    _memberships: dict[int, Member | None] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.user.display_name if self.user else "anoniem"

    def membership(self, family_id: int) -> Member | None:
        if self.user is None:
            return None
        if family_id not in self._memberships:
            self._memberships[family_id] = db.session.scalar(
                select(Member).where(
                    Member.family_id == family_id,
                    Member.user_id == self.user.id,
                    Member.removed_at.is_(None),
                )
            )
        return self._memberships[family_id]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str  # what the decision rests on: "membership:<id>", later "grant:<id>"; or "none"
    role: str  # the actor's role in this family, or "none"/"anonymous"
    reason: str  # short machine reason, stored in the audit log
    # A denied actor with no relation to the family must not learn that the object exists.
    hide: bool = True


Resource = Family | Member


def family_id_of(resource: Resource) -> int:
    return resource.id if isinstance(resource, Family) else resource.family_id


def role_of(member: Member, day: date) -> str:
    if member.role == ROLE_PARENT:
        return PARENT_WITH_AUTHORITY if member.has_authority else PARENT
    if member.role == ROLE_YOUNG_PERSON:
        if member.birth_date is None:
            return YOUNG_UNDER_12  # unknown age: the most protective band
        return f"young_person_{band_for(member.birth_date, day).key}"
    if member.role == ROLE_NETWORK:
        return NETWORK
    return "none"


def decide(actor: Actor, action: str, resource: Resource) -> Decision:
    if actor.user is None:
        return Decision(False, "none", "anonymous", "not_signed_in")
    member = actor.membership(family_id_of(resource))
    if member is None:
        return Decision(False, "none", "none", "no_relation")
    role = role_of(member, clock.today())
    basis = f"membership:{member.id}"
    allowed_roles = RULES.get(action)
    if allowed_roles is None:
        return Decision(False, basis, role, "unknown_action", hide=False)
    if role not in allowed_roles:
        return Decision(False, basis, role, "role_not_allowed", hide=False)
    return Decision(True, basis, role, "role_allowed", hide=False)
