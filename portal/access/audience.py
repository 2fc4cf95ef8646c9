"""Who may receive something now: the policy decided for many people at once.

The live layer asks this inside the transaction that makes a change, so an event goes only to
the people allowed at that moment (never to a socket on the strength of an earlier check), and
its safety sweep asks it for every subscribed (person, family) pair in one go. The facts come from
a few batched queries; decide() then runs in memory for each person."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import lazyload

from portal import db
from portal.access.models import Grant
from portal.access.policy import Actor, Decision, decide
from portal.auth.models import User, UserSession
from portal.core import clock
from portal.family.models import Family, Member
from portal.messaging.models import Conversation, Participant


def actors(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Actor]:
    """An actor per (user id, family id) pair, with their membership and grants of that family
    read in three queries for all pairs together (users, memberships, grants)."""
    wanted = set(pairs)
    if not wanted:
        return {}
    user_ids = {user_id for user_id, _ in wanted}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    members = {
        (m.user_id, m.family_id): m
        for m in db.session.scalars(
            select(Member).where(
                tuple_(Member.user_id, Member.family_id).in_(wanted), Member.removed_at.is_(None)
            )
        )
    }
    guests = {pair for pair in wanted if pair not in members}
    grants: dict[tuple[int, int], list[Grant]] = {}
    if guests:
        for grant in db.session.scalars(
            select(Grant).where(tuple_(Grant.grantee_id, Grant.family_id).in_(guests))
        ):
            if grant.grantee_id is not None:
                grants.setdefault((grant.grantee_id, grant.family_id), []).append(grant)
    found: dict[tuple[int, int], Actor] = {}
    for user_id, family_id in wanted:
        user = users.get(user_id)
        if user is None:
            continue
        actor = Actor(user=user)
        actor.preload(family_id, members.get((user_id, family_id)))
        actor.preload_grants(family_id, grants.get((user_id, family_id), []))
        found[(user_id, family_id)] = actor
    return found


def conversation_readers(conversation: Conversation) -> list[tuple[int, str]]:
    """The sign-ins (user id, session hash) of the people in this conversation who may read it
    now. Participants, their memberships and their live sessions come in one query, their grants
    in a second only when a guest takes part. Per sign-in, so that a sign-out that committed
    before this transaction leaves that sign-in's sockets out, whichever instance holds them."""
    family_id = conversation.family_id
    rows = db.session.execute(
        select(User, Member, UserSession.token_hash)
        .join(Participant, Participant.user_id == User.id)
        .join(
            UserSession,
            (UserSession.user_id == User.id)
            & UserSession.revoked_at.is_(None)
            & (UserSession.expires_at > clock.now()),
        )
        .outerjoin(
            Member,
            (Member.user_id == User.id)
            & (Member.family_id == family_id)
            & Member.removed_at.is_(None),
        )
        .where(Participant.conversation_id == conversation.id, Participant.removed_at.is_(None))
        .options(lazyload(Member.user))
    ).all()
    return _decided(
        family_id,
        rows,
        lambda actor: decide(actor, "message.view", conversation),
        conversation.id,
    )


def family_readers(family: Family, action: str) -> list[tuple[int, str]]:
    """The sign-ins (user id, session hash) of the people who may do `action` (a part's view)
    on the family now: its members and its guests with a grant not revoked or expired, with
    their live sessions, in one query; the guests' grants in a second."""
    now = clock.now()
    guests = select(Grant.grantee_id).where(
        Grant.family_id == family.id, Grant.revoked_at.is_(None), Grant.expires_at > now
    )
    rows = db.session.execute(
        select(User, Member, UserSession.token_hash)
        .join(
            UserSession,
            (UserSession.user_id == User.id)
            & UserSession.revoked_at.is_(None)
            & (UserSession.expires_at > now),
        )
        .outerjoin(
            Member,
            (Member.user_id == User.id)
            & (Member.family_id == family.id)
            & Member.removed_at.is_(None),
        )
        .where(or_(Member.id.is_not(None), User.id.in_(guests)))
        .options(lazyload(Member.user))
    ).all()
    return _decided(family.id, rows, lambda actor: decide(actor, action, family))


def _decided(
    family_id: int,
    rows: Any,
    allows: Callable[[Actor], Decision],
    conversation_id: int | None = None,
) -> list[tuple[int, str]]:
    """Decide once per person for rows of (user, membership or None, session hash)."""
    guests = {user.id for user, member, _ in rows if member is None}
    grants: dict[int, list[Grant]] = {}
    if guests:
        for grant in db.session.scalars(
            select(Grant).where(Grant.family_id == family_id, Grant.grantee_id.in_(guests))
        ):
            if grant.grantee_id is not None:
                grants.setdefault(grant.grantee_id, []).append(grant)
    allowed: dict[int, bool] = {}
    readers = []
    for user, member, session_hash in rows:
        if user.id not in allowed:
            actor = Actor(user=user)
            actor.preload(family_id, member, conversation_id, True if conversation_id else None)
            if member is None:
                actor.preload_grants(family_id, grants.get(user.id, []))
            allowed[user.id] = allows(actor).allowed
        if allowed[user.id]:
            readers.append((user.id, session_hash))
    return readers
