"""What may be done to one member depends on who that member is: the policy's rules for
member.* actions on a Member (called from decide()), and the words for what a member is."""

from __future__ import annotations

from datetime import date

from portal.access.authority import has_authority_over
from portal.access.policy import (
    NETWORK,
    PARENT,
    PARENT_WITH_AUTHORITY,
    PARENTS,
    PARTNER,
    YOUNG_UNDER_12,
    Actor,
    Decision,
    role_of,
)
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Member

# What a member is, in words the pages and the API share (kind_labels in member_views).
KIND_PARENT_WITH_AUTHORITY = "parent_with_authority"
KIND_PARENT_WITHOUT_AUTHORITY = "parent_without_authority"
KIND_PARTNER = "partner"
KIND_YOUNG_PERSON = "young_person"  # 12 and older
KIND_CHILD = "child"  # under 12 (or no birth date known)
KIND_NETWORK = "network"
KINDS = (
    KIND_PARENT_WITH_AUTHORITY,
    KIND_PARENT_WITHOUT_AUTHORITY,
    KIND_PARTNER,
    KIND_YOUNG_PERSON,
    KIND_CHILD,
    KIND_NETWORK,
)


def member_kind(member: Member, day: date) -> str:
    """ouder met gezag, ouder zonder gezag, partner/stiefouder, jongere, kind or netwerk."""
    role = role_of(member, day)
    return {
        PARENT_WITH_AUTHORITY: KIND_PARENT_WITH_AUTHORITY,
        PARENT: KIND_PARENT_WITHOUT_AUTHORITY,
        PARTNER: KIND_PARTNER,
        YOUNG_UNDER_12: KIND_CHILD,
        NETWORK: KIND_NETWORK,
    }.get(role, KIND_YOUNG_PERSON)


SELF_ACTIONS = frozenset({"member.edit_self", "member.leave"})


def decide_on_member(actor: Actor, action: str, target: Member, decision: Decision) -> Decision:
    if action == "member.authority":
        return Decision(False, decision.basis, decision.role, "operator_only", decision.hide)
    if not decision.allowed:
        return decision
    me = actor.membership(target.family_id)
    if me is None:  # allowed by role means a member; never by a grant
        return _no(decision, "not_a_member")
    mine = me.id == target.id
    if action in SELF_ACTIONS:
        return decision if mine else _no(decision, "not_yourself")
    if action == "member.contact":
        hidden = target.contact_private and decision.role in PARENTS
        return _no(decision, "kept_from_other_parents") if hidden and not mine else decision
    if mine:
        # One's own details go through edit_self; leaving is not removing; one's own birth date
        # (a young person's rights follow it) is the operator's.
        return _no(decision, "operator_only" if action == "member.birth_date" else "use_own_page")
    reason = member_target_reason(me, action, target)
    return _no(decision, reason) if reason else decision


def member_target_reason(me: Member, action: str, target: Member) -> str | None:
    """Why a parent with authority may not do `action` to another member, or None if they may.

    - a parent with authority is never changed or removed by anyone else; an invitation to one
      that was not accepted yet is withdrawn (or changed) by the one who sent it;
    - a young person who joined leaves only themself; their birth date is the operator's;
    - a child is changed by the parents with authority over that child;
    - the family's creator has no special power (nothing here looks at who made the family).
    """
    joined = target.user_id is not None
    if target.role == ROLE_PARENT and target.has_authority:
        if joined:
            return "other_parent_with_authority"
        return None if target.added_by_id == me.user_id else "not_your_invitation"
    if target.role == ROLE_YOUNG_PERSON:
        if joined and action in ("member.remove", "member.birth_date"):
            return "young_person_decides" if action == "member.remove" else "operator_only"
        return None if has_authority_over(me.id, target.id) else "no_authority_over_child"
    if joined and action == "member.birth_date":
        return "their_own_details"
    return None


def _no(decision: Decision, reason: str) -> Decision:
    return Decision(False, decision.basis, decision.role, reason, hide=False)
