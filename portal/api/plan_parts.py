"""De bloem, the safety plan and evaluations over the API: the same services, forms and
messages as the pages; plan.view / plan.edit through the policy; stale versions are a 409."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.access import authorize, load_family, recorded_if_refused
from portal.access.guard import load_in_family
from portal.api import bp
from portal.api.common import (
    api_login_required,
    fail,
    field_error,
    iso,
    json_body,
    no_content,
    ok,
    optional_json_body,
    page,
    page_args,
    validate,
    version_from,
)
from portal.api.plan import remove_from_plan
from portal.core.args import MAX_ID
from portal.family import plan_parts
from portal.family.forms import EvaluationForm, PetalForm, SafetyForm
from portal.family.models import Evaluation, Family, NetworkPetal, SafetyPlan
from portal.family.plan_parts_views import agenda_response, parts_error
from portal.family.services import Conflict, FamilyError
from portal.live import notify


def _stale(current: dict[str, Any], version: int) -> Any:
    from flask_babel import gettext as _

    return fail(
        409, _("Iemand anders heeft dit net veranderd."), current_version=version, current=current
    )


def _changed(family: Family, part: str, obj: Any) -> None:
    notify(family.id, "plan", "plan.changed", obj.id, obj.version, {"part": part})


def _refused(exc: FamilyError) -> Any:
    return field_error(exc.field, parts_error(exc.message))


# --- de bloem ----------------------------------------------------------------------------------


def petal_json(petal: NetworkPetal) -> dict[str, Any]:
    return {
        "id": petal.id,
        "name": petal.name,
        "relation": petal.relation,
        "contact": petal.contact,
        "kind": petal.kind,
        "member_id": petal.member_id,
        "guest_user_id": petal.guest_user_id,
        "updated_at": iso(petal.updated_at),
        "version": petal.version,
    }


def _petal_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """member_id and guest_user_id are integers (or null) in JSON; the page form reads them
    as text."""
    from flask_babel import gettext as _

    fixed = dict(payload)
    for name, refused in (
        ("member_id", _("Deze persoon hoort niet bij jullie gezin.")),
        ("guest_user_id", _("Deze persoon is geen gast van jullie gezin.")),
    ):
        if name not in fixed:
            continue
        raw = fixed[name]
        if raw is None:
            fixed[name] = ""
        elif isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < MAX_ID:
            raise field_error(name, refused)
        else:
            fixed[name] = str(raw)
    return fixed


@bp.get("/families/<int:fid>/plan/network")
@api_login_required
def list_petals(fid: int) -> Any:
    family = load_family(fid, "plan.view")
    limit, cursor = page_args()
    query = select(NetworkPetal).where(
        NetworkPetal.family_id == family.id, NetworkPetal.removed_at.is_(None)
    )
    if cursor:
        query = query.where(NetworkPetal.id > cursor)
    rows = list(db.session.scalars(query.order_by(NetworkPetal.id).limit(limit + 1)))
    items, next_cursor = page(rows, limit, lambda p: p.id)
    guests = [
        {
            "user_id": g.user_id,
            "name": g.name,
            "organisation": g.organisation,
            "profession": g.profession,
            "until": iso(g.until),
        }
        for g in plan_parts.guest_petals(family)
    ]
    return ok(
        {"items": [petal_json(p) for p in items], "next_cursor": next_cursor, "guests": guests}
    )


@bp.post("/families/<int:fid>/plan/network")
@api_login_required
def add_petal(fid: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    with recorded_if_refused("plan.view", family):
        form = validate(PetalForm, _petal_payload(json_body()))
        try:
            petal = plan_parts.add_petal(family, current_user, form.petal_data())
        except FamilyError as exc:
            raise _refused(exc) from None
    authorize("plan.edit", petal)
    _changed(family, "network", petal)
    return ok(petal_json(petal), 201)


@bp.get("/families/<int:fid>/plan/network/<int:petal_id>")
@api_login_required
def get_petal(fid: int, petal_id: int) -> Any:
    family = load_family(fid, "plan.view", record=False)
    petal = load_in_family(NetworkPetal, family, petal_id, "plan.view")
    return ok(petal_json(petal))


@bp.patch("/families/<int:fid>/plan/network/<int:petal_id>")
@api_login_required
def update_petal(fid: int, petal_id: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    petal = load_in_family(NetworkPetal, family, petal_id, "plan.edit", record=False)
    with recorded_if_refused("plan.view", petal):
        payload = json_body()
        version = version_from(payload)
        current = {
            "name": petal.name,
            "relation": petal.relation,
            "contact": petal.contact,
            "kind": petal.kind,
            "member_id": petal.member_id,
            "guest_user_id": petal.guest_user_id,
        }
        changes = {k: v for k, v in payload.items() if k != "version"}
        form = validate(PetalForm, _petal_payload({**current, **changes}))
        try:
            plan_parts.update_petal(petal, current_user, form.petal_data(), version)
        except Conflict:
            raise _stale(petal_json(petal), petal.version) from None
        except FamilyError as exc:
            raise _refused(exc) from None
    authorize("plan.edit", petal)
    _changed(family, "network", petal)
    return ok(petal_json(petal))


@bp.delete("/families/<int:fid>/plan/network/<int:petal_id>")
@api_login_required
def remove_petal(fid: int, petal_id: int) -> Any:
    """Out of de bloem; the row is kept, so agreements that name this petal keep their owner."""
    family = load_family(fid, "plan.edit", record=False)
    petal = load_in_family(NetworkPetal, family, petal_id, "plan.edit", record=False)
    with recorded_if_refused("plan.view", petal):
        version = version_from(optional_json_body())
        try:
            plan_parts.remove_petal(petal, current_user, version)
        except Conflict:
            raise _stale(petal_json(petal), petal.version) from None
    authorize("plan.edit", petal)
    _changed(family, "network", petal)
    return no_content()


# --- veiligheid --------------------------------------------------------------------------------


def safety_json(safety: SafetyPlan) -> dict[str, Any]:
    return {
        "family_id": safety.family_id,
        "signals": safety.signals,
        "actions": safety.actions,
        "contacts": safety.contacts,
        "updated_at": iso(safety.updated_at),
        "updated_by_name": safety.updated_by_name,
        "version": safety.version,
    }


@bp.get("/families/<int:fid>/plan/safety")
@api_login_required
def get_safety(fid: int) -> Any:
    family = load_family(fid, "plan.view", record=False)
    safety = plan_parts.safety_of(family)
    authorize("plan.view", safety)
    return ok(safety_json(safety))


@bp.put("/families/<int:fid>/plan/safety")
@api_login_required
def put_safety(fid: int) -> Any:
    """Replace the safety plan; fields left out become empty. Stale version: 409."""
    family = load_family(fid, "plan.edit", record=False)
    safety = plan_parts.safety_of(family)
    with recorded_if_refused("plan.view", safety):
        payload = json_body()
        version = version_from(payload)
        form = validate(SafetyForm, {k: v for k, v in payload.items() if k != "version"})
        try:
            plan_parts.update_safety(safety, current_user, form.safety_data(), version)
        except Conflict:
            raise _stale(safety_json(safety), safety.version) from None
    authorize("plan.edit", safety)
    _changed(family, "safety", safety)
    return ok(safety_json(safety))


# --- evaluatie ---------------------------------------------------------------------------------


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.id,
        "kind": evaluation.kind,
        "title": evaluation.title,
        "held_on": iso(evaluation.held_on),
        "start_time": evaluation.start_time or None,
        "participants": evaluation.participants,
        "went_well": evaluation.went_well,
        "changes": evaluation.changes,
        "next_steps": evaluation.next_steps,
        "updated_at": iso(evaluation.updated_at),
        "version": evaluation.version,
    }


@bp.get("/families/<int:fid>/plan/evaluations")
@api_login_required
def list_evaluations(fid: int) -> Any:
    """Newest id first; the page's agenda is the ones from today on."""
    family = load_family(fid, "plan.view")
    limit, cursor = page_args()
    query = select(Evaluation).where(
        Evaluation.family_id == family.id, Evaluation.removed_at.is_(None)
    )
    if cursor:
        query = query.where(Evaluation.id < cursor)
    rows = list(db.session.scalars(query.order_by(Evaluation.id.desc()).limit(limit + 1)))
    items, next_cursor = page(rows, limit, lambda e: e.id)
    return ok({"items": [evaluation_json(e) for e in items], "next_cursor": next_cursor})


