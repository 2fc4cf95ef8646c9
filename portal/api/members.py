"""A family's members: list, add (and invite), view, change and remove with version checks.
Every object is loaded through the access policy; what happened is audited as on the pages."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access import authorize, current_actor, load_family, load_member, recorded_if_refused
from portal.access.policy import Resource, decide
from portal.api import bp
from portal.api.common import (
    ApiProblem,
    api_login_required,
    fail,
    field_error,
    invalid,
    json_body,
    no_content,
    ok,
    optional_json_body,
    page,
    page_args,
    validate,
    version_from,
)
from portal.api.serialize import member_json
from portal.family import services
from portal.family.forms import MemberForm
from portal.family.models import Family, Member
from portal.family.views import error_text

# Errors about the family's state rather than about what was typed.
STATE_ERRORS = frozenset({"last_parent_with_authority"})


def may_edit(resource: Resource) -> bool:
    """Whether the policy lets the caller edit members: then birth dates and e-mail show too."""
    return decide(current_actor(), "member.edit", resource).allowed


def shown(member: Member, manager: bool) -> dict[str, Any]:
    """A member as the caller may see them: in full for managers and for the person themself."""
    return member_json(member, full=manager or member.user_id == current_user.id)


@bp.get("/families/<int:fid>/members")
@api_login_required
def list_members(fid: int) -> Any:
    family = load_family(fid, "member.list")
    limit, cursor = page_args()
    query = select(Member).where(Member.family_id == family.id, Member.removed_at.is_(None))
    if cursor:
        query = query.where(Member.id > cursor)
    rows = list(db.session.scalars(query.order_by(Member.id).limit(limit + 1)))
    items, next_cursor = page(rows, limit, key=lambda m: m.id)
    manager = may_edit(family)
    return ok({"items": [shown(m, manager) for m in items], "next_cursor": next_cursor})


def _family_error(exc: services.FamilyError) -> ApiProblem:
    message = error_text(exc.message)
    if exc.message in STATE_ERRORS:
        return fail(409, message)
    if exc.field:
        return field_error(exc.field, message)
    return fail(422, message)


def _conflict(member: Member) -> ApiProblem:
    return fail(
        409,
        _("Iemand anders heeft dit net veranderd."),
        current_version=member.version,
        current=shown(member, may_edit(member)),
    )


@bp.post("/families/<int:fid>/members")
@api_login_required
def add_member(fid: int) -> Any:
    family = load_family(fid, "member.add", record=False)
    with recorded_if_refused("family.view", family):
        form = validate(MemberForm, json_body())
        try:
            member = services.add_member(family, current_user, form.member_data())
        except services.FamilyError as exc:
            raise _family_error(exc) from None
    authorize("member.add", member)
    return ok(shown(member, may_edit(member)), 201)


@bp.get("/families/<int:fid>/members/<int:mid>")
@api_login_required
def get_member(fid: int, mid: int) -> Any:
    family = load_family(fid, "member.view", record=False)
    member = load_member(family, mid, "member.view")
    return ok(shown(member, may_edit(member)))


@bp.patch("/families/<int:fid>/members/<int:mid>")
@api_login_required
def update_member(fid: int, mid: int) -> Any:
    """Change some fields; the others keep their stored values. `version` is required."""
    family = load_family(fid, "member.edit", record=False)
    member = load_member(family, mid, "member.edit", record=False)
    with recorded_if_refused("member.view", member):
        _update_member(family, member, json_body())
    authorize("member.edit", member)
    return ok(member_json(member, full=True))


def _update_member(family: Family, member: Member, payload: dict[str, Any]) -> None:
    version = version_from(payload)
    if version != member.version:
        raise _conflict(member)
    stored = {
        "role": member.role,
        "display_name": member.display_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "has_authority": member.has_authority,
        "household": member.household,
        "relation": member.relation,
        "email": member.email,
    }
    changes = {key: value for key, value in payload.items() if key != "version"}
    form = validate(MemberForm, {**stored, **changes})
    try:
        services.update_member(family, member, form.member_data(), version)
    except services.FamilyError as exc:
        raise _family_error(exc) from None
    except services.Conflict:
        # Lost a race at the database: the transaction was rolled back; show what is stored.
        raise _conflict(load_member(family, member.id, "member.view", record=False)) from None


@bp.delete("/families/<int:fid>/members/<int:mid>")
@api_login_required
def remove_member(fid: int, mid: int) -> Any:
    """End a membership; `version` comes in the JSON body or as ?version=."""
    family = load_family(fid, "member.remove", record=False)
    member = load_member(family, mid, "member.remove", record=False)
    with recorded_if_refused("member.view", member):
        payload = optional_json_body()
        unknown = sorted(set(payload) - {"version"})
        if unknown:
            raise invalid([{"field": f, "message": _("Dit veld bestaat niet.")} for f in unknown])
        try:
            services.remove_member(family, member, version_from(payload))
        except services.FamilyError as exc:
            raise _family_error(exc) from None
        except services.Conflict:
            member = load_member(family, member.id, "member.view", record=False)
            raise _conflict(member) from None
    authorize("member.remove", member)
    return no_content()
