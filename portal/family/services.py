"""Family space state changes: create, add/edit/remove members, invitations. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import db
from portal.access import authority
from portal.access.age import band_for
from portal.auth import services as auth_services
from portal.auth.models import KIND_FAMILY, User
from portal.core import clock, mail
from portal.family.models import (
    ROLE_PARENT,
    ROLE_YOUNG_PERSON,
    Family,
    Member,
    Plan,
    SafetyPlan,
)

PURPOSE_MEMBER_INVITE = "member_invite"
INVITE_DAYS = 14


class FamilyError(Exception):
    """A request that cannot be carried out; `field` names the form field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(Exception):
    """Someone else saved this object after the version the user started from."""

    def __init__(self, current: object) -> None:
        super().__init__("stale version")
        self.current = current


def my_memberships(user: User) -> list[tuple[Family, Member]]:
    rows = db.session.execute(
        select(Family, Member)
        .join(Member, Member.family_id == Family.id)
        .where(Member.user_id == user.id, Member.removed_at.is_(None))
        .order_by(Family.name)
    ).all()
    return [(family, member) for family, member in rows]


def create_family(user: User, name: str, my_name: str, household: str | None) -> Family:
    family = Family(name=name, created_by_id=user.id)
    db.session.add(family)
    db.session.flush()
    db.session.add(
        Member(
            family_id=family.id,
            user_id=user.id,
            role=ROLE_PARENT,
            display_name=my_name or user.display_name,
            has_authority=True,
            household=household,
            email=user.email,
            joined_at=clock.now(),
            added_by_id=user.id,
        )
    )
    add_plan_rows(family)
    db.session.flush()
    return family


def add_plan_rows(family: Family) -> None:
    """The family's plan and safety plan, made with the family: showing them never writes."""
    db.session.add_all([Plan(family_id=family.id), SafetyPlan(family_id=family.id)])


def current_members(family: Family, *, by_role: bool = False) -> list[Member]:
    """The family's members now, by name (or by role, then name)."""
    order = (Member.role, Member.display_name) if by_role else (Member.display_name,)
    return list(
        db.session.scalars(
            select(Member)
            .where(Member.family_id == family.id, Member.removed_at.is_(None))
            .order_by(*order)
        )
    )


OneRow = TypeVar("OneRow", Plan, SafetyPlan)


def one_per_family(model: type[OneRow], family: Family) -> OneRow:
    """The family's one row of `model` (its plan, its safety plan). Made with the family; for
    a family without it (made directly, as tests and benchmarks do) it is made here, once:
    when two first views race, the second finds the first's row instead of failing."""
    statement = select(model).where(model.family_id == family.id)
    row = db.session.scalar(statement)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = model(family_id=family.id)
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(statement)
        if row is None:
            raise
    return row


def rename_family(family: Family, name: str, version: int) -> Family:
    if family.version != version:
        raise Conflict(family)
    family.name = name
    flush_or_conflict(family)
    return family


@dataclass
class MemberData:
    role: str
    display_name: str
    birth_date: date | None = None
    has_authority: bool = False
    household: str | None = None
    relation: str | None = None
    email: str | None = None
    invite: bool = False
    # Parent: the children they hold authority over; child: the parents who hold it over them.
    # None: what a new member gets by default (a child: the parents with authority, at most two).
    authority_ids: list[int] | None = None


@dataclass
class OwnDetails:
    """What each person changes about themself."""

    display_name: str
    household: str | None = None
    address: str | None = None
    phone: str | None = None
    contact_private: bool = False


def _check(family: Family, data: MemberData, member: Member | None = None) -> None:
    if data.role == ROLE_YOUNG_PERSON and data.birth_date is None:
        raise FamilyError("birth_date_required", "birth_date")
    if data.birth_date is not None:
        if data.birth_date > clock.today():
            raise FamilyError("birth_date_future", "birth_date")
        if data.birth_date < clock.today() - timedelta(days=366 * 120):
            raise FamilyError("birth_date_too_old", "birth_date")
    if data.invite:
        if not data.email:
            raise FamilyError("email_required_for_invite", "email")
        if (
            data.role == ROLE_YOUNG_PERSON
            and data.birth_date is not None
            and not band_for(data.birth_date, clock.today()).may_have_login
        ):
            raise FamilyError("too_young_for_login", "invite")
        email = auth_services.normalise_email(data.email)
        clash = db.session.scalar(
            select(func.count()).where(
                Member.family_id == family.id,
                func.lower(Member.email) == email,
                Member.removed_at.is_(None),
                Member.id != (member.id if member else -1),
            )
        )
        if clash:
            raise FamilyError("email_already_in_family", "email")


def add_member(family: Family, by: User, data: MemberData) -> Member:
    _check(family, data)
    adder = db.session.scalar(
        select(Member).where(
            Member.family_id == family.id, Member.user_id == by.id, Member.removed_at.is_(None)
        )
    )
    try:
        authority_with = _authority_for_new(family, data, adder)
    except authority.AuthorityError as exc:
        raise FamilyError(exc.code, exc.field) from None
    member = Member(
        family_id=family.id,
        role=data.role,
        display_name=data.display_name,
        birth_date=data.birth_date,
        has_authority=data.has_authority if data.role == ROLE_PARENT else False,
        household=data.household or None,
        relation=data.relation or None,
        email=auth_services.normalise_email(data.email) if data.email else None,
        added_by_id=by.id,
        invited_at=clock.now() if data.invite else None,
    )
    db.session.add(member)
    db.session.flush()
    if member.role == ROLE_YOUNG_PERSON:
        authority.record_for_new_child(member, authority_with, by.id)
    elif member.role == ROLE_PARENT and member.has_authority:
        authority.record_for_new_parent(member, authority_with, by.id)
    if data.invite:
        _send_invitation(family, member, by)
    return member


