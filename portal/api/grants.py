"""Guest access over the API: the family's grants and the professionals' access requests."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access import (
    authorize,
    current_actor,
    grants,
    load_family,
    record_grant_event,
)
from portal.access.grant_views import grant_error_text
from portal.access.guard import load_in_family, record_decision
from portal.access.models import ORIGIN_REQUEST, Grant
from portal.access.policy import grant_state
from portal.api import bp
from portal.api.common import fail, field_error, json_body, login_required, ok, page, page_args
from portal.api.serialize import grant_json
from portal.auth import throttle
from portal.core import clock
from portal.core.args import MAX_ID
from portal.family.models import Family


def _grant_error(exc: grants.GrantError) -> Exception:
    conflicts = ("already_invited", "already_requested", "not_pending")
    status = 409 if exc.code.startswith("grant_") or exc.code in conflicts else 422
    return field_error(exc.field, grant_error_text(exc.code), status)


def _stale(grant: Grant) -> Exception:
    return fail(
        409,
        _("Iemand anders heeft dit net veranderd."),
        current_version=grant.version,
        current=grant_json(grant, grant_state(grant, clock.now())),
    )


def _day(payload: dict[str, Any], name: str) -> date | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise field_error(name, _("Gebruik een datum als 2026-11-22."))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise field_error(name, _("Gebruik een datum als 2026-11-22.")) from None


def _parts(payload: dict[str, Any], required: bool = True) -> dict[str, str] | None:
    parts = payload.get("parts")
    if parts is None and not required:
        return None
    if not isinstance(parts, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parts.items()
    ):
        raise field_error("parts", _('Stuur de delen als {"plan": "read"}.'))
    return parts


def _text(payload: dict[str, Any], name: str, max_length: int) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise field_error(name, _("Vul dit veld in."))
    if len(value) > max_length:
        raise field_error(name, _("Dit is te lang."))
    return value.strip()


def _version(payload: dict[str, Any]) -> int | None:
    value = payload.get("version")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(family: Family, requests_only: bool) -> Any:
    limit, cursor = page_args()
    query = select(Grant).where(Grant.family_id == family.id)
    if requests_only:
        query = query.where(Grant.origin == ORIGIN_REQUEST)
    if cursor:
        query = query.where(Grant.id < cursor)
    rows = list(db.session.scalars(query.order_by(Grant.id.desc()).limit(limit + 1)))
    items, next_cursor = page(rows, limit, key=lambda g: g.id)
    now = clock.now()
    return ok(
        {"items": [grant_json(g, grant_state(g, now)) for g in items], "next_cursor": next_cursor}
    )


@bp.get("/families/<int:fid>/grants")
@login_required
def list_grants(fid: int) -> Any:
    return _list(load_family(fid, "grant.list"), requests_only=False)


@bp.post("/families/<int:fid>/grants")
@login_required
def create_grant(fid: int) -> Any:
    family = load_family(fid, "grant.create", record=False)
    inviter = current_actor().membership(family.id)
    assert inviter is not None
    try:
        payload = json_body()
        subject = payload.get("subject_member_id")
        if subject is not None and (
            not isinstance(subject, int) or isinstance(subject, bool) or not 0 < subject < MAX_ID
        ):
            raise field_error("subject_member_id", _("Kies iemand uit jullie gezin."))
        email = _text(payload, "email", 254)
        grant = grants.invite(
            family,
            inviter,
            current_user,
            grants.GrantData(
                email=email,
                parts=_parts(payload) or {},
                purpose=_text(payload, "purpose", 500),
                start_day=_day(payload, "valid_from"),
                end_day=_day(payload, "expires_on"),
                subject_member_id=subject,
            ),
        )
    except grants.GrantError as exc:
        authorize("family.view", family)
        raise _grant_error(exc) from None
    except Exception:
        authorize("family.view", family)
        raise
    authorize("grant.create", grant)
    return ok(grant_json(grant, grant_state(grant, clock.now())), 201)


@bp.get("/families/<int:fid>/grants/<int:gid>")
@login_required
def get_grant(fid: int, gid: int) -> Any:
    family = load_family(fid, "grant.view", record=False)
    grant = load_in_family(Grant, family, gid, "grant.view")
    return ok(grant_json(grant, grant_state(grant, clock.now())))


def _decide(fid: int, gid: int, action: str, change: Any) -> Any:
    family = load_family(fid, action, record=False)
    grant = load_in_family(Grant, family, gid, action, record=False)
    try:
        payload = json_body() if request.content_length else {}
        change(grant, payload)
    except grants.Stale:
        authorize("grant.view", grant)
        raise _stale(grant) from None
    except grants.GrantError as exc:
        authorize("grant.view", grant)
        raise _grant_error(exc) from None
    except Exception:
        authorize("grant.view", grant)
        raise
    authorize(action, grant)
    return ok(grant_json(grant, grant_state(grant, clock.now())))


@bp.post("/families/<int:fid>/grants/<int:gid>/revoke")
@login_required
def revoke_grant(fid: int, gid: int) -> Any:
    return _decide(
        fid,
        gid,
        "grant.revoke",
        lambda grant, body: grants.revoke(grant, current_user, _version(body)),
    )


@bp.post("/families/<int:fid>/grants/<int:gid>/renew")
@login_required
def renew_grant(fid: int, gid: int) -> Any:
    def change(grant: Grant, body: dict[str, Any]) -> None:
        end_day = _day(body, "expires_on")
        if end_day is None:
            raise field_error("expires_on", _("Vul dit veld in."))
        renewer = current_actor().membership(grant.family_id)
        grants.renew(grant, renewer, current_user, end_day, _version(body))

    return _decide(fid, gid, "grant.renew", change)


@bp.get("/families/<int:fid>/access-requests")
@login_required
def list_access_requests(fid: int) -> Any:
    return _list(load_family(fid, "grant.list"), requests_only=True)


@bp.post("/families/<int:fid>/access-requests")
@login_required
def create_access_request(fid: int) -> Any:
    """A professional asks. Knowing the family's id is not enough: the code must match."""
    if not current_user.is_professional:
        _log_refused_request(fid, "not_professional")
        raise fail(403, _("Alleen professionals vragen toegang aan een gezin."))
    payload = json_body()
    code = payload.get("code")
    # Wrong codes count like failed sign-ins (as on the page), so codes cannot be guessed in bulk.
    account = throttle.family_code_account(current_user.id)
    if wait := throttle.wait(account, request.remote_addr):
        raise fail(429, throttle.too_many_text(wait), headers={"Retry-After": str(wait)})
    family = grants.family_by_code(code) if isinstance(code, str) else None
    if family is None or family.id != fid:
        if isinstance(code, str) and code:
            throttle.failed(account, request.remote_addr)
        _log_refused_request(fid, "wrong_code")
        raise fail(404, _("We vinden geen gezin met deze code. Vraag het gezin om de code."))
    try:
        grant = grants.request_access(
            family,
            current_user,
            grants.GrantData(
                email=current_user.email,
                parts=_parts(payload) or {},
                purpose=_text(payload, "purpose", 500),
                end_day=_day(payload, "expires_on"),
            ),
        )
    except grants.GrantError as exc:
        raise _grant_error(exc) from None
    record_grant_event("grant.request", grant)
    return ok(grant_json(grant, grant_state(grant, clock.now())), 201)


