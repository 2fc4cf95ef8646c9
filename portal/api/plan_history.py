"""The plan's history and its agreement over the API: /plan/history, /plan/versions,
/plan/signoffs (the same services and policy as the pages)."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import current_actor, load_family
from portal.access.policy import decide
from portal.api import bp
from portal.api.common import api_login_required, fail, field_error, json_body, ok, page, page_args
from portal.api.serialize import iso
from portal.core.args import MAX_ID
from portal.family import plan_history, plan_signoff
from portal.family.plan_history_models import PlanVersion
from portal.family.plan_history_views import (
    announce,
    load_change,
    load_version,
    part_labels,
    signoff_error_text,
)


def version_json(version: PlanVersion, with_snapshot: bool = False) -> dict[str, Any]:
    signed = plan_signoff.signoffs(version)
    body: dict[str, Any] = {
        "number": version.number,
        "proposed_by": version.proposed_by_name,
        "proposed_at": iso(version.proposed_at),
        "agreed_at": iso(version.agreed_at),
        "superseded_at": iso(version.superseded_at),
        "required": json.loads(version.required),
        "signoffs": [
            {"user_id": s.user_id, "name": s.name, "signed_at": iso(s.signed_at)} for s in signed
        ],
    }
    if with_snapshot:
        body["plan"] = json.loads(version.snapshot)
    return body


def _status_json(status: plan_signoff.Status) -> dict[str, Any]:
    return {
        "state": status.state,
        "current": status.current.number if status.current else None,
        "agreed": status.agreed.number if status.agreed else None,
        "waiting_for": status.waiting_for,
    }


@bp.get("/families/<int:fid>/plan/history")
@api_login_required
def plan_history_list(fid: int) -> Any:
    """Changes to the plan, newest first; ?part= one part."""
    family = load_family(fid, "plan.view")
    limit, cursor = page_args()
    part = request.args.get("part") or None
    if part is not None and part not in part_labels():
        raise fail(400, _("Dit onderdeel bestaat niet."))
    entries = plan_history.history(family.id, part, limit + 1, cursor)
    items, next_cursor = page(entries, limit, key=lambda e: e.change.id)
    return ok(
        {
            "items": [
                {
                    "id": e.change.id,
                    "part": e.change.part,
                    "item": e.change.object_type,
                    "item_id": e.change.object_id,
                    "change": e.change.change,
                    "by": e.change.by_name,
                    "at": iso(e.change.at),
                    "title": e.title,
                    "fields": [
                        {"field": d.field, "before": d.before, "after": d.after} for d in e.diffs
                    ],
                }
                for e in items
            ],
            "next_cursor": next_cursor,
        }
    )


@bp.post("/families/<int:fid>/plan/history/<int:change_id>/restore")
@api_login_required
def plan_history_restore(fid: int, change_id: int) -> Any:
    family = load_family(fid, "plan.edit")
    change = load_change(family, change_id, "plan.edit")
    try:
        restored = plan_history.restore(change)
    except plan_history.RestoreError:
        raise fail(
            409, _("Dit onderdeel bestaat niet meer en kan niet worden teruggezet.")
        ) from None
    announce(family, getattr(restored, "version", 0))
    return ok({"restored": change.id, "item": change.object_type, "item_id": change.object_id})


@bp.get("/families/<int:fid>/plan/versions")
@api_login_required
def plan_versions_list(fid: int) -> Any:
    family = load_family(fid, "plan.view")
    return ok(
        {
            "status": _status_json(plan_signoff.status(family)),
            "items": [version_json(v) for v in plan_signoff.versions(family)],
        }
    )


@bp.post("/families/<int:fid>/plan/versions")
@api_login_required
def plan_versions_propose(fid: int) -> Any:
    """Propose the plan as it is now for agreement."""
    family = load_family(fid, "plan.propose")
    try:
        version = plan_signoff.propose(family, current_user)
    except plan_signoff.SignoffError as exc:
        raise fail(409, signoff_error_text(exc.code)) from None
    announce(family, version.number)
    return ok(version_json(version, with_snapshot=True), 201)


@bp.get("/families/<int:fid>/plan/versions/<int:number>")
@api_login_required
def plan_version_get(fid: int, number: int) -> Any:
    family = load_family(fid, "plan.view")
    return ok(version_json(load_version(family, number, "plan.view"), with_snapshot=True))


@bp.post("/families/<int:fid>/plan/signoffs")
@api_login_required
def plan_signoffs_create(fid: int) -> Any:
    """{version}: sign off that proposed version."""
    family = load_family(fid, "plan.signoff")
    payload = json_body()
    if set(payload) - {"version"}:
        raise field_error(sorted(set(payload) - {"version"})[0], _("Dit veld bestaat niet."))
    number = payload.get("version")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < MAX_ID:
        raise field_error("version", _("Stuur het nummer van de versie."))
    version = load_version(family, number, "plan.signoff")
    role = decide(current_actor(), "plan.signoff", family).role
    try:
        plan_signoff.sign(family, version, current_user, role)
    except plan_signoff.SignoffError as exc:
        raise fail(409, signoff_error_text(exc.code), reason=exc.code) from None
    announce(family, version.number)
    return ok(version_json(version), 201)
