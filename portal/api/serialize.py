"""JSON shapes of the API's objects (documented in openapi.py)."""

from __future__ import annotations

from typing import Any

from portal.access.age import age_on
from portal.access.describe import describe
from portal.access.models import AuditEvent, Grant
from portal.api.common import iso
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member


def user_json(user: User) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "kind": user.kind,
        "locale": user.locale,
        "email_verified": user.email_verified_at is not None,
        "totp_enabled": user.totp_enabled,
        "message_mail": user.message_mail,
        # Professionals' reads are always shown to the family.
        "send_read_receipts": user.is_professional or user.send_read_receipts,
    }
    if user.is_professional:
        body.update(
            profession=user.profession,
            organisation=user.organisation,
            register_number=user.register_number,
        )
    return body


def family_json(family: Family, my_role: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": family.id,
        "name": family.name,
        "created_at": iso(family.created_at),
        "version": family.version,
    }
    if my_role is not None:
        body["my_role"] = my_role
    return body


def member_json(member: Member, *, full: bool, contact: bool = False) -> dict[str, Any]:
    """What the members page shows everyone; with `full` (those who may edit the member) also
    the birth date and e-mail address, as on the edit form; with `contact` (the policy's
    member.contact) the address and phone."""
    from portal.access import authority
    from portal.access.member_rules import member_kind

    body: dict[str, Any] = {
        "id": member.id,
        "family_id": member.family_id,
        "role": member.role,
        "kind": member_kind(member, clock.today()),
        "display_name": member.display_name,
        "age": age_on(member.birth_date, clock.today()) if member.birth_date else None,
        "has_authority": member.has_authority,
        "household": member.household,
        "relation": member.relation,
        "has_login": member.has_login,
        "invitation_pending": member.invitation_pending,
        "version": member.version,
    }
    if member.role == ROLE_YOUNG_PERSON:
        body["authority_holders"] = [
            m.id for m in authority.authority_holders(member.family_id, member.id)
        ]
    elif member.role == ROLE_PARENT:
        body["authority_over"] = authority.children_of(member.id)
    if contact:
        body.update(address=member.address, phone=member.phone)
    if full:
        body.update(
            contact_private=member.contact_private,
            birth_date=iso(member.birth_date),
            email=member.email,
            invited_at=iso(member.invited_at),
            joined_at=iso(member.joined_at),
        )
    return body


def audit_json(event: AuditEvent) -> dict[str, Any]:
    """One row of "Wie keek mee?": what the page shows, plus machine-readable keys. Like the page,
    it leaves out the client's network address."""
    return {
        "id": event.id,
        "at": iso(event.at),
        "actor": {
            "user_id": event.actor_user_id,
            "name": event.actor_name,
            "role": event.actor_role,
            "organisation": event.organisation,
        },
        "basis": event.basis,
        "action": event.action,
        "object": {"type": event.object_type, "id": event.object_id},
        "outcome": event.outcome,
        "reason": event.reason,
        "count": event.count,
        "text": describe(event),
    }


def grant_json(grant: Grant, state: str) -> dict[str, Any]:
    return {
        "id": grant.id,
        "family_id": grant.family_id,
        "state": state,
        "origin": grant.origin,
        "grantee_id": grant.grantee_id,
        "invited_email": grant.invited_email,
        "purpose": grant.purpose,
        "subject_member_id": grant.subject_member_id,
        "parts": {p.part: p.level for p in grant.parts},
        "valid_from": iso(grant.valid_from),
        "expires_at": iso(grant.expires_at),
        "accepted_at": iso(grant.accepted_at),
        "approved_at": iso(grant.approved_at),
        "revoked_at": iso(grant.revoked_at),
        "renewal_requested_at": iso(grant.renewal_requested_at),
        "version": grant.version,
    }


def own_grant_json(grant: Grant, state: str, family: Family | None) -> dict[str, Any]:
    """A professional's view of their own grant; an ended one carries no family data."""
    if family is None:
        ended = grant.revoked_at or grant.denied_at or grant.withdrawn_at or grant.expires_at
        return {"id": grant.id, "state": state, "ended_at": iso(ended), "purpose": grant.purpose}
    return {
        **grant_json(grant, state),
        "family": {"id": family.id, "name": family.name},
    }


def conversation_json(conversation: Any, unread: int, people: list[Any]) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "family_id": conversation.family_id,
        "topic": conversation.topic,
        "created_at": iso(conversation.created_at),
        "active_at": iso(conversation.active_at),
        "last_seq": conversation.last_seq,
        "unread": unread,
        "participants": [
            {"user_id": user.id, "name": user.display_name, "last_read_seq": read}
            for user, read in people
        ],
    }


def file_json(stored: Any) -> dict[str, Any]:
    return {
        "id": stored.id,
        "name": stored.name,
        "content_type": stored.content_type,
        "size": stored.size,
        "uploaded_by": stored.uploader_name,
        "at": iso(stored.created_at),
        "url": f"/api/v1/families/{stored.family_id}/files/{stored.id}",
        "preview": (
            {
                "url": f"/api/v1/families/{stored.family_id}/files/{stored.id}/preview",
                "width": stored.preview_width,
                "height": stored.preview_height,
            }
            if stored.preview_width is not None
            else None
        ),
    }


QUOTE_LENGTH = 140


def quote_json(quoted: Any) -> dict[str, Any] | None:
    """What a reply shows of the message it answers: who, and the start of the text."""
    if quoted is None:
        return None
    deleted = quoted.deleted_at is not None
    text = "" if deleted else quoted.body
    return {
        "seq": quoted.seq,
        "author_name": quoted.author_name,
        "excerpt": text[:QUOTE_LENGTH] + ("…" if len(text) > QUOTE_LENGTH else ""),
        "deleted": deleted,
    }


def message_json(message: Any, attachments: Any = (), quoted: Any = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "family_id": message.family_id,
        "seq": message.seq,
        "author_id": message.author_id,
        "author_name": message.author_name,
        "body": message.body,
        "at": iso(message.created_at),
        "reply_to_seq": message.reply_to_seq,
        "client_key": message.client_key,
        "edited_at": iso(message.edited_at),
        "deleted": message.deleted_at is not None,
        "reply_to": quote_json(quoted),
        "attachments": [] if message.deleted_at else [file_json(f) for f in attachments],
    }


def goal_json(goal: Any, scores: list[Any]) -> dict[str, Any]:
    return {
        "id": goal.id,
        "title": goal.title,
        "description": goal.description,
        "owner": goal.owner,
        "phase": goal.phase,
        "scores": [{"score": s.score, "on": iso(s.scored_on), "by": s.by_name} for s in scores],
        "updated_at": iso(goal.updated_at),
        "version": goal.version,
    }


def agreement_json(agreement: Any) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "what": agreement.what,
        "owner_name": agreement.owner_name,
        "owner_user_id": agreement.owner_user_id,
        "due_on": iso(agreement.due_on),
        "done": agreement.done_at is not None,
        "goal_id": agreement.goal_id,
        "owner_petal_id": agreement.owner_petal_id,
        "version": agreement.version,
    }
