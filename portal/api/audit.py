"""The family's access log ("Wie keek mee?") as JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _

from portal.access import load_family
from portal.access.views import audit_query
from portal.api import bp
from portal.api.common import field_error, login_required, ok, page_args
from portal.api.serialize import audit_json


def _day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise field_error(name, _("Gebruik een datum als 2026-11-22."), 400) from None


@bp.get("/families/<int:fid>/audit")
@login_required
def audit_log(fid: int) -> Any:
    family = load_family(fid, "audit.view")
    limit, cursor = page_args()
    person_text = request.args.get("person")
    try:
        person = int(person_text) if person_text else None
    except ValueError:
        raise field_error("person", _("person moet een getal zijn."), 400) from None
    events, next_cursor = audit_query(family, person, _day("from"), _day("to"), cursor, limit)
    return ok(
        {
            "items": [audit_json(e) for e in events],
            "next_cursor": str(next_cursor) if next_cursor else None,
        }
    )
