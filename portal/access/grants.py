"""Guest access as data: invite a professional, ask for access, approve by the age rules,
accept, renew, revoke. Services flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal import db
from portal.access.age import DECIDES_PARENTS, DECIDES_YOUNG_PERSON, band_for
from portal.access.models import (
    LEVELS,
    ORIGIN_INVITATION,
    ORIGIN_REQUEST,
    PARTS,
    Grant,
    GrantApproval,
    GrantPart,
)
from portal.access.policy import grant_state
from portal.auth import services as auth_services
from portal.auth.models import User
from portal.core import clock, mail
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member

PURPOSE_GUEST_INVITE = "guest_invite"
INVITE_DAYS = 7
DEFAULT_MONTHS = 3
MAX_MONTHS = 12
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class GrantError(Exception):
    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


class Stale(Exception):
    """The grant changed since the version the user saw."""


def end_of_day(day: date) -> datetime:
    """Access ends at the end of the chosen day, Dutch time."""
    if day >= date.max:  # 31-12-9999 has no next day; far past the longest grant anyway
        raise GrantError("too_long", "expires_on")
    return datetime.combine(day + timedelta(days=1), time.min, _AMSTERDAM)


def last_day(grant: Grant) -> date:
    """The last day (Dutch calendar) on which the grant is valid."""
    return (grant.expires_at - timedelta(microseconds=1)).astimezone(_AMSTERDAM).date()


def max_end(start: datetime) -> date:
    return (start + timedelta(days=MAX_MONTHS * 31)).astimezone(_AMSTERDAM).date()


def default_end_day() -> date:
    return (clock.now() + timedelta(days=DEFAULT_MONTHS * 30)).astimezone(_AMSTERDAM).date()


def check_parts(parts: dict[str, str]) -> dict[str, str]:
    if not parts:
        raise GrantError("parts_required", "parts")
    for part, level in parts.items():
        if part not in PARTS:
            raise GrantError("unknown_part", "parts")
        if level not in LEVELS:
            raise GrantError("unknown_level", "parts")
    return parts


def check_dates(start_day: date | None, end_day: date | None) -> tuple[datetime, datetime]:
    now = clock.now()
    today = now.astimezone(_AMSTERDAM).date()
    start = (
        now
        if start_day is None or start_day <= today
        else datetime.combine(start_day, time.min, _AMSTERDAM)
    )
    end_day = end_day or default_end_day()
    if start_day is not None and start_day < today:
        raise GrantError("start_in_past", "valid_from")
    if end_day < today or end_of_day(end_day) <= start:
        raise GrantError("end_before_start", "expires_on")
    if end_day > max_end(start):
        raise GrantError("too_long", "expires_on")
    return start, end_of_day(end_day)


# --- who must approve (age rules) -------------------------------------------------------------


def required_approvers(subject: Member | None) -> tuple[str, ...]:
    """Which kinds of yes a grant needs: about the whole family or a child under 12, a parent
    with authority; about a young person of 12-15, that young person and a parent; 16+, the
    young person alone."""
    if subject is None or subject.role != ROLE_YOUNG_PERSON or subject.birth_date is None:
        return (DECIDES_PARENTS,)
    return band_for(subject.birth_date, clock.today()).decides


def approval_counts(approver: Member, subject: Member | None) -> str | None:
    """Which required kind of yes this member's approval gives, if any."""
    needed = required_approvers(subject)
    if DECIDES_YOUNG_PERSON in needed and subject is not None and approver.id == subject.id:
        return DECIDES_YOUNG_PERSON
    if DECIDES_PARENTS in needed and approver.role == ROLE_PARENT and approver.has_authority:
        return DECIDES_PARENTS
    return None


def missing_approvals(grant: Grant) -> list[str]:
    subject = db.session.get(Member, grant.subject_member_id) if grant.subject_member_id else None
    given = set()
    for approval in grant.approvals:
        approver = db.session.get(Member, approval.member_id)
        if approver is not None and approver.removed_at is None:
            kind = approval_counts(approver, subject)
            if kind:
                given.add(kind)
    return [kind for kind in required_approvers(subject) if kind not in given]


