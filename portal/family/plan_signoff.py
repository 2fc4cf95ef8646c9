"""A gedragen plan: the family proposes a version for agreement; it is agreed (vastgesteld) only
when every signer of that version signed it (see plan_signers: parents with authority, young
people of 12+, guests who write in the plan) or — for a young person — a parent with authority
marked them "doet niet mee" with a reason. A signer may also answer "niet akkoord" with a reason.
A change after proposing replaces the proposal (it must be proposed again); a change after
agreeing starts a new draft, and the agreed version stays readable. Services flush, never
commit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from portal import db
from portal.auth.models import User
from portal.core import clock, mail
from portal.family import plan_signers
from portal.family.models import Family
from portal.family.plan_history import PARTS, state_of
from portal.family.plan_history_models import PlanChange, PlanSigner, PlanSignoff, PlanVersion
from portal.family.plan_signers import Signer
from portal.family.plan_signers import required_parents as required_parents  # the one place


class SignoffError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


REASON_MAX = 2000  # a reason for "niet akkoord" or "doet niet mee"


def snapshot(family: Family) -> dict[str, list[dict[str, Any]]]:
    """Every part of the plan as it is now (removed items left out)."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for model, part in PARTS.items():
        columns: Any = model  # every plan model has id and family_id
        statement: Any = select(model).where(columns.family_id == family.id)
        removed = getattr(model, "removed_at", None)
        if removed is not None:
            statement = statement.where(removed.is_(None))
        rows = [state_of(o) for o in db.session.scalars(statement.order_by(columns.id))]
        parts.setdefault(part, []).extend({"kind": model.__name__, **r} for r in rows)
    return parts


def last_change_id(family: Family) -> int:
    value = db.session.scalar(
        select(func.max(PlanChange.id)).where(PlanChange.family_id == family.id)
    )
    return int(value or 0)


def versions(family: Family) -> list[PlanVersion]:
    return list(
        db.session.scalars(
            select(PlanVersion)
            .where(PlanVersion.family_id == family.id)
            .order_by(PlanVersion.number.desc())
        )
    )


def by_number(family: Family, number: int) -> PlanVersion | None:
    return db.session.scalar(
        select(PlanVersion).where(PlanVersion.family_id == family.id, PlanVersion.number == number)
    )


def signoffs(version: PlanVersion) -> list[PlanSignoff]:
    return list(
        db.session.scalars(
            select(PlanSignoff)
            .where(PlanSignoff.version_id == version.id)
            .order_by(PlanSignoff.signed_at)
        )
    )


@dataclass(frozen=True)
class Status:
    """Where the plan stands: draft, proposed (waiting for people), agreed, replaced (changed
    after it was proposed: to be proposed again), or changed after agreement (a new draft, the
    agreed version still readable)."""

    state: str  # draft, proposed, replaced, agreed, changed_after_agreement
    current: PlanVersion | None  # the open (or replaced) proposal, or the agreed version
    agreed: PlanVersion | None  # the latest agreed version, if any
    waiting_for: list[Signer] = field(default_factory=list)
    signers: list[Signer] = field(default_factory=list)  # of `current`


def outdated(version: PlanVersion, family: Family, latest_change: int | None = None) -> bool:
    latest = last_change_id(family) if latest_change is None else latest_change
    return version.superseded_at is not None or latest > version.last_change_id


def is_open(version: PlanVersion, family: Family) -> bool:
    """Still waiting for signatures: not agreed, nothing changed since it was proposed."""
    return version.agreed_at is None and not outdated(version, family)


