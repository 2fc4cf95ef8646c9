"""Who may receive something now: the policy decided for many people at once.

The live layer asks this inside the transaction that makes a change, so an event goes only to
the people allowed at that moment (never to a socket on the strength of an earlier check), and
its safety sweep asks it for every subscribed (person, family) pair in one go. The facts come from
a few batched queries; decide() then runs in memory for each person."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import lazyload

from portal import db
from portal.access.models import Grant
from portal.access.policy import Actor, Decision, Resource, decide
from portal.auth.models import User, UserSession
from portal.core import clock
from portal.family.models import Member
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


def allowed_people(
    family_id: int,
    user_ids: Iterable[int],
    action: str,
    resource: Resource,
    prepare: Callable[[Actor], None] | None = None,
) -> list[int]:
    """Which of these people the policy lets do `action` on `resource` now (`prepare` adds
    facts the caller proved for all of them, such as taking part in a conversation)."""
    allowed = []
    for (user_id, _), actor in sorted(actors((u, family_id) for u in user_ids).items()):
        if prepare is not None:
            prepare(actor)
        decision: Decision = decide(actor, action, resource)
        if decision.allowed:
            allowed.append(user_id)
    return allowed


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
            actor.preload(family_id, member, conversation.id, True)
            if member is None:
                actor.preload_grants(family_id, grants.get(user.id, []))
            allowed[user.id] = decide(actor, "message.view", conversation).allowed
        if allowed[user.id]:
            readers.append((user.id, session_hash))
    return readers
