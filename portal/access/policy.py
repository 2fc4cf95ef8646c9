"""THE access policy. One function decides: `decide(actor, action, resource)`.

Deny by default: an action not listed in RULES is refused for everyone. Roles come from the
actor's membership of the resource's family and, for young people, from their age band on the day
of the request. Nothing here is cached beyond one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, select

from portal import db
from portal.access.age import band_for
from portal.access.models import LEVEL_READ, LEVEL_WRITE, Grant
from portal.auth.models import User
from portal.core import clock
from portal.dossier.models import DossierEntry
from portal.family.models import (
    ROLE_NETWORK,
    ROLE_PARENT,
    ROLE_PARTNER,
    ROLE_YOUNG_PERSON,
    Agreement,
    Evaluation,
    Family,
    Goal,
    Member,
    NetworkPetal,
    Plan,
    SafetyPlan,
)
from portal.messaging.models import Conversation, Message

# Role keys the rules speak of.
PARENT_WITH_AUTHORITY = "parent_with_authority"
PARENT = "parent"  # a parent without parental authority: keeps a right to information
PARTNER = "partner"  # a parent's partner or a step-parent
YOUNG_12_15 = "young_person_12_15"
YOUNG_16_17 = "young_person_16_17"
YOUNG_ADULT = "young_person_adult"
YOUNG_UNDER_12 = "young_person_under_12"
NETWORK = "network"

# The adults of the households: what a parent keeps from "the other parent" is kept from these.
PARENTS = frozenset({PARENT_WITH_AUTHORITY, PARENT, PARTNER})
YOUNG_PEOPLE = frozenset({YOUNG_12_15, YOUNG_16_17, YOUNG_ADULT})
EVERY_MEMBER = PARENTS | YOUNG_PEOPLE | {NETWORK}

# action -> the roles that may do it. Anything absent is denied.
RULES: dict[str, frozenset[str]] = {
    "family.create": frozenset({PARENT_WITH_AUTHORITY}),
    "family.view": EVERY_MEMBER,
    "family.edit": frozenset({PARENT_WITH_AUTHORITY}),
    # Data portability: everything the family holds that the asker may see, as one archive.
    "family.export": frozenset({PARENT_WITH_AUTHORITY, YOUNG_16_17, YOUNG_ADULT}),
    "member.list": EVERY_MEMBER,
    "member.view": EVERY_MEMBER,
    "member.add": frozenset({PARENT_WITH_AUTHORITY}),
    # Changing or removing someone else, inviting them: parents with authority, and then only
    # as member_target_reason allows for that person.
    "member.edit": frozenset({PARENT_WITH_AUTHORITY}),
    "member.remove": frozenset({PARENT_WITH_AUTHORITY}),
    "member.invite": frozenset({PARENT_WITH_AUTHORITY}),
    "member.birth_date": frozenset({PARENT_WITH_AUTHORITY}),
    # Authority itself: nobody in the family; only the operator command, on a court decision.
    "member.authority": frozenset(),
    # Oneself: everyone changes their own details and may leave.
    "member.edit_self": EVERY_MEMBER,
    "member.leave": EVERY_MEMBER,
    # Address and phone: the family, unless a parent keeps theirs from the other parents.
    "member.contact": PARENTS | YOUNG_PEOPLE,
    "member.join": EVERY_MEMBER,
    # "Wie keek mee?": parents and young people of 12+ see who looked at the family's data.
    "audit.view": PARENTS | YOUNG_PEOPLE,
    # Guests: who may see, invite, approve, renew and revoke them. The services add the finer
    # rules (a young person of 16+ invites for their own data only; approvers follow age rules).
    "grant.list": PARENTS | YOUNG_PEOPLE,
    "grant.view": PARENTS | YOUNG_PEOPLE,
    "grant.create": frozenset({PARENT_WITH_AUTHORITY, YOUNG_16_17, YOUNG_ADULT}),
    "grant.revoke": frozenset({PARENT_WITH_AUTHORITY, YOUNG_16_17, YOUNG_ADULT}),
    "grant.renew": frozenset({PARENT_WITH_AUTHORITY, YOUNG_16_17, YOUNG_ADULT}),
    "grant.approve": frozenset({PARENT_WITH_AUTHORITY}) | YOUNG_PEOPLE,
    "grant.deny": frozenset({PARENT_WITH_AUTHORITY}) | YOUNG_PEOPLE,
    # The parts of the family's space. Guests reach these only through a grant (below).
    "plan.view": EVERY_MEMBER,
    "plan.edit": PARENTS | YOUNG_PEOPLE,
    # A gedragen plan: the family proposes a version; everyone required signs it off (the
    # service checks who must sign: parents with authority, young people 12+, guests who write).
    "plan.propose": PARENTS | YOUNG_PEOPLE,
    "plan.signoff": EVERY_MEMBER,
    # Marking a young person "doet niet mee" (with a reason everyone sees), so that the plan
    # can be agreed without their signature: a parent with authority only.
    "plan.excuse": frozenset({PARENT_WITH_AUTHORITY}),
    "dossier.view": PARENTS | YOUNG_PEOPLE,
    "dossier.edit": PARENTS | YOUNG_PEOPLE,
    "dossier.change": PARENTS | YOUNG_PEOPLE,
    # Messaging: the family decides who is in a conversation; only participants see it.
    "conversation.list": EVERY_MEMBER,
    "conversation.create": PARENTS | YOUNG_PEOPLE,
    # Adding or removing people: the family members who may start conversations, from inside.
    "conversation.manage": PARENTS | YOUNG_PEOPLE,
    # A new topic for a conversation: as adding people, the family's from inside.
    "conversation.rename": PARENTS | YOUNG_PEOPLE,
    # Leaving a conversation yourself: anyone in it (also a guest); the family can add them again.
    "conversation.leave": EVERY_MEMBER,
    "message.view": EVERY_MEMBER,
    "message.send": EVERY_MEMBER,
    # Changing or deleting a message: who may send there, and only their own (AUTHOR_ACTIONS).
    "message.change": EVERY_MEMBER,
}

# action -> (part, level) a guest's grant must hold. "write" includes "read".
PART_ACTIONS: dict[str, tuple[str, str]] = {
    "plan.view": ("plan", LEVEL_READ),
    "plan.edit": ("plan", LEVEL_WRITE),
    "plan.signoff": ("plan", LEVEL_READ),
    "dossier.view": ("dossier", LEVEL_READ),
    "dossier.edit": ("dossier", LEVEL_WRITE),
    "dossier.change": ("dossier", LEVEL_WRITE),
    "conversation.list": ("messages", LEVEL_READ),
    "conversation.leave": ("messages", LEVEL_READ),
    "message.view": ("messages", LEVEL_READ),
    "message.send": ("messages", LEVEL_WRITE),
    "message.change": ("messages", LEVEL_WRITE),
}
# Changing or taking out a dossier entry or a message: its author only (nobody edits someone
# else's words).
AUTHOR_ACTIONS = frozenset({"dossier.change", "message.change"})
# Actions on a conversation that also need the actor to be one of its participants.
PARTICIPANT_ACTIONS = frozenset(
    {
        "message.view",
        "message.send",
        "conversation.manage",
        "conversation.rename",
        "conversation.leave",
    }
)
# What any active grant allows: seeing the family's name and what was granted.
GUEST_ACTIONS = frozenset({"family.view"})
GUEST = "guest"
FORMER_GUEST = "former_guest"


# Built once: constructing a statement costs about as much as running it (SQLite, ~150 µs), and
# this one runs on nearly every request.
_MEMBERSHIP = select(Member).where(
    Member.family_id == bindparam("family_id"),
    Member.user_id == bindparam("user_id"),
    Member.removed_at.is_(None),
)


@dataclass
class Actor:
    """Who is asking, from where. Memberships and grants are looked up once per request."""

    user: User | None
    address: str | None = None
    _memberships: dict[int, Member | None] = field(default_factory=dict)
    _grants: dict[int, list[Grant]] = field(default_factory=dict)
    _conversations: dict[int, bool] = field(default_factory=dict)

    def preload(
        self,
        family_id: int,
        member: Member | None,
        conversation_id: int | None = None,
        in_conversation: bool | None = None,
    ) -> None:
        """Facts a caller read in its own (joined) query, so decide() needs no query of its own.
        The caller must have read them with the same conditions as `membership()` and
        `in_conversation()` (not removed), in this request."""
        self._memberships.setdefault(family_id, member)
        if conversation_id is not None and in_conversation is not None:
            self._conversations.setdefault(conversation_id, in_conversation)

    def preload_grants(self, family_id: int, grants: list[Grant]) -> None:
        """This user's grants in the family, newest first, as a caller read them in a batch (the
        live layer deciding for many people at once)."""
        self._grants.setdefault(family_id, sorted(grants, key=lambda g: g.id, reverse=True))

    def in_conversation(self, conversation_id: int) -> bool:
        if self.user is None:
            return False
        if conversation_id not in self._conversations:
            from portal.messaging.models import Participant

            self._conversations[conversation_id] = (
                db.session.scalar(
                    select(Participant.user_id).where(
                        Participant.conversation_id == conversation_id,
                        Participant.user_id == self.user.id,
                        Participant.removed_at.is_(None),
                    )
                )
                is not None
            )
        return self._conversations[conversation_id]

    def grants(self, family_id: int) -> list[Grant]:
        """Every grant this user ever had in the family, newest first (any state)."""
        if self.user is None:
            return []
        if family_id not in self._grants:
            self._grants[family_id] = list(
                db.session.scalars(
                    select(Grant)
                    .where(Grant.family_id == family_id, Grant.grantee_id == self.user.id)
                    .order_by(Grant.id.desc())
                )
            )
        return self._grants[family_id]

    @property
    def name(self) -> str:
        return self.user.display_name if self.user else "anoniem"

    def knows_membership(self, family_id: int) -> bool:
        """Whether this request has already read the user's membership of the family."""
        return family_id in self._memberships

    def membership(self, family_id: int) -> Member | None:
        if self.user is None:
            return None
        if family_id not in self._memberships:
            self._memberships[family_id] = db.session.scalar(
                _MEMBERSHIP, {"family_id": family_id, "user_id": self.user.id}
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


Resource = (
    Family
    | Member
    | Grant
    | Plan
    | DossierEntry
    | Conversation
    | Message
    | Goal
    | Agreement
    | NetworkPetal
    | SafetyPlan
    | Evaluation
)


def family_id_of(resource: Resource) -> int:
    return resource.id if isinstance(resource, Family) else resource.family_id


def role_of(member: Member, day: date) -> str:
    if member.role == ROLE_PARENT:
        return PARENT_WITH_AUTHORITY if member.has_authority else PARENT
    if member.role == ROLE_PARTNER:
        return PARTNER
    if member.role == ROLE_YOUNG_PERSON:
        if member.birth_date is None:
            return YOUNG_UNDER_12  # unknown age: the most protective band
        return f"young_person_{band_for(member.birth_date, day).key}"
    if member.role == ROLE_NETWORK:
        return NETWORK
    return "none"


def grant_state(grant: Grant, now: datetime) -> str:
    """The grant's state by the server clock: active, pending, expired, revoked, ..."""
    if grant.revoked_at is not None and grant.revoked_at <= now:
        return "revoked"
    if grant.denied_at is not None:
        return "denied"
    if grant.withdrawn_at is not None:
        return "withdrawn"
    if grant.expires_at <= now:
        return "expired"
    if grant.accepted_at is None or grant.approved_at is None:
        return "pending"
    if grant.valid_from > now:
        return "not_yet_valid"
    return "active"


def _decide_for_guest(actor: Actor, action: str, family_id: int) -> Decision:
    grants = actor.grants(family_id)
    if not grants:
        return Decision(False, "none", "none", "no_relation")
    now = clock.now()
    active = [g for g in grants if grant_state(g, now) == "active"]
    if not active:
        # A former (or future) guest knows the family exists: say why, show nothing.
        latest = grants[0]
        return Decision(
            False,
            f"grant:{latest.id}",
            FORMER_GUEST,
            f"grant_{grant_state(latest, now)}",
            hide=False,
        )
    if action in GUEST_ACTIONS:
        return Decision(True, f"grant:{active[0].id}", GUEST, "grant_active", hide=False)
    needed = PART_ACTIONS.get(action)
    if needed is not None:
        part, level = needed
        for grant in active:
            held = grant.level_for(part)
            if held == LEVEL_WRITE or (held == LEVEL_READ and level == LEVEL_READ):
                return Decision(
                    True, f"grant:{grant.id}", GUEST, f"grant_{part}_{held}", hide=False
                )
        reason = "part_read_only" if any(g.level_for(part) for g in active) else "part_not_granted"
        return Decision(False, f"grant:{active[0].id}", GUEST, reason, hide=False)
    return Decision(False, f"grant:{active[0].id}", GUEST, "not_for_guests", hide=False)


def _entry_visible(actor: Actor, role: str, entry: DossierEntry) -> bool:
    """Who besides its author may read a dossier entry (its visibility, chosen by the author)."""
    return dossier_text_visible(actor, role, entry.author_id, entry.visibility)


def dossier_text_visible(actor: Actor, role: str, author_id: int | None, visibility: str) -> bool:
    """The same rule for one version of an entry's text: an earlier version keeps the
    visibility it was written with (a text once kept from the parents stays kept from them,
    also in the history of an entry that is shared with them now)."""
    if actor.user is not None and author_id == actor.user.id:
        return True
    if visibility == "all":
        return True
    if visibility == "family":
        return role not in (GUEST, FORMER_GUEST)
    if visibility == "parents":
        return role in PARENTS
    if visibility == "no_parents":
        return role not in PARENTS
    return False  # "me", or anything unknown: the author only


def _mine(actor: Actor, resource: DossierEntry | Message) -> bool:
    return actor.user is not None and resource.author_id == actor.user.id


def decide(actor: Actor, action: str, resource: Resource) -> Decision:
    decision = _decide(actor, action, resource)
    if (
        decision.allowed
        and isinstance(resource, DossierEntry)
        and (resource.deleted_at is not None or not _entry_visible(actor, decision.role, resource))
    ):
        # An entry kept from this person does not exist for them.
        return Decision(False, decision.basis, decision.role, "entry_private")
    if isinstance(resource, Member) and action in MEMBER_ACTIONS:
        from portal.access.member_rules import decide_on_member

        return decide_on_member(actor, action, resource, decision)
    if (
        decision.allowed
        and isinstance(resource, Message)
        and not actor.in_conversation(resource.conversation_id)
    ):
        # A message of a conversation this person is not in does not exist for them.
        return Decision(False, decision.basis, decision.role, "not_in_conversation")
    if (
        decision.allowed
        and action in AUTHOR_ACTIONS
        and isinstance(resource, DossierEntry | Message)
        and not _mine(actor, resource)
    ):
        return Decision(False, decision.basis, decision.role, "not_author", hide=False)
    if (
        decision.allowed
        and action in PARTICIPANT_ACTIONS
        and isinstance(resource, Conversation)
        and not actor.in_conversation(resource.id)
    ):
        # Not one of its participants: the conversation does not exist for this person.
        return Decision(False, decision.basis, decision.role, "not_in_conversation")
    return decision


# Actions on one member that depend on who that member is (portal/access/member_rules.py).
MEMBER_ACTIONS = frozenset(
    {
        "member.edit",
        "member.remove",
        "member.invite",
        "member.birth_date",
        "member.authority",
        "member.edit_self",
        "member.leave",
        "member.contact",
    }
)


def _decide(actor: Actor, action: str, resource: Resource) -> Decision:
    if actor.user is None:
        return Decision(False, "none", "anonymous", "not_signed_in")
    member = actor.membership(family_id_of(resource))
    if member is None:
        return _decide_for_guest(actor, action, family_id_of(resource))
    role = role_of(member, clock.today())
    basis = f"membership:{member.id}"
    allowed_roles = RULES.get(action)
    if allowed_roles is None:
        return Decision(False, basis, role, "unknown_action", hide=False)
    if role not in allowed_roles:
        return Decision(False, basis, role, "role_not_allowed", hide=False)
    return Decision(True, basis, role, "role_allowed", hide=False)