def status(family: Family) -> Status:
    all_versions = versions(family)
    agreed = next((v for v in all_versions if v.agreed_at is not None), None)
    latest = last_change_id(family)
    newest = all_versions[0] if all_versions else None
    if newest is not None and newest.agreed_at is None:
        if not outdated(newest, family, latest):
            signers = plan_signers.signers_of(newest, family, still_open=True)
            if not _complete(signers):
                return Status("proposed", newest, agreed, [s for s in signers if s.blocks], signers)
            # Everyone left to sign has signed: the last one waited for left the family (or
            # their access ended) and nobody answers any more. It is agreed now.
            plan_signers.store_new(newest, signers)
            _agree(family, newest)
            return Status("agreed", newest, newest, [], signers)
        if newest.superseded_at is None:
            # Changed after it was proposed (not replaced by a newer proposal, not by an
            # agreement): nobody can sign it any more, and the page asks to propose again.
            return Status("replaced", newest, agreed)
    if agreed is not None:
        if agreed is newest and not outdated(agreed, family, latest):
            signers = plan_signers.signers_of(agreed, family, still_open=False)
            return Status("agreed", agreed, agreed, [], signers)
        return Status("changed_after_agreement", None, agreed)
    return Status("draft", None, None)


def signers(version: PlanVersion, family: Family) -> list[Signer]:
    return plan_signers.signers_of(version, family, still_open=is_open(version, family))


def waiting_on(family: Family, user: User) -> PlanVersion | None:
    """The open version that waits for this person's signature, if any."""
    current = status(family)
    if current.state != "proposed" or current.current is None:
        return None
    mine = any(s.user_id == user.id and s.state == plan_signers.WAITING for s in current.signers)
    return current.current if mine else None


def propose(family: Family, by: User) -> PlanVersion:
    """Propose the plan as it is now for agreement (an open earlier proposal is replaced). The
    signers are fixed now, and each of them is told by mail (without anything from the plan)."""
    from portal.family.plan_document import flower_for_snapshot

    current = status(family)
    if current.state == "agreed":
        raise SignoffError("already_agreed")
    now = clock.now()
    for version in versions(family):
        if version.agreed_at is None and version.superseded_at is None:
            version.superseded_at = now
    number = (
        db.session.scalar(
            select(func.max(PlanVersion.number)).where(PlanVersion.family_id == family.id)
        )
        or 0
    ) + 1
    who = plan_signers.candidates(family)
    content: dict[str, Any] = {**snapshot(family), "flower": flower_for_snapshot(family)}
    version = PlanVersion(
        family_id=family.id,
        number=number,
        snapshot=json.dumps(content, ensure_ascii=False),
        last_change_id=last_change_id(family),
        required=json.dumps(
            [
                {"member_id": c.member_id, "user_id": c.guest_user_id, "name": c.name, "why": c.why}
                for c in who
            ],
            ensure_ascii=False,
        ),
        proposed_by_name=by.display_name,
    )
    db.session.add(version)
    db.session.flush()
    for candidate in who:
        db.session.add(
            PlanSigner(
                version_id=version.id,
                member_id=candidate.member_id,
                guest_user_id=candidate.guest_user_id,
                name=candidate.name[:100],
                why=candidate.why,
            )
        )
        _tell(family, version, candidate, by)
    db.session.flush()
    return version


def _tell(
    family: Family, version: PlanVersion, candidate: plan_signers.Candidate, by: User
) -> None:
    found = plan_signers.mail_address(candidate)
    if found is None:
        return
    mail.send(
        found.email,
        "plan_proposed",
        locale=found.locale,
        name=found.name,
        joined=found.joined,
        proposer=by.display_name,
        family=family.name,
        number=version.number,
        url=mail.link("family.plan_version", family_id=family.id, number=version.number),
    )


def _open_signers(family: Family, version: PlanVersion) -> list[Signer]:
    """The signers of a version someone answers now: it must still be open; anyone who joined
    since it was proposed is stored with it from here on."""
    if version.agreed_at is not None:
        raise SignoffError("already_agreed")
    if outdated(version, family):
        raise SignoffError("outdated")
    found = plan_signers.signers_of(version, family, still_open=True)
    plan_signers.store_new(version, found)
    return plan_signers.signers_of(version, family, still_open=True)


def _mine(found: list[Signer], user: User) -> Signer:
    signer = next((s for s in found if s.user_id == user.id and s.state != plan_signers.LEFT), None)
    if signer is None:
        raise SignoffError("not_required")
    return signer