def _authority_for_new(family: Family, data: MemberData, adder: Member | None) -> list[Member]:
    """Whom a new member's authority is recorded with: a child's parents (by default the
    parents with authority, at most two), a parent's children. Checked before anything is
    written: a refusal leaves nothing half-made."""
    if data.role == ROLE_YOUNG_PERSON:
        ids = data.authority_ids
        holders = [m.id for m in current_members(family) if authority.has_any_authority(m)]
        if ids is None:
            ids = holders[: authority.MAX_HOLDERS]
        if holders and not ids:
            raise FamilyError("authority_choose_parents", "authority")
        return authority.check_for_new_child(family.id, ids)
    if data.role == ROLE_PARENT and data.has_authority:
        children = [m.id for m in current_members(family) if m.role == ROLE_YOUNG_PERSON]
        ids = children if data.authority_ids is None else data.authority_ids
        if children and not ids:
            raise FamilyError("authority_choose_children", "authority")
        return authority.check_for_new_parent(family.id, ids, adder)
    if data.authority_ids:
        raise FamilyError("authority_only_parents", "authority")
    return []


def update_member(family: Family, member: Member, data: MemberData, version: int) -> Member:
    if member.version != version:
        raise Conflict(member)
    _check(family, data, member)
    if data.role != member.role:
        if member.user_id is not None:
            raise FamilyError("role_fixed_after_join", "role")
        if ROLE_YOUNG_PERSON in (data.role, member.role) or member.has_authority:
            # Authority hangs on parents and children: such a role is fixed once recorded.
            raise FamilyError("role_fixed_with_authority", "role")
    member.role = data.role
    member.display_name = data.display_name
    member.birth_date = data.birth_date
    # Authority is not changed here (only by the operator command): the view refuses a change.
    member.household = data.household or None
    member.relation = data.relation or None
    if member.user_id is None:
        member.email = auth_services.normalise_email(data.email) if data.email else None
    flush_or_conflict(member)
    if data.invite and member.user_id is None:
        invite_member(family, member, None)
    return member


def update_own_details(member: Member, details: OwnDetails, version: int) -> Member:
    """A person's own name, household, address, phone and whether the other parents see them."""
    if member.version != version:
        raise Conflict(member)
    member.display_name = details.display_name
    member.household = details.household or None
    member.address = details.address or None
    member.phone = details.phone or None
    member.contact_private = details.contact_private
    flush_or_conflict(member)
    return member


def invite_member(family: Family, member: Member, by: User | None) -> None:
    if not member.email:
        raise FamilyError("email_required_for_invite", "email")
    member.invited_at = clock.now()
    flush_or_conflict(member)
    _send_invitation(family, member, by)


def _send_invitation(family: Family, member: Member, by: User | None) -> None:
    assert member.email is not None
    token = auth_services.issue_link(
        PURPOSE_MEMBER_INVITE,
        member.email,
        timedelta(days=INVITE_DAYS),
        subject_id=member.id,
    )
    inviter = by.display_name if by else family.name
    mail.send(
        member.email,
        "member_invite",
        locale="nl",
        name=member.display_name,
        inviter=inviter,
        family=family.name,
        url=mail.link("family.invitation_link", token=token),
        days=INVITE_DAYS,
    )


def invitation_for(token: str) -> tuple[auth_services.LinkCheck, Member | None, Family | None]:
    check = auth_services.check_link(token, PURPOSE_MEMBER_INVITE)
    if check.link is None or check.link.subject_id is None:
        return check, None, None
    member = db.session.get(Member, check.link.subject_id)
    if member is None or member.removed_at is not None:
        return auth_services.LinkCheck("invalid"), None, None
    return check, member, db.session.get(Family, member.family_id)


def accept_invitation(token: str, user: User, authority_confirmed: bool = True) -> Member:
    check, member, family = invitation_for(token)
    if check.status != "ok" or member is None or family is None:
        raise FamilyError(f"link_{check.status}")
    if user.kind != KIND_FAMILY:
        raise FamilyError("professional_account")
    already = db.session.scalar(
        select(func.count()).where(
            Member.family_id == family.id, Member.user_id == user.id, Member.removed_at.is_(None)
        )
    )
    if already:
        raise FamilyError("already_member")
    if member.user_id is not None:
        raise FamilyError("link_used")
    used = auth_services.consume_link(token, PURPOSE_MEMBER_INVITE)
    if used.status != "ok":
        raise FamilyError(f"link_{used.status}")
    member.user_id = user.id
    member.joined_at = clock.now()
    flush_or_conflict(member)
    authority.confirm_on_join(member, authority_confirmed)
    return member


def authority_summary(member: Member) -> list[Member]:
    """The children a parent holds authority over (what they confirm when joining)."""
    ids = set(authority.children_of(member.id))
    return [m for m in current_members_by_family_id(member.family_id) if m.id in ids]


def current_members_by_family_id(family_id: int) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member)
            .where(Member.family_id == family_id, Member.removed_at.is_(None))
            .order_by(Member.display_name)
        )
    )


def flush_or_conflict(obj: Family | Member) -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict(obj) from exc