def _approve(grant: Grant, approver: Member) -> None:
    subject = db.session.get(Member, grant.subject_member_id) if grant.subject_member_id else None
    if approval_counts(approver, subject) is None:
        raise GrantError("not_an_approver")
    if not any(a.member_id == approver.id for a in grant.approvals):
        grant.approvals.append(GrantApproval(member_id=approver.id, approved_at=clock.now()))
    db.session.flush()
    if not missing_approvals(grant) and grant.approved_at is None:
        grant.approved_at = clock.now()


# --- creating grants --------------------------------------------------------------------------


@dataclass
class GrantData:
    email: str
    parts: dict[str, str]
    purpose: str
    start_day: date | None = None
    end_day: date | None = None
    subject_member_id: int | None = None


def _subject(family: Family, member_id: int | None) -> Member | None:
    if member_id is None:
        return None
    subject = db.session.scalar(
        select(Member).where(
            Member.id == member_id,
            Member.family_id == family.id,
            Member.role == ROLE_YOUNG_PERSON,
            Member.removed_at.is_(None),
        )
    )
    if subject is None:
        raise GrantError("unknown_subject", "subject_member_id")
    return subject


def _check_inviter(inviter: Member, subject: Member | None) -> None:
    """Parents with authority invite for the family; a young person of 16+ for their own data."""
    if inviter.role == ROLE_PARENT and inviter.has_authority:
        if subject is not None and DECIDES_PARENTS not in required_approvers(subject):
            # 16+: the young person decides alone; a parent may not open their data.
            raise GrantError("young_person_decides", "subject_member_id")
        return
    if subject is None or subject.id != inviter.id:
        raise GrantError("own_data_only", "subject_member_id")


def invite(family: Family, inviter: Member, by: User, data: GrantData) -> Grant:
    parts = check_parts(data.parts)
    start, end = check_dates(data.start_day, data.end_day)
    email = auth_services.normalise_email(data.email)
    if email == by.email:
        raise GrantError("invite_yourself", "email")
    if any(m.email == email for m in family_members(family)):
        raise GrantError("email_is_member", "email")
    if any(
        grant_state(g, clock.now()) in ("active", "pending", "not_yet_valid")
        for g in grants_for_email(family, email)
    ):
        raise GrantError("already_invited", "email")
    subject = _subject(family, data.subject_member_id)
    _check_inviter(inviter, subject)
    grant = Grant(
        family_id=family.id,
        invited_email=email,
        origin=ORIGIN_INVITATION,
        purpose=data.purpose,
        subject_member_id=subject.id if subject else None,
        valid_from=start,
        expires_at=end,
        granted_by_id=by.id,
        parts=[GrantPart(part=p, level=lvl) for p, lvl in sorted(parts.items())],
    )
    db.session.add(grant)
    db.session.flush()
    _approve(grant, inviter)
    token = auth_services.issue_link(
        PURPOSE_GUEST_INVITE, email, timedelta(days=INVITE_DAYS), subject_id=grant.id
    )
    mail.send(
        email,
        "guest_invite",
        locale="nl",
        inviter=by.display_name,
        family=family.name,
        purpose=grant.purpose,
        url=mail.link("professional.invitation_link", token=token),
        days=INVITE_DAYS,
    )
    return grant


def family_members(family: Family) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member).where(Member.family_id == family.id, Member.removed_at.is_(None))
        )
    )


def grants_for_email(family: Family, email: str) -> list[Grant]:
    user = auth_services.find_user(email)
    query = select(Grant).where(Grant.family_id == family.id)
    if user is not None:
        query = query.where((Grant.invited_email == email) | (Grant.grantee_id == user.id))
    else:
        query = query.where(Grant.invited_email == email)
    return list(db.session.scalars(query))


def invitation_for(token: str) -> tuple[auth_services.LinkCheck, Grant | None]:
    check = auth_services.check_link(token, PURPOSE_GUEST_INVITE)
    if check.link is None or check.link.subject_id is None:
        return check, None
    return check, db.session.get(Grant, check.link.subject_id)


def accept_invitation(token: str, user: User) -> Grant:
    check, grant = invitation_for(token)
    if check.status != "ok" or grant is None:
        raise GrantError(f"link_{check.status}")
    if not user.is_professional:
        raise GrantError("not_a_professional")
    if grant_state(grant, clock.now()) in ("revoked", "expired", "denied", "withdrawn"):
        raise GrantError("grant_ended")
    used = auth_services.consume_link(token, PURPOSE_GUEST_INVITE)
    if used.status != "ok":
        raise GrantError(f"link_{used.status}")
    grant.grantee_id = user.id
    grant.accepted_at = clock.now()
    db.session.flush()
    return grant


