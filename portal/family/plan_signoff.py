"""A gedragen plan: the family proposes a version for agreement; it is agreed (vastgesteld) when
every required party signed it off: both parents with authority (also when living apart), each
young person of 12+, and the coach when a guest with the plan part takes part. A change after
proposing outdates the proposal; a change after agreeing starts a new draft, and the agreed
version stays readable. Services flush, never commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from portal import db
from portal.access.age import age_on
from portal.access.models import Grant
from portal.access.policy import grant_state
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from portal.family.plan_history import PARTS, state_of
from portal.family.plan_history_models import PlanChange, PlanSignoff, PlanVersion


class SignoffError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def required_parties(family: Family) -> list[dict[str, Any]]:
    """Who must sign: people with a login only (someone without one cannot sign online)."""
    today = clock.today()
    parties: list[dict[str, Any]] = []
    for member in db.session.scalars(
        select(Member)
        .where(
            Member.family_id == family.id,
            Member.removed_at.is_(None),
            Member.user_id.is_not(None),
        )
        .order_by(Member.id)
    ):
        if member.role == ROLE_PARENT and member.has_authority:
            parties.append(
                {"user_id": member.user_id, "name": member.display_name, "why": "parent"}
            )
        elif (
            member.role == ROLE_YOUNG_PERSON
            and member.birth_date is not None
            and age_on(member.birth_date, today) >= 12
        ):
            parties.append(
                {"user_id": member.user_id, "name": member.display_name, "why": "young_person"}
            )
    now = clock.now()
    seen = {p["user_id"] for p in parties}
    for grant in db.session.scalars(
        select(Grant).where(Grant.family_id == family.id, Grant.grantee_id.is_not(None))
    ):
        if grant.grantee_id in seen or grant_state(grant, now) != "active":
            continue
        if grant.level_for("plan"):
            user = db.session.get(User, grant.grantee_id)
            if user is not None:
                parties.append({"user_id": user.id, "name": user.display_name, "why": "coach"})
                seen.add(user.id)
    return parties


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
    """Where the plan stands: draft, proposed (waiting for people), agreed, or changed after
    agreement (a new draft, the agreed version still readable)."""

    state: str  # draft, proposed, agreed, changed_after_agreement
    current: PlanVersion | None  # the open proposal or the agreed version it is about
    agreed: PlanVersion | None  # the latest agreed version, if any
    waiting_for: list[dict[str, Any]]


def _outdated(version: PlanVersion, family: Family, latest_change: int | None = None) -> bool:
    latest = last_change_id(family) if latest_change is None else latest_change
    return version.superseded_at is not None or latest > version.last_change_id


def status(family: Family) -> Status:
    all_versions = versions(family)
    agreed = next((v for v in all_versions if v.agreed_at is not None), None)
    latest = last_change_id(family)
    newest = all_versions[0] if all_versions else None
    if newest is not None and newest.agreed_at is None and not _outdated(newest, family, latest):
        signed = {s.user_id for s in signoffs(newest)}
        waiting = [p for p in json.loads(newest.required) if p["user_id"] not in signed]
        return Status("proposed", newest, agreed, waiting)
    if agreed is not None:
        if agreed is newest and not _outdated(agreed, family, latest):
            return Status("agreed", agreed, agreed, [])
        return Status("changed_after_agreement", None, agreed, [])
    return Status("draft", None, None, [])


def propose(family: Family, by: User) -> PlanVersion:
    """Propose the plan as it is now for agreement (an open earlier proposal is replaced)."""
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
    version = PlanVersion(
        family_id=family.id,
        number=number,
        snapshot=json.dumps(snapshot(family), ensure_ascii=False),
        last_change_id=last_change_id(family),
        required=json.dumps(required_parties(family), ensure_ascii=False),
        proposed_by_name=by.display_name,
    )
    db.session.add(version)
    db.session.flush()
    return version


def sign(family: Family, version: PlanVersion, by: User, role: str) -> PlanVersion:
    """Sign off a proposal; when the last required party signs, the plan is agreed."""
    if version.agreed_at is not None:
        raise SignoffError("already_agreed")
    if _outdated(version, family):
        if version.superseded_at is None:
            version.superseded_at = clock.now()
            db.session.flush()
        raise SignoffError("outdated")
    required = json.loads(version.required)
    if by.id not in {p["user_id"] for p in required}:
        raise SignoffError("not_required")
    if db.session.get(PlanSignoff, (version.id, by.id)) is not None:
        raise SignoffError("already_signed")
    db.session.add(
        PlanSignoff(version_id=version.id, user_id=by.id, name=by.display_name, role=role)
    )
    db.session.flush()
    signed = {s.user_id for s in signoffs(version)}
    if all(p["user_id"] in signed for p in required):
        version.agreed_at = clock.now()
        # An earlier agreed version stays readable, but it is no longer the current one.
        for other in versions(family):
            if (
                other.id != version.id
                and other.agreed_at is not None
                and other.superseded_at is None
            ):
                other.superseded_at = version.agreed_at
        db.session.flush()
    return version