@bp.post("/families/<int:fid>/plan/evaluations")
@api_login_required
def add_evaluation(fid: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    with recorded_if_refused("plan.view", family):
        form = validate(EvaluationForm, json_body())
        try:
            evaluation = plan_parts.add_evaluation(family, current_user, form.evaluation_data())
        except FamilyError as exc:
            raise _refused(exc) from None
    authorize("plan.edit", evaluation)
    _changed(family, "evaluation", evaluation)
    return ok(evaluation_json(evaluation), 201)


@bp.get("/families/<int:fid>/plan/evaluations/<int:evaluation_id>")
@api_login_required
def get_evaluation(fid: int, evaluation_id: int) -> Any:
    family = load_family(fid, "plan.view", record=False)
    evaluation = load_in_family(Evaluation, family, evaluation_id, "plan.view")
    return ok(evaluation_json(evaluation))


@bp.patch("/families/<int:fid>/plan/evaluations/<int:evaluation_id>")
@api_login_required
def update_evaluation(fid: int, evaluation_id: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    evaluation = load_in_family(Evaluation, family, evaluation_id, "plan.edit", record=False)
    with recorded_if_refused("plan.view", evaluation):
        payload = json_body()
        version = version_from(payload)
        current = {
            name: value
            for name, value in evaluation_json(evaluation).items()
            if name not in ("id", "updated_at", "version") and value is not None
        }
        changes = {k: v for k, v in payload.items() if k != "version"}
        form = validate(EvaluationForm, {**current, **changes})
        try:
            plan_parts.update_evaluation(evaluation, current_user, form.evaluation_data(), version)
        except Conflict:
            raise _stale(evaluation_json(evaluation), evaluation.version) from None
        except FamilyError as exc:
            raise _refused(exc) from None
    authorize("plan.edit", evaluation)
    _changed(family, "evaluation", evaluation)
    return ok(evaluation_json(evaluation))


@bp.delete("/families/<int:fid>/plan/evaluations/<int:evaluation_id>")
@api_login_required
def remove_evaluation(fid: int, evaluation_id: int) -> Any:
    """Take the moment out of the plan (?version=); it stays in the history, to put back."""
    family = load_family(fid, "plan.edit", record=False)
    item = load_in_family(Evaluation, family, evaluation_id, "plan.edit", record=False)
    return remove_from_plan(family, item, "evaluation")


@bp.get("/families/<int:fid>/plan/agenda.ics")
@api_login_required
def agenda_ics(fid: int) -> Any:
    """The same iCalendar file as the page's download link."""
    return agenda_response(load_family(fid, "plan.view"))