# --- requests from professionals ---------------------------------------------------------------


def family_by_code(code: str) -> Family | None:
    normalised = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(normalised) != 8:
        return None
    return db.session.scalar(
        select(Family).where(Family.invite_code == f"{normalised[:4]}-{normalised[4:]}")
    )


def family_by_parent_email(email: str) -> Family | None:
    """The family a parent with authority (and a login) belongs to, by the parent's address.
    Callers answer the same whether or not it is found, so it tells nobody who has a family."""
    user = auth_services.find_user(email)
    if user is None or user.is_professional:
        return None
    return db.session.scalar(
        select(Family)
        .join(Member, Member.family_id == Family.id)
        .where(
            Member.user_id == user.id,
            Member.role == ROLE_PARENT,
            Member.has_authority.is_(True),
            Member.removed_at.is_(None),
        )
        .order_by(Family.id)
        .limit(1)
    )


def request_access(family: Family, by: User, data: GrantData) -> Grant:
    parts = check_parts(data.parts)
    start, end = check_dates(data.start_day, data.end_day)
    if any(
        grant_state(g, clock.now()) in ("active", "pending", "not_yet_valid")
        for g in db.session.scalars(
            select(Grant).where(Grant.family_id == family.id, Grant.grantee_id == by.id)
        )
    ):
        raise GrantError("already_requested")
    subject = _subject(family, data.subject_member_id)
    grant = Grant(
        family_id=family.id,
        grantee_id=by.id,
        invited_email=by.email,
        origin=ORIGIN_REQUEST,
        purpose=data.purpose,
        subject_member_id=subject.id if subject else None,
        valid_from=start,
        expires_at=end,
        accepted_at=clock.now(),
        parts=[GrantPart(part=p, level=lvl) for p, lvl in sorted(parts.items())],
    )
    db.session.add(grant)
    db.session.flush()
    for member in family_members(family):
        if member.user_id and member.user is not None and approval_counts(member, subject):
            mail.send(
                member.user.email,
                "access_request",
                locale=member.user.locale,
                professional=by.display_name,
                organisation=by.organisation or "",
                purpose=grant.purpose,
                url=mail.link("access.grants_page", family_id=family.id),
            )
    return grant


def _check_version(grant: Grant, version: int | None) -> None:
    """A decision must name the version the person saw: none, or an old one, is stale."""
    if version is None or grant.version != version:
        raise Stale()


def approve(
    grant: Grant,
    approver: Member,
    by: User,
    version: int | None,
    narrow_parts: dict[str, str] | None = None,
    end_day: date | None = None,
) -> Grant:
    """Say yes to a pending grant, optionally narrowing its parts, levels or end date."""
    _check_version(grant, version)
    state = grant_state(grant, clock.now())
    if state != "pending":
        # Active (or already approved, starting later) is not a question any more: a yes
        # here could otherwise change the parts of a grant that is in use.
        raise GrantError(f"grant_{state}")
    if narrow_parts is not None:
        narrowed = check_parts(narrow_parts)
        for part, level in narrowed.items():
            held = grant.level_for(part)
            if held is None or (held == "read" and level == "write"):
                raise GrantError("cannot_widen", "parts")
        grant.parts = [GrantPart(part=p, level=lvl) for p, lvl in sorted(narrowed.items())]
    if end_day is not None:
        new_end = end_of_day(end_day)
        if new_end > grant.expires_at or new_end <= grant.valid_from:
            raise GrantError("cannot_extend_on_approval", "expires_on")
        grant.expires_at = new_end
    _approve(grant, approver)
    if grant.granted_by_id is None:
        grant.granted_by_id = by.id
    db.session.flush()
    return grant


def deny(grant: Grant, version: int | None) -> Grant:
    _check_version(grant, version)
    state = grant_state(grant, clock.now())
    if state != "pending":
        raise GrantError(f"grant_{state}")
    grant.denied_at = clock.now()
    db.session.flush()
    return grant


def withdraw(grant: Grant) -> Grant:
    if grant_state(grant, clock.now()) != "pending":
        raise GrantError("not_pending")
    grant.withdrawn_at = clock.now()
    db.session.flush()
    return grant


