"""'Wie keek mee?': the family's own access log, newest first, filterable by person and period."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from portal import db
from portal.access import audit, load_family
from portal.access.describe import describe
from portal.access.models import AuditEvent
from portal.core.args import positive_int_arg
from portal.family.models import Family

bp = Blueprint("access", __name__)

PAGE_SIZE = 50
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Who the log shows besides one person: everyone but the reader (what others did), or only
# the guests (the professionals, now or before).
WHO = ("others", "guests")
GUEST_ROLES = ("guest", "former_guest")
# Rows that say the same (same person, same action on the same thing, same outcome) one after
# the other within this time are one line on the page: a page reload or a live reconnect
# writes a row each time, and ten of them bury what the family looks for.
GROUP_WITHIN = timedelta(minutes=30)


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_query(
    family: Family,
    person: int | None,
    start: date | None,
    end: date | None,
    before_id: int | None,
    limit: int,
    who: str | None = None,
) -> tuple[list[AuditEvent], int | None]:
    """One page of the family's log and the cursor for the next page (None at the end)."""
    audit.include_pending()
    query = select(AuditEvent).where(AuditEvent.family_id == family.id)
    if person:
        query = query.where(AuditEvent.actor_user_id == person)
    if who == "others":
        query = query.where(
            or_(AuditEvent.actor_user_id.is_(None), AuditEvent.actor_user_id != current_user.id)
        )
    elif who == "guests":
        query = query.where(AuditEvent.actor_role.in_(GUEST_ROLES))
    if start:
        query = query.where(AuditEvent.at >= datetime.combine(start, time.min, _AMSTERDAM))
    if end:
        query = query.where(
            AuditEvent.at < datetime.combine(end + timedelta(days=1), time.min, _AMSTERDAM)
        )
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    rows = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def people_in_log(family: Family) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(AuditEvent.actor_user_id, AuditEvent.actor_name)
        .where(AuditEvent.family_id == family.id, AuditEvent.actor_user_id.is_not(None))
        .group_by(AuditEvent.actor_user_id, AuditEvent.actor_name)
        .order_by(AuditEvent.actor_name)
    ).all()
    return [(int(user_id or 0), name) for user_id, name in rows]


class Line:
    """One line of the page: one row of the log, or several alike in a row (newest first)."""

    def __init__(self, event: AuditEvent) -> None:
        self.event = event  # the newest of the line
        self.first = event  # the oldest of the line
        self.rows = 1
        # How many accesses the line stands for: a row counting a socket's repeated refusals
        # (portal/access/repeats.py) stands for several.
        self.count = event.count

    @property
    def text(self) -> dict[str, str]:
        return describe(self.event, self.count)

    def takes(self, event: AuditEvent) -> bool:
        newest = self.event
        alike = (
            event.actor_user_id == newest.actor_user_id
            and event.actor_name == newest.actor_name
            and event.action == newest.action
            and event.outcome == newest.outcome
            and event.object_type == newest.object_type
            and event.object_id == newest.object_id
        )
        return alike and newest.at - event.at <= GROUP_WITHIN

    def add(self, event: AuditEvent) -> None:
        self.first = event
        self.rows += 1
        self.count += event.count


def lines(events: list[AuditEvent]) -> list[Line]:
    out: list[Line] = []
    for event in events:
        if out and out[-1].takes(event):
            out[-1].add(event)
        else:
            out.append(Line(event))
    return out


@bp.route("/families/<int:family_id>/audit")
@login_required
def audit_log(family_id: int) -> Any:
    family = load_family(family_id, "audit.view")
    raw_person = request.args.get("person", "")
    who = raw_person if raw_person in WHO else None
    person = None if who else positive_int_arg("person")
    start = _parse_day(request.args.get("from"))
    end = _parse_day(request.args.get("to"))
    events, next_cursor = audit_query(
        family, person, start, end, positive_int_arg("before"), PAGE_SIZE, who
    )
    from portal.family.page import family_context

    older_url = None
    if next_cursor:
        filters: dict[str, object] = {
            "person": who or person,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "before": next_cursor,
        }
        older_url = (
            url_for("access.audit_log", family_id=family.id)
            + "?"
            + urlencode({k: v for k, v in filters.items() if v})
        )
    return render_template(
        "access/audit.html",
        family=family,
        lines=lines(events),
        people=people_in_log(family),
        person=who or person,
        start=start,
        end=end,
        older_url=older_url,
        **family_context(family),
    )
