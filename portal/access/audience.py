"""Who may receive something now: the policy decided for many people at once.

The live layer asks this inside the transaction that makes a change, so an event goes only to
the people allowed at that moment (never to a socket on the strength of an earlier check), and
its safety sweep asks it for every subscribed (person, family) pair in one go. The facts come from
a few batched queries; decide() then runs in memory for each person."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam, select, tuple_, union
from sqlalchemy.orm import aliased

from portal import db
from portal.access.models import Grant
from portal.access.policy import Actor, Decision, decide
from portal.auth.models import User, UserSession
from portal.core import clock
from portal.family.models import Family, Member
from portal.messaging.models import Conversation, Participant


def pair_actors(
    pairs: Iterable[tuple[int, int]],
) -> tuple[dict[tuple[int, int], tuple[object, ...]], dict[tuple[object, ...], Actor]]:
    """For (user id, family id) pairs: a key per pair, and an actor per key, with the facts the
    policy decides on (a membership's role, authority and birth date; a guest's grants) read for
    all pairs in one query (two with guests). Pairs of members alike in those facts share a key,
    so a caller decides once per key, not once per pair."""
    wanted = set(pairs)
    if not wanted:
        return {}, {}
    members: dict[tuple[int | None, int], tuple[Any, ...]] = {
        (user_id, family_id): tuple(facts)
        for user_id, family_id, *facts in _rows(_PAIR_MEMBERS, {"pairs": list(wanted)})
    }
    guests = {pair for pair in wanted if pair not in members}
    grants: dict[tuple[int, int], list[Grant]] = {}
    if guests:
        for grant in db.session.scalars(
            select(Grant).where(tuple_(Grant.grantee_id, Grant.family_id).in_(guests))
        ):
            if grant.grantee_id is not None:
                grants.setdefault((grant.grantee_id, grant.family_id), []).append(grant)
    keys: dict[tuple[int, int], tuple[object, ...]] = {}
    found: dict[tuple[object, ...], Actor] = {}
    for user_id, family_id in wanted:
        facts = members.get((user_id, family_id))
        key: tuple[object, ...] = (
            ("guest", user_id, family_id) if facts is None else (family_id, *facts[1:])
        )
        keys[(user_id, family_id)] = key
        if key not in found:
            member = None if facts is None else _member(user_id, family_id, *facts)
            actor = Actor(user=User(id=user_id))
            actor.preload(family_id, member)
            if member is None:
                actor.preload_grants(family_id, grants.get((user_id, family_id), []))
            found[key] = actor
    return keys, found


def _member(
    user_id: int, family_id: int, member_id: int, role: str, has_authority: bool, birth: Any
) -> Member:
    """A membership's facts as the policy reads them; never added to the session."""
    return Member(
        id=member_id,
        family_id=family_id,
        user_id=user_id,
        role=role,
        has_authority=has_authority,
        birth_date=birth,
    )


# Built once (constructing a statement costs about as much as running it): for each live
# sign-in of each participant, the facts the policy decides a member's access on, or NULLs for
# someone who is not a member (a guest, decided on their grants).
_LIVE_SESSION = (
    (UserSession.user_id == Participant.user_id)
    & UserSession.revoked_at.is_(None)
    & (UserSession.expires_at > bindparam("now", type_=UserSession.__table__.c.expires_at.type))
)
_MEMBER_FACTS = (Member.id, Member.role, Member.has_authority, Member.birth_date)
# The memberships, not removed, of (user id, family id) pairs.
_PAIR_MEMBERS = select(Member.user_id, Member.family_id, *_MEMBER_FACTS).where(
    tuple_(Member.user_id, Member.family_id).in_(bindparam("pairs", expanding=True)),
    Member.removed_at.is_(None),
)
_CONVERSATION_READERS = (
    select(Participant.user_id, UserSession.token_hash, *_MEMBER_FACTS)
    .join(UserSession, _LIVE_SESSION)
    .outerjoin(
        Member,
        (Member.user_id == Participant.user_id)
        & (Member.family_id == bindparam("family_id"))
        & Member.removed_at.is_(None),
    )
    .where(
        Participant.conversation_id == bindparam("conversation_id"),
        Participant.removed_at.is_(None),
    )
)