def _clean_reason(reason: str) -> str:
    text = (reason or "").replace("\r\n", "\n").strip()
    if not text:
        raise SignoffError("reason_required")
    if len(text) > REASON_MAX:
        raise SignoffError("reason_too_long")
    return text


def reason_length(reason: str) -> int:
    """A reason's length as it is checked (a line break is one character)."""
    return len((reason or "").replace("\r\n", "\n").strip())


def _complete(found: list[Signer]) -> bool:
    return not any(s.blocks for s in found) and any(s.state == plan_signers.SIGNED for s in found)


def _agree(family: Family, version: PlanVersion) -> None:
    version.agreed_at = clock.now()
    # An earlier agreed version stays readable, but it is no longer the current one.
    for other in versions(family):
        if other.id != version.id and other.agreed_at is not None and other.superseded_at is None:
            other.superseded_at = version.agreed_at
    db.session.flush()


def _agree_if_complete(family: Family, version: PlanVersion) -> None:
    if _complete(plan_signers.signers_of(version, family, still_open=True)):
        _agree(family, version)


def sign(family: Family, version: PlanVersion, by: User, role: str) -> PlanVersion:
    """Sign a proposal ("akkoord"); when nobody is left to sign, the plan is agreed."""
    signer = _mine(_open_signers(family, version), by)
    if signer.state == plan_signers.SIGNED:
        raise SignoffError("already_signed")
    db.session.add(
        PlanSignoff(version_id=version.id, user_id=by.id, name=by.display_name, role=role)
    )
    db.session.flush()
    _agree_if_complete(family, version)
    return version


def _row(version: PlanVersion, signer: Signer) -> PlanSigner:
    row = db.session.get(PlanSigner, signer.id) if signer.id else None
    if row is None or row.version_id != version.id:
        raise SignoffError("not_required")
    return row


def disagree(family: Family, version: PlanVersion, by: User, reason: str) -> PlanVersion:
    """Answer "niet akkoord" with a reason everyone sees; the plan cannot be agreed until this
    signer signs (after a talk, or a new version)."""
    text = _clean_reason(reason)
    signer = _mine(_open_signers(family, version), by)
    if signer.state == plan_signers.SIGNED:
        raise SignoffError("already_signed")
    row = _row(version, signer)
    row.disagreed_at, row.disagree_reason = clock.now(), text
    db.session.flush()
    return version


def mark_not_taking_part(
    family: Family, version: PlanVersion, signer_id: int, by: User, reason: str
) -> PlanVersion:
    """A parent with authority (the policy decides) marks a young person "doet niet mee", with
    a reason everyone sees; the plan can then be agreed without their signature."""
    text = _clean_reason(reason)
    found = _open_signers(family, version)
    signer = next((s for s in found if s.id == signer_id), None)
    if signer is None:
        raise SignoffError("no_such_signer")
    if signer.why != plan_signers.WHY_YOUNG_PERSON:
        raise SignoffError("only_young_people")
    if signer.state in (plan_signers.SIGNED, plan_signers.DISAGREED):
        raise SignoffError("young_person_answered")
    row = _row(version, signer)
    row.not_taking_part_at, row.not_taking_part_reason = clock.now(), text
    row.not_taking_part_by_name = by.display_name[:100]
    db.session.flush()
    _agree_if_complete(family, version)
    return version


def answer(
    family: Family,
    version: PlanVersion,
    by: User,
    role: str,
    choice: str,
    reason: str = "",
    signer_id: int | None = None,
) -> PlanVersion:
    """One signer's answer, as the page and the API both take it: "agree", "disagree" (with a
    reason) or "not_taking_part" (a parent with authority about a young person, with a reason).
    `role` is the policy's role of `by` in this family."""
    if choice == "disagree":
        return disagree(family, version, by, reason)
    if choice == "not_taking_part":
        return mark_not_taking_part(family, version, signer_id or 0, by, reason)
    return sign(family, version, by, role)
