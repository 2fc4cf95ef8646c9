"""'Wie keek mee?': the family's own access log, newest first, filterable by person and period."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from portal import db
from portal.access import audit, load_family
from portal.access.describe import describe
from portal.access.models import AuditEvent
from portal.core.args import positive_int_arg
from portal.family.models import Family

bp = Blueprint("access", __name__)

PAGE_SIZE = 50
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


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
) -> tuple[list[AuditEvent], int | None]:
    """One page of the family's log and the cursor for the next page (None at the end)."""
    audit.include_pending()
    query = select(AuditEvent).where(AuditEvent.family_id == family.id)
    if person:
        query = query.where(AuditEvent.actor_user_id == person)
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


@bp.route("/families/<int:family_id>/audit")
@login_required
def audit_log(family_id: int) -> Any:
    family = load_family(family_id, "audit.view")
    person = positive_int_arg("person")
    start = _parse_day(request.args.get("from"))
    end = _parse_day(request.args.get("to"))
    events, next_cursor = audit_query(
        family, person, start, end, positive_int_arg("before"), PAGE_SIZE
    )
    from portal.family.views import family_context

    older_url = None
    if next_cursor:
        filters: dict[str, object] = {
            "person": person,
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
        events=[(event, describe(event)) for event in events],
        people=people_in_log(family),
        person=person,
        start=start,
        end=end,
        older_url=older_url,
        **family_context(family),
    )
