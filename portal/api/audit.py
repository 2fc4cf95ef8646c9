"""The family's access log ("Wie keek mee?") as JSON, newest first."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from portal.access import load_family
from portal.access.views import WHO, audit_query
from portal.api import bp
from portal.api.common import api_login_required, day_arg, field_error, id_arg, ok, page_args
from portal.api.serialize import audit_json


@bp.get("/families/<int:fid>/audit")
@api_login_required
def audit_log(fid: int) -> Any:
    family = load_family(fid, "audit.view")
    limit, cursor = page_args()
    person = id_arg("person", _("person moet een getal zijn."))
    who = request.args.get("who") or None
    if who is not None and who not in WHO:
        raise field_error("who", _("who moet others of guests zijn."), 400)
    events, next_cursor = audit_query(
        family, person, day_arg("from"), day_arg("to"), cursor, limit, who
    )
    return ok(
        {
            "items": [audit_json(e) for e in events],
            "next_cursor": str(next_cursor) if next_cursor else None,
        }
    )
