"""Families: my families, a new family space, one family. Loaded through the access policy."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user

from portal.access import authorize, current_actor, load_family
from portal.access.policy import role_of
from portal.api import bp
from portal.api.common import api_login_required, fail, json_body, ok, page, page_args, validate
from portal.api.serialize import family_json
from portal.core import clock
from portal.family import services
from portal.family.forms import FamilyForm
from portal.family.models import Family


def my_role(family: Family) -> str | None:
    member = current_actor().membership(family.id)
    return role_of(member, clock.today()) if member else None


@bp.get("/families")
@api_login_required
def list_families() -> Any:
    limit, cursor = page_args()
    rows = sorted(
        (
            (family, member)
            for family, member in services.my_memberships(current_user)
            if cursor is None or family.id > cursor
        ),
        key=lambda row: row[0].id,
    )
    items, next_cursor = page(rows[: limit + 1], limit, key=lambda row: row[0].id)
    today = clock.today()
    return ok(
        {
            "items": [family_json(f, role_of(m, today)) for f, m in items],
            "next_cursor": next_cursor,
        }
    )


@bp.post("/families")
@api_login_required
def create_family() -> Any:
    # As on the pages: professionals are invited into a family, they do not start one.
    if current_user.is_professional:
        raise fail(
            403, _("Een gezin maakt zelf zijn ruimte aan. Professionals worden uitgenodigd.")
        )
    form = validate(FamilyForm, json_body())
    family = services.create_family(
        current_user,
        (form.name.data or "").strip(),
        (form.my_name.data or "").strip(),
        (form.household.data or "").strip() or None,
    )
    authorize("family.create", family)
    return ok(family_json(family, my_role(family)), 201)


@bp.get("/families/<int:fid>")
@api_login_required
def get_family(fid: int) -> Any:
    family = load_family(fid, "family.view")
    return ok(family_json(family, my_role(family)))
