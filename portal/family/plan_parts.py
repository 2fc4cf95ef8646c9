"""De bloem (network petals), the safety plan and evaluations. Services flush; the request
commits. Pages and API share these checks, so a bad value gets the same message everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from portal import db
from portal.auth.models import User
from portal.core import clock
from portal.core.sanitize import plain_text
from portal.family.models import (
    EVALUATION_KINDS,
    PETAL_KINDS,
    Agreement,
    Evaluation,
    Family,
    Member,
    NetworkPetal,
    SafetyPlan,
)
from portal.family.services import Conflict, FamilyError, one_per_family

TEXT_MAX = 5000
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _long_text(value: str | None) -> str:
    return (value or "").replace("\x00", "").strip()[:TEXT_MAX]


# --- de bloem ----------------------------------------------------------------------------------


@dataclass
class PetalData:
    name: str
    relation: str = ""
    contact: str = ""
    kind: str = "informal"
    member_id: int | None = None
    guest_user_id: int | None = None


def _was_guest(family: Family, user_id: int) -> bool:
    """Someone who is or was this family's guest: a grant they accepted and the family approved
    (also one that has ended since: a petal that stood for a guest may keep saying so; not an
    invitation never taken up, nor a request the family refused)."""
    from portal.access.models import Grant

    return (
        db.session.scalar(
            select(Grant.id)
            .where(
                Grant.family_id == family.id,
                Grant.grantee_id == user_id,
                Grant.accepted_at.is_not(None),
                Grant.approved_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def _check_petal(family: Family, data: PetalData) -> PetalData:
    name = plain_text(data.name, 100)
    if not name:
        raise FamilyError("name_required", "name")
    if data.kind not in PETAL_KINDS:
        raise FamilyError("unknown_kind", "kind")
    if data.member_id is not None:
        member = db.session.scalar(
            select(Member).where(Member.id == data.member_id, Member.family_id == family.id)
        )
        if member is None:
            raise FamilyError("unknown_member", "member_id")
        if member.removed_at is not None:
            raise FamilyError("member_removed", "member_id")
    if data.guest_user_id is not None:
        if data.member_id is not None:
            raise FamilyError("member_or_guest", "guest_user_id")
        if not _was_guest(family, data.guest_user_id):
            raise FamilyError("unknown_guest", "guest_user_id")
    return PetalData(
        name,
        plain_text(data.relation, 100),
        plain_text(data.contact, 200),
        data.kind,
        data.member_id,
        data.guest_user_id,
    )


def petals(family: Family) -> list[NetworkPetal]:
    return list(
        db.session.scalars(
            select(NetworkPetal)
            .where(NetworkPetal.family_id == family.id, NetworkPetal.removed_at.is_(None))
            .order_by(NetworkPetal.id)
        )
    )


def removed_petal_ids(family: Family) -> set[int]:
    """Petals taken out of de bloem (agreements that name them say so)."""
    return set(
        db.session.scalars(
            select(NetworkPetal.id).where(
                NetworkPetal.family_id == family.id, NetworkPetal.removed_at.is_not(None)
            )
        )
    )


def members_gone(family: Family) -> set[int]:
    """Members who no longer take part (a petal linked to one of them says so)."""
    return set(
        db.session.scalars(
            select(Member.id).where(Member.family_id == family.id, Member.removed_at.is_not(None))
        )
    )


@dataclass(frozen=True)
class GuestPetal:
    """A guest with the plan part, shown in de bloem with the last day of their access."""

    user_id: int
    name: str
    organisation: str | None
    profession: str | None
    until: date


def guest_petals(family: Family) -> list[GuestPetal]:
    """Guests from active grants with the plan part: one query, whatever the number of grants."""
    from portal.access.grants import last_day
    from portal.access.models import Grant
    from portal.access.policy import grant_state

    now = clock.now()
    found: dict[int, GuestPetal] = {}
    rows = db.session.execute(
        select(Grant, User)
        .join(User, User.id == Grant.grantee_id)
        .where(Grant.family_id == family.id)
        .order_by(Grant.id)
    ).all()
    for grant, user in rows:
        if grant_state(grant, now) != "active" or not grant.level_for("plan"):
            continue
        until = last_day(grant)
        known = found.get(user.id)
        if known is None or known.until < until:
            found[user.id] = GuestPetal(
                user.id,
                user.display_name,
                user.organisation,
                user.profession,
                until,
            )
    return sorted(found.values(), key=lambda g: g.name.lower())


def add_petal(family: Family, by: User, data: PetalData) -> NetworkPetal:
    checked = _check_petal(family, data)
    petal = NetworkPetal(
        family_id=family.id,
        name=checked.name,
        relation=checked.relation,
        contact=checked.contact,
        kind=checked.kind,
        member_id=checked.member_id,
        guest_user_id=checked.guest_user_id,
        created_by_name=by.display_name,
    )
    db.session.add(petal)
    db.session.flush()
    return petal


def update_petal(petal: NetworkPetal, by: User, data: PetalData, version: int) -> NetworkPetal:
    if petal.version != version:
        raise Conflict(petal)
    family = db.session.get(Family, petal.family_id)
    assert family is not None
    checked = _check_petal(family, data)
    petal.name, petal.relation, petal.contact = checked.name, checked.relation, checked.contact
    petal.kind, petal.member_id = checked.kind, checked.member_id
    petal.guest_user_id = checked.guest_user_id
    petal.updated_by_name, petal.updated_at = by.display_name, clock.now()
    db.session.flush()
    return petal


def agreements_owned_by(petal: NetworkPetal) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Agreement)
            .where(Agreement.owner_petal_id == petal.id, Agreement.removed_at.is_(None))
        )
        or 0
    )


def remove_petal(petal: NetworkPetal, by: User, version: int) -> NetworkPetal:
    """Take a petal out of de bloem. The row stays (agreements may name it as owner)."""
    if petal.version != version:
        raise Conflict(petal)
    petal.removed_at = clock.now()
    petal.updated_by_name, petal.updated_at = by.display_name, clock.now()
    db.session.flush()
    return petal


def flower_layout(count: int, size: int = 520) -> list[dict[str, Any]]:
    """Centre, rotation and label position of each petal around the heart (server-side, so
    the drawing needs no script). At most FLOWER_MAX petals are drawn; the list shows all."""
    import math

    centre = size / 2
    shown = min(count, FLOWER_MAX)
    layout = []
    for i in range(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / max(shown, 1)
        distance = size * 0.32
        x = centre + distance * math.cos(angle)
        y = centre + distance * math.sin(angle)
        layout.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "rotate": round(math.degrees(angle) + 90, 1),
            }
        )
    return layout


FLOWER_MAX = 12


# --- veiligheid --------------------------------------------------------------------------------


@dataclass
class SafetyData:
    signals: str = ""
    actions: str = ""
    contacts: str = ""


SAFETY_FIELDS = ("signals", "actions", "contacts")


def safety_of(family: Family) -> SafetyPlan:
    return one_per_family(SafetyPlan, family)


def update_safety(safety: SafetyPlan, by: User, data: SafetyData, version: int) -> SafetyPlan:
    if safety.version != version:
        raise Conflict(safety)
    safety.signals = _long_text(data.signals)
    safety.actions = _long_text(data.actions)
    safety.contacts = _long_text(data.contacts)
    safety.updated_by_name, safety.updated_at = by.display_name, clock.now()
    db.session.flush()
    return safety


# --- evaluatie ---------------------------------------------------------------------------------


@dataclass
class EvaluationData:
    title: str
    held_on: date | None
    kind: str = "evaluation"
    start_time: str = ""
    participants: str = ""
    went_well: str = ""
    changes: str = ""
    next_steps: str = ""


EVALUATION_TEXTS = ("went_well", "changes", "next_steps")


def _check_evaluation(data: EvaluationData) -> EvaluationData:
    title = plain_text(data.title, 200)
    if not title:
        raise FamilyError("title_required", "title")
    if data.kind not in EVALUATION_KINDS:
        raise FamilyError("unknown_kind", "kind")
    if data.held_on is None:
        raise FamilyError("date_required", "held_on")
    if not 2000 <= data.held_on.year <= 2999:
        raise FamilyError("date_impossible", "held_on")
    start = plain_text(data.start_time, 5)
    if start and not _TIME.fullmatch(start):
        raise FamilyError("time_invalid", "start_time")
    return EvaluationData(
        title,
        data.held_on,
        data.kind,
        start,
        plain_text(data.participants, 1000),
        _long_text(data.went_well),
        _long_text(data.changes),
        _long_text(data.next_steps),
    )


def evaluations(family: Family) -> list[Evaluation]:
    """Every evaluation moment, the latest first."""
    return list(
        db.session.scalars(
            select(Evaluation)
            .where(Evaluation.family_id == family.id, Evaluation.removed_at.is_(None))
            .order_by(Evaluation.held_on.desc(), Evaluation.id.desc())
        )
    )


def upcoming(items: list[Evaluation], today: date) -> list[Evaluation]:
    """The agenda: moments from today on, soonest first."""
    return sorted(
        (e for e in items if e.held_on >= today), key=lambda e: (e.held_on, e.start_time, e.id)
    )


def add_evaluation(family: Family, by: User, data: EvaluationData) -> Evaluation:
    checked = _check_evaluation(data)
    assert checked.held_on is not None
    evaluation = Evaluation(
        family_id=family.id,
        kind=checked.kind,
        title=checked.title,
        held_on=checked.held_on,
        start_time=checked.start_time,
        participants=checked.participants,
        went_well=checked.went_well,
        changes=checked.changes,
        next_steps=checked.next_steps,
        created_by_name=by.display_name,
    )
    db.session.add(evaluation)
    db.session.flush()
    return evaluation


def update_evaluation(
    evaluation: Evaluation, by: User, data: EvaluationData, version: int
) -> Evaluation:
    if evaluation.version != version:
        raise Conflict(evaluation)
    checked = _check_evaluation(data)
    assert checked.held_on is not None
    for name in (
        "kind",
        "title",
        "held_on",
        "start_time",
        "participants",
        *EVALUATION_TEXTS,
    ):
        setattr(evaluation, name, getattr(checked, name))
    evaluation.updated_by_name, evaluation.updated_at = by.display_name, clock.now()
    db.session.flush()
    return evaluation
