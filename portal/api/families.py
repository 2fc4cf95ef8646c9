"""Families and their members. Every object is loaded through the access policy."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access import authorize, current_actor, load_family, load_member, recorded_if_refused
from portal.access.policy import role_of
from portal.api import bp
from portal.api.common import (
    fail,
    field_error,
    json_body,
    login_required,
    ok,
    page,
    page_args,
    validate,
    version_from,
)
from portal.api.serialize import family_json, member_json
from portal.core import clock
from portal.family import services
from portal.family.forms import FamilyForm, MemberForm
from portal.family.models import Family, Member
from portal.family.views import error_text


def _my_role(family: Family) -> str | None:
    member = current_actor().membership(family.id)
    return role_of(member, clock.today()) if member else None


@bp.get("/families")
@login_required
def list_families() -> Any:
    limit, cursor = page_args()
    rows = [
        (family, member)
        for family, member in services.my_memberships(current_user)
        if cursor is None or family.id > cursor
    ]
    rows.sort(key=lambda row: row[0].id)
    items, next_cursor = page(rows[: limit + 1], limit, key=lambda row: row[0].id)
    today = clock.today()
    return ok(
        {
            "items": [family_json(f, role_of(m, today)) for f, m in items],
            "next_cursor": next_cursor,
        }
    )


@bp.post("/families")
@login_required
def create_family() -> Any:
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
    return ok(family_json(family, _my_role(family)), 201)


@bp.get("/families/<int:fid>")
@login_required
def get_family(fid: int) -> Any:
    family = load_family(fid, "family.view")
    return ok(family_json(family, _my_role(family)))


@bp.get("/families/<int:fid>/members")
@login_required
def list_members(fid: int) -> Any:
    family = load_family(fid, "member.list")
    limit, cursor = page_args()
    query = select(Member).where(Member.family_id == family.id, Member.removed_at.is_(None))
    if cursor:
        query = query.where(Member.id > cursor)
    rows = list(db.session.scalars(query.order_by(Member.id).limit(limit + 1)))
    items, next_cursor = page(rows, limit, key=lambda m: m.id)
    return ok({"items": [member_json(m) for m in items], "next_cursor": next_cursor})


def _member_data(form: MemberForm) -> services.MemberData:
    return services.MemberData(
        role=form.role.data or "",
        display_name=(form.display_name.data or "").strip(),
        birth_date=form.birth_date.data,
        has_authority=bool(form.has_authority.data),
        household=(form.household.data or "").strip() or None,
        relation=(form.relation.data or "").strip() or None,
        email=(form.email.data or "").strip() or None,
        invite=bool(form.invite.data),
    )


def _family_error(exc: services.FamilyError) -> Exception:
    status = 409 if exc.message in ("last_parent_with_authority",) else 422
    return field_error(exc.field, error_text(exc.message), status)


def _conflict(member: Member) -> Exception:
    return fail(
        409,
        _("Iemand anders heeft dit net veranderd."),
        current_version=member.version,
        current=member_json(member),
    )


@bp.post("/families/<int:fid>/members")
@login_required
def add_member(fid: int) -> Any:
    family = load_family(fid, "member.add", record=False)
    with recorded_if_refused("family.view", family):
        form = validate(MemberForm, json_body())
        try:
            member = services.add_member(family, current_user, _member_data(form))
        except services.FamilyError as exc:
            raise _family_error(exc) from None
    authorize("member.add", member)
    return ok(member_json(member), 201)


@bp.get("/families/<int:fid>/members/<int:mid>")
@login_required
def get_member(fid: int, mid: int) -> Any:
    family = load_family(fid, "member.view", record=False)
    return ok(member_json(load_member(family, mid, "member.view")))


@bp.patch("/families/<int:fid>/members/<int:mid>")
@login_required
def update_member(fid: int, mid: int) -> Any:
    family = load_family(fid, "member.edit", record=False)
    member = load_member(family, mid, "member.edit", record=False)
    with recorded_if_refused("member.view", member):
        return _update_member(family, member, json_body())


def _update_member(family: Family, member: Member, payload: dict[str, object]) -> Any:
    version = version_from(payload)
    if version != member.version:
        raise _conflict(member)
    current = {
        "role": member.role,
        "display_name": member.display_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "has_authority": member.has_authority,
        "household": member.household,
        "relation": member.relation,
        "email": member.email,
    }
    changes = {k: v for k, v in payload.items() if k != "version"}
    unknown = sorted(set(changes) - set(current) - {"invite"})
    if unknown:
        raise fail(
            422, errors=[{"field": f, "message": _("Dit veld bestaat niet.")} for f in unknown]
        )
    form = validate(MemberForm, {**current, **changes})
    try:
        services.update_member(family, member, _member_data(form), version)
    except services.FamilyError as exc:
        raise _family_error(exc) from None
    except services.Conflict:
        # Lost a race at the database: the transaction was rolled back; show what is stored.
        current_member = load_member(family, member.id, "member.view")
        raise _conflict(current_member) from None
    authorize("member.edit", member)
    return ok(member_json(member))


@bp.delete("/families/<int:fid>/members/<int:mid>")
@login_required
def remove_member(fid: int, mid: int) -> Any:
    family = load_family(fid, "member.remove", record=False)
    member = load_member(family, mid, "member.remove", record=False)
    with recorded_if_refused("member.view", member):
        payload = json_body() if request.content_length else {}
        try:
            services.remove_member(family, member, version_from(payload))
        except services.FamilyError as exc:
            raise _family_error(exc) from None
        except services.Conflict:
            raise _conflict(member) from None
    authorize("member.remove", member)
    return "", 204