def conversation_readers(conversation: Conversation) -> list[tuple[int, str]]:
    """The sign-ins (user id, session hash) of the people in this conversation who may read it
    now: participants, their live sign-ins and memberships in one query, their grants in a
    second only when a guest takes part. Per sign-in, so that a sign-out that committed before
    this transaction leaves that sign-in's sockets out, whichever instance holds them."""
    rows = _rows(
        _CONVERSATION_READERS,
        {
            "now": clock.now(),
            "family_id": conversation.family_id,
            "conversation_id": conversation.id,
        },
    )
    return _decided(
        conversation.family_id,
        rows,
        lambda actor: decide(actor, "message.view", conversation),
        conversation.id,
    )


# The family's people: its members with a login, and the guests with a grant neither revoked
# nor expired (whether it gives this part, the policy decides). A subquery of its own, so that
# the live sign-ins are looked up for these people only, not read for the whole portal.
_MEMBER_OF_FAMILY = aliased(Member)
_FAMILY_PEOPLE = union(
    select(_MEMBER_OF_FAMILY.user_id).where(
        _MEMBER_OF_FAMILY.family_id == bindparam("family_id"),
        _MEMBER_OF_FAMILY.removed_at.is_(None),
        _MEMBER_OF_FAMILY.user_id.is_not(None),
    ),
    select(Grant.grantee_id).where(
        Grant.family_id == bindparam("family_id"),
        Grant.grantee_id.is_not(None),
        Grant.revoked_at.is_(None),
        Grant.expires_at > bindparam("now"),
    ),
)
_FAMILY_READERS = (
    select(UserSession.user_id, UserSession.token_hash, *_MEMBER_FACTS)
    .outerjoin(
        Member,
        (Member.user_id == UserSession.user_id)
        & (Member.family_id == bindparam("family_id"))
        & Member.removed_at.is_(None),
    )
    .where(
        UserSession.user_id.in_(_FAMILY_PEOPLE),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
    )
)


def family_readers(family: Family, action: str) -> list[tuple[int, str]]:
    """The sign-ins (user id, session hash) of the people who may do `action` (a part's view)
    on the family now: its members and its guests with a grant not revoked or expired, with
    their live sign-ins, in one query; the guests' grants in a second."""
    rows = _rows(_FAMILY_READERS, {"now": clock.now(), "family_id": family.id})
    return _decided(family.id, rows, lambda actor: decide(actor, action, family))


def _rows(statement: Any, params: dict[str, Any]) -> Any:
    """Plain rows of a prebuilt statement, on the session's connection (this transaction): the
    ORM's per-statement work is not needed for columns, and this runs for every live event."""
    return db.session.connection().execute(statement, params).all()


def _decided(
    family_id: int,
    rows: Any,
    allows: Callable[[Actor], Decision],
    conversation_id: int | None = None,
) -> list[tuple[int, str]]:
    """Keep the rows (user id, session hash, member facts or NULLs) of the people the policy
    allows. decide() reads a member's role from role, authority and birth date (role_of), so it
    runs once per distinct set of those facts, not once per person: a conversation of 200
    members asks it a handful of times. A guest is decided on their own grants."""
    guests = {user_id for user_id, _, member_id, *_ in rows if member_id is None}
    grants: dict[int, list[Grant]] = {}
    if guests:
        for grant in db.session.scalars(
            select(Grant).where(Grant.family_id == family_id, Grant.grantee_id.in_(guests))
        ):
            if grant.grantee_id is not None:
                grants.setdefault(grant.grantee_id, []).append(grant)
    decided: dict[tuple[object, ...], bool] = {}
    readers = []
    for user_id, session_hash, member_id, role, has_authority, birth_date in rows:
        key: tuple[object, ...] = (
            ("guest", user_id) if member_id is None else (role, has_authority, birth_date)
        )
        if key not in decided:
            # Facts only, not rows to save: these objects never join the session.
            actor = Actor(user=User(id=user_id))
            member = (
                None
                if member_id is None
                else _member(user_id, family_id, member_id, role, has_authority, birth_date)
            )
            actor.preload(family_id, member, conversation_id, True if conversation_id else None)
            if member is None:
                actor.preload_grants(family_id, grants.get(user_id, []))
            decided[key] = allows(actor).allowed
        if decided[key]:
            readers.append((user_id, session_hash))
    return readers
