"""Request-side use of the policy: build the actor, decide, audit, and refuse with 404 or 403."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import abort, g, has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, bindparam, select
from werkzeug.exceptions import HTTPException

from portal import db
from portal.access import audit, repeats
from portal.access.models import Grant
from portal.access.policy import Actor, Decision, Resource, decide, family_id_of
from portal.dossier.models import DossierEntry
from portal.family.models import Agreement, Evaluation, Family, Goal, Member, NetworkPetal
from portal.messaging.models import Conversation


def current_actor() -> Actor:
    if "actor" not in g:
        user = current_user if current_user.is_authenticated else None
        g.actor = Actor(user=user, address=request.remote_addr)
    actor: Actor = g.actor
    return actor


def may(action: str, resource: Resource) -> bool:
    """Whether the signed-in person may do `action` on `resource`: for what a page offers
    (an edit link, a form). Writes no log row; the access itself is decided by `authorize`."""
    return decide(current_actor(), action, resource).allowed


def audit_values(
    actor: Actor,
    action: str,
    decision: Decision,
    *,
    family_id: int | None,
    object_type: str,
    object_id: str | None,
) -> dict[str, Any]:
    """What the log says of this decision (the arguments of audit.row / audit.write)."""
    user = actor.user
    return {
        "family_id": family_id,
        "actor_user_id": user.id if user else None,
        "actor_name": actor.name,
        "actor_role": decision.role,
        "organisation": user.organisation if user else None,
        "basis": decision.basis,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": "allowed" if decision.allowed else "denied",
        "reason": decision.reason,
        "client_address": actor.address,
    }


def _record(actor: Actor, action: str, decision: Decision, **where: Any) -> None:
    """Log the decision (`where`: family_id, object_type, object_id of audit_values)."""
    audit.write(**audit_values(actor, action, decision, **where))


def refusal_text(reason: str) -> str | None:
    """What a refused guest is told (never any family data)."""
    return {
        "grant_revoked": _("Toegang ingetrokken. Het gezin heeft je toegang beëindigd."),
        "grant_expired": _("Je toegang tot dit gezin is verlopen."),
        "grant_pending": _("Je toegang wacht nog op toestemming van het gezin."),
        "grant_not_yet_valid": _("Je toegang tot dit gezin is nog niet begonnen."),
        "grant_denied": _("Het gezin heeft je aanvraag geweigerd."),
        "grant_withdrawn": _("Je hebt deze aanvraag ingetrokken."),
        "part_not_granted": _("Dit deel van de gezinsruimte is niet met je gedeeld."),
        "part_read_only": _("Je mag hier meekijken, maar niet meeschrijven."),
        "not_for_guests": _("Dit kan alleen het gezin zelf."),
        "not_author": _("Alleen wie dit schreef, kan het veranderen."),
    }.get(reason)


def _refuse(decision: Decision) -> None:
    # The denial's audit row must survive the abort: commit it before refusing.
    db.commit()
    if decision.hide:
        abort(404)
    abort(403, description=refusal_text(decision.reason))


def authorize(action: str, resource: Resource, *, record: bool = True) -> Decision:
    """Decide, write the audit row, and abort unless allowed. Returns the decision.

    With record=False an allowed access is not logged yet: the view logs what really happened
    (e.g. "member.add" on the new member, or only a view when validation failed) by calling
    authorize() again on its way out. Refusals are always logged here.
    """
    actor = current_actor()
    decision = decide(actor, action, resource)
    if decision.allowed and not record:
        return decision
    _record(
        actor,
        action,
        decision,
        family_id=family_id_of(resource),
        object_type=type(resource).__name__.lower(),
        object_id=str(resource.id),
    )
    if not decision.allowed:
        _refuse(decision)
    return decision


def enforce(
    action: str, decision: Decision, *, family_id: int, object_type: str, object_id: object
) -> None:
    """Log a decision about an object that borrows its access from another one (a file from
    its conversation) and refuse unless it allows."""
    _record(
        current_actor(),
        action,
        decision,
        family_id=family_id,
        object_type=object_type,
        object_id=str(object_id),
    )
    if not decision.allowed:
        _refuse(decision)


def record_decision(
    actor: Actor,
    action: str,
    family_id: int | None,
    object_type: str,
    object_id: object,
    *,
    decision: Decision | None = None,
    allowed: bool = False,
    reason: str = "",
) -> None:
    """Log a decision made outside a page or API request (a socket event). A socket's refusal
    that repeats one it was just refused is counted instead (portal/access/repeats.py)."""
    decision = decision or Decision(allowed, "none", "none", reason)
    values = audit_values(
        actor,
        action,
        decision,
        family_id=family_id,
        object_type=object_type,
        object_id=str(object_id),
    )
    sid = getattr(request, "sid", None) if has_request_context() else None
    if decision.allowed or not isinstance(sid, str):
        audit.write(**values)
    else:
        repeats.refused(sid, values)


def record_grant_event(action: str, grant: Grant) -> None:
    """Log what a professional did with their own grant (accept, request, withdraw, ask for
    renewal). Not a policy decision: the grant row itself proves the relation, and none of these
    changes what the grant allows."""
    actor = current_actor()
    decision = Decision(True, f"grant:{grant.id}", "guest", "own_grant", hide=False)
    _record(
        actor,
        action,
        decision,
        family_id=grant.family_id,
        object_type="grant",
        object_id=str(grant.id),
    )


@contextmanager
def recorded_if_refused(action: str, resource: Resource) -> Iterator[None]:
    """For views that authorized with record=False: if they then refuse the request (bad input,
    a conflict), the access to `resource` they did make is still logged as `action`."""
    try:
        yield
    except HTTPException:
        authorize(action, resource)
        raise


def not_found(action: str, object_type: str, object_id: object, family_id: int | None) -> None:
    actor = current_actor()
    decision = Decision(False, "none", "none", "not_found")
    _record(
        actor,
        action,
        decision,
        family_id=family_id,
        object_type=object_type,
        object_id=str(object_id),
    )
    _refuse(decision)


# The family and the signed-in user's membership of it in one statement: every family page
# and API call needs both, and the second query cost ~0.25 ms (of ~3 ms for an API read).
# The membership conditions are the policy's own (_MEMBERSHIP in policy.py): not removed.
_FAMILY_WITH_MEMBERSHIP = (
    select(Family, Member)
    .outerjoin(
        Member,
        and_(
            Member.family_id == Family.id,
            Member.user_id == bindparam("user_id"),
            Member.removed_at.is_(None),
        ),
    )
    .where(Family.id == bindparam("family_id"))
)


def _family_for(actor: Actor, family_id: int) -> Family | None:
    if actor.user is None or actor.knows_membership(family_id):
        return db.session.get(Family, family_id)
    row = db.session.execute(
        _FAMILY_WITH_MEMBERSHIP, {"family_id": family_id, "user_id": actor.user.id}
    ).first()
    if row is None:
        return None
    family, member = row
    actor.preload(family_id, member)
    return family


def load_family(family_id: int, action: str, *, record: bool = True) -> Family:
    """The family, if the actor may do `action` on it; otherwise 404 (or 403 for members)."""
    family = _family_for(current_actor(), family_id)
    if family is None:
        not_found(action, "family", family_id, None)
        raise AssertionError("unreachable")
    authorize(action, family, record=record)
    return family


T = TypeVar(
    "T", Member, Grant, Goal, Agreement, Conversation, DossierEntry, NetworkPetal, Evaluation
)


_IN_FAMILY: dict[type, Any] = {}


def _in_family_statement(model: type[T]) -> Any:
    """One statement per model, built once (building costs about as much as running it)."""
    statement = _IN_FAMILY.get(model)
    if statement is None:
        statement = select(model).where(
            model.id == bindparam("object_id"), model.family_id == bindparam("family_id")
        )
        removed_at = getattr(model, "removed_at", None)
        if removed_at is not None:
            statement = statement.where(removed_at.is_(None))
        _IN_FAMILY[model] = statement
    return statement


def load_in_family(
    model: type[T], family: Family, object_id: int, action: str, *, record: bool = True
) -> T:
    """An object of *this* family only (and not removed, where objects can be removed):
    another family's object, or one that does not exist, is an audited 404."""
    found = db.session.scalar(
        _in_family_statement(model), {"object_id": object_id, "family_id": family.id}
    )
    return checked_in_family(found, model, family, object_id, action, record=record)


def checked_in_family(
    found: T | None,
    model: type[T],
    family: Family,
    object_id: int,
    action: str,
    *,
    record: bool = True,
) -> T:
    """What `load_in_family` does with what it found, for a caller that found the object
    with its own statement (one that also loads what the view shows with it). That statement
    must match the object's id *and* this family's id, as `load_in_family`'s does."""
    if found is None:
        not_found(action, model.__name__.lower(), object_id, family.id)
        raise AssertionError("unreachable")
    authorize(action, found, record=record)
    return found


def load_member(family: Family, member_id: int, action: str, *, record: bool = True) -> Member:
    """A member of *this* family only: another family's member is a 404."""
    return load_in_family(Member, family, member_id, action, record=record)
