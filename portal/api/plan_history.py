"""The plan's history and its agreement over the API: /plan/history, /plan/versions,
/plan/signoffs (the same services and policy as the pages)."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import authorize, current_actor, load_family, recorded_if_refused
from portal.access.policy import decide
from portal.api import bp
from portal.api.common import api_login_required, fail, field_error, json_body, ok, page, page_args
from portal.api.serialize import iso
from portal.core.args import MAX_ID
from portal.family import plan_history, plan_signoff
from portal.family.models import Family
from portal.family.plan_history_models import PlanVersion
from portal.family.plan_history_views import announce, load_change, part_labels
from portal.family.plan_version_views import ANSWERS, load_version, signoff_error_text


def version_json(
    version: PlanVersion, family: Family, with_snapshot: bool = False
) -> dict[str, Any]:
    signers = plan_signoff.signers(version, family)
    body: dict[str, Any] = {
        "number": version.number,
        "proposed_by": version.proposed_by_name,
        "proposed_at": iso(version.proposed_at),
        "agreed_at": iso(version.agreed_at),
        "superseded_at": iso(version.superseded_at),
        "open": plan_signoff.is_open(version, family),
        "signers": [s.as_json() for s in signers],
        # Kept for clients of the first version of this document: names and logins only.
        "required": [{"user_id": s.user_id, "name": s.name, "why": s.why} for s in signers],
        "signoffs": [
            {"user_id": s.user_id, "name": s.name, "signed_at": iso(s.signed_at)}
            for s in plan_signoff.signoffs(version)
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
        "waiting_for": [s.as_json() for s in status.waiting_for],
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
            "items": [version_json(v, family) for v in plan_signoff.versions(family)],
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
    return ok(version_json(version, family, with_snapshot=True), 201)


@bp.get("/families/<int:fid>/plan/versions/<int:number>")
@api_login_required
def plan_version_get(fid: int, number: int) -> Any:
    family = load_family(fid, "plan.view")
    return ok(version_json(load_version(family, number, "plan.view"), family, with_snapshot=True))


SIGNOFF_FIELDS = {"version", "answer", "reason", "signer"}


@bp.post("/families/<int:fid>/plan/signoffs")
@api_login_required
def plan_signoffs_create(fid: int) -> Any:
    """{version, answer?, reason?, signer?}: answer a proposed version. "agree" (the default)
    signs it; "disagree" says "niet akkoord" with a reason; "not_taking_part" marks the young
    person `signer` as not taking part, with a reason (a parent with authority only)."""
    family = load_family(fid, "plan.signoff", record=False)
    with recorded_if_refused("plan.signoff", family):
        payload = json_body()
    answer = payload.get("answer", "agree")
    action = "plan.excuse" if answer == "not_taking_part" else "plan.signoff"
    authorize(action, family)
    if set(payload) - SIGNOFF_FIELDS:
        raise field_error(sorted(set(payload) - SIGNOFF_FIELDS)[0], _("Dit veld bestaat niet."))
    if answer not in ANSWERS:
        raise field_error("answer", _("Kies agree, disagree of not_taking_part."))
    number = payload.get("version")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < MAX_ID:
        raise field_error("version", _("Stuur het nummer van de versie."))
    reason = payload.get("reason", "")
    if not isinstance(reason, str):
        raise field_error("reason", _("Schrijf de reden als tekst."))
    signer = payload.get("signer")
    if answer == "not_taking_part" and (
        not isinstance(signer, int) or isinstance(signer, bool) or not 0 < signer < MAX_ID
    ):
        raise field_error("signer", _("Stuur het id van de jongere uit de lijst signers."))
    version = load_version(family, number, action)
    try:
        role = decide(current_actor(), "plan.signoff", family).role
        plan_signoff.answer(family, version, current_user, role, answer, reason, signer)
    except plan_signoff.SignoffError as exc:
        if exc.code in ("reason_required", "reason_too_long"):
            raise field_error("reason", signoff_error_text(exc.code, reason)) from None
        raise fail(409, signoff_error_text(exc.code), reason=exc.code) from None
    announce(family, version.number)
    return ok(version_json(version, family), 201)