def _log_refused_request(fid: int, reason: str) -> None:
    """A refused request for access is logged like every other refusal, in the log of the
    family it named (when there is one), and kept although the request fails."""
    known = fid < MAX_ID and db.session.get(Family, fid) is not None
    family_id = fid if known else None
    record_decision(current_actor(), "grant.request", family_id, "family", fid, reason=reason)
    db.commit()


def _request_decision(fid: int, rid: int, action: str, change: Any) -> Any:
    family = load_family(fid, action, record=False)
    grant = load_in_family(Grant, family, rid, action, record=False)
    if grant.origin != ORIGIN_REQUEST:
        authorize("grant.view", grant)
        raise fail(404)
    me = current_actor().membership(family.id)
    assert me is not None
    return _decide(fid, rid, action, lambda g, body: change(g, body, me))


@bp.post("/families/<int:fid>/access-requests/<int:rid>/approve")
@login_required
def approve_access_request(fid: int, rid: int) -> Any:
    def change(grant: Grant, body: dict[str, Any], me: Any) -> None:
        grants.approve(
            grant,
            me,
            current_user,
            _version(body),
            _parts(body, required=False),
            _day(body, "expires_on"),
        )

    return _request_decision(fid, rid, "grant.approve", change)


@bp.post("/families/<int:fid>/access-requests/<int:rid>/deny")
@login_required
def deny_access_request(fid: int, rid: int) -> Any:
    return _request_decision(
        fid, rid, "grant.deny", lambda grant, body, me: grants.deny(grant, _version(body))
    )