def revoke(grant: Grant, by: User, version: int | None) -> Grant:
    """Effective at once: the policy checks revoked_at on every request and socket event."""
    _check_version(grant, version)
    if grant.revoked_at is not None:
        raise GrantError("grant_revoked")
    grant.revoked_at = clock.now()
    grant.revoked_by_id = by.id
    db.session.flush()
    if grant.grantee_id:
        from portal.live.namespace import recheck_now

        recheck_now(grant.grantee_id, grant.family_id)  # open sockets end right after commit
    return grant


def renew(
    grant: Grant, renewer: Member | None, by: User, end_day: date, version: int | None
) -> Grant:
    """A new end date; also gives a revoked or expired guest access again (the family decides).

    Only someone whose yes this grant needs may renew it (the same rule as for saying yes:
    a young person of 16+ alone for their own data, a parent with authority for the family).
    Opening a revoked or expired grant again is a new yes: the renewer's counts, and whoever
    else the grant needs must say yes again before the guest is let in."""
    _check_version(grant, version)
    state = grant_state(grant, clock.now())
    if state in ("denied", "withdrawn", "pending"):
        raise GrantError(f"grant_{state}")
    subject = db.session.get(Member, grant.subject_member_id) if grant.subject_member_id else None
    if renewer is None or approval_counts(renewer, subject) is None:
        raise GrantError("not_a_renewer")
    new_end = end_of_day(end_day)
    if new_end <= clock.now() or (state == "active" and new_end <= grant.expires_at):
        raise GrantError("end_before_start", "expires_on")
    if end_day > max_end(clock.now()):
        raise GrantError("too_long", "expires_on")
    if state in ("revoked", "expired"):
        grant.valid_from = clock.now()
        grant.approvals = [GrantApproval(member_id=renewer.id, approved_at=clock.now())]
        db.session.flush()
        grant.approved_at = None if missing_approvals(grant) else clock.now()
    grant.revoked_at = None
    grant.revoked_by_id = None
    grant.expires_at = new_end
    grant.renewal_requested_at = None
    grant.reminded_14_at = grant.reminded_3_at = None
    db.session.flush()
    return grant


def request_renewal(grant: Grant) -> Grant:
    if grant.renewal_requested_at is None:
        grant.renewal_requested_at = clock.now()
        db.session.flush()
    return grant


# --- reminders before the end ---------------------------------------------------------------

REMINDER_DAYS = (14, 3)


def send_reminders() -> int:
    """Mail family and professional 14 and 3 days before a grant ends (run daily from cron).

    Each reminder goes once per grant; a renewal resets them. Returns the number of grants
    reminded."""
    now = clock.now()
    reminded = 0
    candidates = db.session.scalars(
        select(Grant).where(
            Grant.expires_at > now,
            Grant.expires_at <= now + timedelta(days=max(REMINDER_DAYS)),
            Grant.revoked_at.is_(None),
            Grant.grantee_id.is_not(None),
        )
    )
    for grant in candidates:
        if grant_state(grant, now) != "active":
            continue
        days_left = grant.expires_at - now
        if days_left <= timedelta(days=3) and grant.reminded_3_at is None:
            grant.reminded_3_at = grant.reminded_14_at = now
        elif days_left <= timedelta(days=14) and grant.reminded_14_at is None:
            grant.reminded_14_at = now
        else:
            continue
        _remind(grant)
        reminded += 1
    db.session.flush()
    return reminded


def _remind(grant: Grant) -> None:
    family = db.session.get(Family, grant.family_id)
    professional = db.session.get(User, grant.grantee_id) if grant.grantee_id else None
    if family is None or professional is None:
        return
    day = last_day(grant)
    mail.send(
        professional.email,
        "grant_reminder_professional",
        locale=professional.locale,
        day=day,
        purpose=grant.purpose,
        url=mail.link("professional.dashboard"),
    )
    for member in family_members(family):
        if member.user is not None and member.role == ROLE_PARENT and member.has_authority:
            mail.send(
                member.user.email,
                "grant_reminder_family",
                locale=member.user.locale,
                professional=professional.display_name,
                day=day,
                url=mail.link("access.grant_detail", family_id=family.id, grant_id=grant.id),
            )
