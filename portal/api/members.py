"""A family's members: list, add (and invite), view, change and remove with version checks.
Every object is loaded through the access policy; what happened is audited as on the pages."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access import (
    authorize,
    current_actor,
    load_family,
    load_member,
    may,
    recorded_if_refused,
)
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
from portal.family import removal, services
from portal.family.forms import MemberForm, OwnDetailsForm
from portal.family.models import Family, Member
from portal.family.views import error_text

# Errors about the family's state rather than about what was typed.
STATE_ERRORS = frozenset({"last_parent_with_authority"})
# Authority comes as lists of member ids, not through the form's checkboxes.
SKIPPED = ("version", "authority_children", "authority_parents")


def may_edit(resource: Resource) -> bool:
    """Whether the policy lets the caller edit members: then birth dates and e-mail show too."""
    return may("member.edit", resource)


def shown(member: Member, manager: bool) -> dict[str, Any]:
    """A member as the caller may see them: in full for managers and for the person themself;
    address and phone as the policy allows (a parent may keep them from the other parents)."""
    return member_json(
        member,
        full=manager or member.user_id == current_user.id,
        contact=decide(current_actor(), "member.contact", member).allowed,
    )


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


def _authority_ids(payload: dict[str, Any]) -> list[int] | None:
    """authority_over (a new parent's children) or authority_holders (a new child's parents),
    taken out of the payload; None when neither is sent (the defaults apply)."""
    found: list[int] | None = None
    for key in ("authority_over", "authority_holders"):
        if key not in payload:
            continue
        value = payload.pop(key)
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            raise field_error(key, _("Stuur een lijst met nummers van mensen uit jullie gezin."))
        found = [*(found or []), *value]
    return found


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
        payload = json_body()
        ids = _authority_ids(payload)
        form = validate(MemberForm, payload, skip=SKIPPED)
        data = form.member_data()
        data.authority_ids = ids
        try:
            member = services.add_member(family, current_user, data)
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
    """Change some fields; the others keep their stored values. `version` is required.

    Yourself: your name, household, address, phone and contact_private. Someone else: what
    the policy lets you change of that person (member.edit); a birth date needs
    member.birth_date, authority is never changed here (only by the operator command)."""
    family = load_family(fid, "member.list", record=False)
    me = current_actor().membership(family.id)
    if me is not None and me.id == mid:
        member = load_member(family, mid, "member.edit_self", record=False)
        payload = json_body()
        _refuse_fixed_fields(member, payload, allowed=OWN_FIELDS)
        with recorded_if_refused("member.view", member):
            _update_self(family, member, payload)
        authorize("member.edit_self", member)
        return ok(shown(member, True))
    member = load_member(family, mid, "member.edit", record=False)
    payload = json_body()
    _refuse_fixed_fields(member, payload, allowed=OTHERS_FIELDS)
    with recorded_if_refused("member.view", member):
        _update_member(family, member, payload)
    authorize("member.edit", member)
    return ok(member_json(member, full=True, contact=False))


# What each may change through PATCH (besides `version`).
OWN_FIELDS = frozenset({"display_name", "household", "address", "phone", "contact_private"})
OTHERS_FIELDS = frozenset(
    {"role", "display_name", "birth_date", "household", "relation", "email", "invite"}
)
AUTHORITY_FIELDS = frozenset({"has_authority", "authority_over", "authority_holders"})
CONTACT_FIELDS = frozenset({"address", "phone", "contact_private"})


def _refuse_fixed_fields(member: Member, payload: dict[str, Any], allowed: frozenset[str]) -> None:
    """A change the policy keeps from the caller is refused (403, logged) before anything else:
    authority (the operator's), a birth date (member.birth_date), someone else's contact."""
    stored = member_json(member, full=True, contact=True)
    for key in sorted(set(payload) - {"version"}):
        if key in AUTHORITY_FIELDS and _comparable(payload[key]) != _comparable(stored.get(key)):
            authorize("member.authority", member)
        if key == "birth_date" and payload[key] != stored["birth_date"]:
            authorize("member.birth_date", member)
        if key in CONTACT_FIELDS and key not in allowed:
            authorize("member.edit_self", member)
    unknown = sorted(set(payload) - allowed - AUTHORITY_FIELDS - {"version", "birth_date"})
    if unknown:
        raise invalid(
            [{"field": f, "message": _("Dit veld kun je hier niet veranderen.")} for f in unknown]
        )


def _comparable(value: Any) -> Any:
    return sorted(value, key=repr) if isinstance(value, list) else value


def _update_self(family: Family, member: Member, payload: dict[str, Any]) -> None:
    version = version_from(payload)
    if version != member.version:
        raise _conflict(member)
    stored = {key: getattr(member, key) for key in OWN_FIELDS}
    changes = {key: value for key, value in payload.items() if key in OWN_FIELDS}
    form = validate(OwnDetailsForm, {**stored, **changes})
    try:
        services.update_own_details(member, form.own_details(), version)
    except services.Conflict:
        raise _conflict(load_member(family, member.id, "member.view", record=False)) from None


def _update_member(family: Family, member: Member, payload: dict[str, Any]) -> None:
    version = version_from(payload)
    if version != member.version:
        raise _conflict(member)
    stored = {
        "role": member.role,
        "display_name": member.display_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "household": member.household,
        "relation": member.relation,
        "email": member.email,
    }
    changes = {key: value for key, value in payload.items() if key in OTHERS_FIELDS}
    form = validate(MemberForm, {**stored, **changes}, skip=SKIPPED)
    data = form.member_data()
    data.has_authority = member.has_authority
    try:
        services.update_member(family, member, data, version)
    except services.FamilyError as exc:
        raise _family_error(exc) from None
    except services.Conflict:
        # Lost a race at the database: the transaction was rolled back; show what is stored.
        raise _conflict(load_member(family, member.id, "member.view", record=False)) from None


@bp.delete("/families/<int:fid>/members/<int:mid>")
@api_login_required
def remove_member(fid: int, mid: int) -> Any:
    """End a membership: someone else's (member.remove, withdrawing an invitation too) or your
    own (member.leave). `version` comes in the JSON body or as ?version=. The person and every
    parent with authority get a mail."""
    me = current_actor().membership(fid)
    leaving = me is not None and me.id == mid
    action = "member.leave" if leaving else "member.remove"
    family = load_family(fid, action, record=False)
    member = load_member(family, mid, action, record=False)
    with recorded_if_refused("member.view", member):
        payload = optional_json_body()
        unknown = sorted(set(payload) - {"version"})
        if unknown:
            raise invalid([{"field": f, "message": _("Dit veld bestaat niet.")} for f in unknown])
        try:
            removal.remove_member(
                family, member, version_from(payload), by=None if leaving else current_user
            )
        except services.FamilyError as exc:
            raise _family_error(exc) from None
        except services.Conflict:
            member = load_member(family, member.id, "member.view", record=False)
            raise _conflict(member) from None
    authorize(action, member)
    return no_content()
