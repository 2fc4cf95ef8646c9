"""The gezinsplan over the API: the five questions, goals and agreements (same services and
checks as the pages; plan.view / plan.edit through the policy)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from portal import db
from portal.access import authorize, load_family, recorded_if_refused
from portal.access.guard import load_in_family
from portal.api import bp
from portal.api.common import (
    api_login_required,
    fail,
    field_error,
    json_body,
    no_content,
    ok,
    page,
    page_args,
    validate,
    version_from,
)
from portal.api.serialize import agreement_json, goal_json
from portal.core import clock
from portal.core.args import MAX_ID
from portal.family import plan_services
from portal.family.forms import GoalForm, PlanQuestionsForm
from portal.family.models import WRAPAROUND_QUESTIONS, Agreement, Evaluation, Family, Goal
from portal.family.plan_views import people_for_agreements, petal_of_owner, plan_of
from portal.family.services import Conflict, FamilyError
from portal.family.views import error_text
from portal.live import notify


def _plan_json(family: Family) -> dict[str, Any]:
    plan = plan_of(family)
    scores = plan_services.scores_by_goal(family)
    return {
        "family_id": family.id,
        "questions": {name: getattr(plan, name) for name in WRAPAROUND_QUESTIONS},
        "version": plan.version,
        "goals": [goal_json(g, scores.get(g.id, [])) for g in plan_services.goals(family)],
        "agreements": [agreement_json(a) for a in plan_services.agreements(family)],
    }


@bp.get("/families/<int:fid>/plan")
@api_login_required
def get_plan(fid: int) -> Any:
    family = load_family(fid, "plan.view", record=False)
    authorize("plan.view", plan_of(family))
    return ok(_plan_json(family))


@bp.get("/families/<int:fid>/plan/goals")
@api_login_required
def list_goals(fid: int) -> Any:
    """The plan's goals with their scores, oldest first, a page at a time (?limit=, ?cursor=):
    `GET …/plan` holds them all, which a plan of thousands makes heavy."""
    family = load_family(fid, "plan.view", record=False)
    authorize("plan.view", plan_of(family))
    limit, cursor = page_args()
    items, next_cursor = page(
        plan_services.goals(family, limit=limit + 1, after_id=cursor), limit, key=lambda g: g.id
    )
    scores = plan_services.scores_by_goal(family, [g.id for g in items])
    return ok(
        {
            "items": [goal_json(g, scores.get(g.id, [])) for g in items],
            "next_cursor": next_cursor,
        }
    )


@bp.get("/families/<int:fid>/plan/agreements")
@api_login_required
def list_agreements(fid: int) -> Any:
    """The plan's agreements in the order they were made, a page at a time."""
    family = load_family(fid, "plan.view", record=False)
    authorize("plan.view", plan_of(family))
    limit, cursor = page_args()
    rows = plan_services.agreements_by_id(family, limit=limit + 1, after_id=cursor)
    items, next_cursor = page(rows, limit, key=lambda a: a.id)
    return ok({"items": [agreement_json(a) for a in items], "next_cursor": next_cursor})


@bp.put("/families/<int:fid>/plan")
@api_login_required
def put_plan(fid: int) -> Any:
    """Replace the answers to the five questions; a stale version is a 409, never an overwrite."""
    family = load_family(fid, "plan.edit", record=False)
    plan = plan_of(family)
    with recorded_if_refused("plan.view", plan):
        payload = json_body()
        version = version_from(payload)
        form = validate(PlanQuestionsForm, {k: v for k, v in payload.items() if k != "version"})
        if version != plan.version:
            raise fail(
                409,
                _("Iemand anders heeft dit net veranderd."),
                current_version=plan.version,
                current=_plan_json(family),
            )
        for name in WRAPAROUND_QUESTIONS:
            if name in payload:
                setattr(plan, name, (getattr(form, name).data or "").strip())
        plan.updated_at, plan.updated_by_name = clock.now(), current_user.display_name
        plan.updated_by_id = current_user.id
        db.session.flush()
    authorize("plan.edit", plan)
    notify(family.id, "plan", "plan.changed", plan.id, plan.version, {"part": "questions"})
    return ok(_plan_json(family))


@bp.post("/families/<int:fid>/plan/goals")
@api_login_required
def add_goal(fid: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    with recorded_if_refused("plan.view", family):
        form = validate(GoalForm, json_body())
        goal = plan_services.add_goal(family, current_user, form.goal_data())
    authorize("plan.edit", goal)
    notify(family.id, "plan", "plan.changed", goal.id, goal.version, {"part": "goal"})
    return ok(goal_json(goal, []), 201)


@bp.patch("/families/<int:fid>/plan/goals/<int:goal_id>")
@api_login_required
def update_goal(fid: int, goal_id: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    goal = load_in_family(Goal, family, goal_id, "plan.edit", record=False)
    with recorded_if_refused("plan.view", goal):
        payload = json_body()
        version = version_from(payload)
        current = {
            "title": goal.title,
            "description": goal.description,
            "owner": goal.owner,
            "phase": goal.phase,
        }
        changes = {k: v for k, v in payload.items() if k != "version"}
        form = validate(GoalForm, {**current, **changes})
        try:
            plan_services.update_goal(goal, current_user, form.goal_data(), version)
        except Conflict:
            raise fail(
                409,
                _("Iemand anders heeft dit net veranderd."),
                current_version=goal.version,
                current=goal_json(goal, []),
            ) from None
    authorize("plan.edit", goal)
    notify(family.id, "plan", "plan.changed", goal.id, goal.version, {"part": "goal"})
    return ok(goal_json(goal, plan_services.scores_by_goal(family, [goal.id]).get(goal.id, [])))


def _agreement_fields(family: Family, payload: dict[str, Any]) -> plan_services.AgreementData:
    from datetime import date

    what, owner, due, goal_id = (payload.get(k) for k in ("what", "owner", "due_on", "goal_id"))
    if not isinstance(what, str):
        raise field_error("what", _("Vul dit veld in."))
    people = {value: (name, user) for value, name, user in people_for_agreements(family)}
    if not isinstance(owner, str) or owner not in people:
        raise field_error("owner", _("Kies iemand uit het gezin of een gast met het plan."))
    try:
        due_on = date.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        raise field_error("due_on", _("Gebruik een datum als 2026-11-22.")) from None
    if due is not None and not isinstance(due, str):
        raise field_error("due_on", _("Gebruik een datum als 2026-11-22."))
    if goal_id is not None and (
        not isinstance(goal_id, int) or isinstance(goal_id, bool) or not 0 < goal_id < MAX_ID
    ):
        raise field_error("goal_id", _("Dit doel bestaat niet."))
    name, user_id = people[owner]
    return plan_services.AgreementData(what, user_id, name, due_on, goal_id, petal_of_owner(owner))


@bp.post("/families/<int:fid>/plan/agreements")
@api_login_required
def add_agreement(fid: int) -> Any:
    """Owner is one of the choices the page offers: "member:<id>", "guest:<user id>" or
    "petal:<id>" (a petal of de bloem)."""
    family = load_family(fid, "plan.edit", record=False)
    with recorded_if_refused("plan.view", family):
        payload = json_body()
        unknown = set(payload) - {"what", "owner", "due_on", "goal_id"}
        if unknown:
            raise field_error(sorted(unknown)[0], _("Dit veld bestaat niet."))
        try:
            agreement = plan_services.add_agreement(
                family, current_user, _agreement_fields(family, payload)
            )
        except FamilyError as exc:
            raise field_error(exc.field, error_text(exc.message)) from None
    authorize("plan.edit", agreement)
    notify(
        family.id, "plan", "plan.changed", agreement.id, agreement.version, {"part": "agreement"}
    )
    return ok(agreement_json(agreement), 201)


@bp.patch("/families/<int:fid>/plan/agreements/<int:agreement_id>")
@api_login_required
def update_agreement(fid: int, agreement_id: int) -> Any:
    """Mark done or not done (the page's one-click change), with the version you saw."""
    family = load_family(fid, "plan.edit", record=False)
    agreement = load_in_family(Agreement, family, agreement_id, "plan.edit", record=False)
    with recorded_if_refused("plan.view", agreement):
        payload = json_body()
        version = version_from(payload)
        if set(payload) - {"done", "version"}:
            raise field_error(
                sorted(set(payload) - {"done", "version"})[0], _("Dit veld bestaat niet.")
            )
        done = payload.get("done")
        if not isinstance(done, bool):
            raise field_error("done", _("Dit veld moet true of false zijn."))
        try:
            plan_services.set_done(agreement, done, version)
        except Conflict:
            raise fail(
                409,
                _("Iemand anders heeft dit net veranderd."),
                current_version=agreement.version,
                current=agreement_json(agreement),
            ) from None
    authorize("plan.edit", agreement)
    notify(
        family.id, "plan", "plan.changed", agreement.id, agreement.version, {"part": "agreement"}
    )
    return ok(agreement_json(agreement))


@bp.get("/families/<int:fid>/plan/goals/<int:goal_id>")
@api_login_required
def get_goal(fid: int, goal_id: int) -> Any:
    family = load_family(fid, "plan.view", record=False)
    goal = load_in_family(Goal, family, goal_id, "plan.view")
    return ok(goal_json(goal, plan_services.scores_by_goal(family, [goal.id]).get(goal.id, [])))


@bp.post("/families/<int:fid>/plan/goals/<int:goal_id>/scores")
@api_login_required
def add_goal_score(fid: int, goal_id: int) -> Any:
    """{score: 0-10, on?: date}: a scale score at an evaluation (not in the future)."""
    from datetime import date

    family = load_family(fid, "plan.edit", record=False)
    goal = load_in_family(Goal, family, goal_id, "plan.edit", record=False)
    with recorded_if_refused("plan.view", goal):
        payload = json_body()
        if set(payload) - {"score", "on"}:
            raise field_error(
                sorted(set(payload) - {"score", "on"})[0], _("Dit veld bestaat niet.")
            )
        raw_on = payload.get("on")
        try:
            on = date.fromisoformat(raw_on) if isinstance(raw_on, str) else None
        except ValueError:
            raise field_error("on", _("Gebruik een datum als 2026-11-22.")) from None
        if raw_on is not None and not isinstance(raw_on, str):
            raise field_error("on", _("Gebruik een datum als 2026-11-22."))
        try:
            plan_services.add_score(goal, current_user, payload.get("score"), on)  # type: ignore[arg-type]
        except FamilyError as exc:
            message = (
                _("Een score is een heel getal van 0 tot en met 10.")
                if exc.field == "score"
                else _("Deze datum ligt in de toekomst.")
            )
            raise field_error("score" if exc.field == "score" else "on", message) from None
    authorize("plan.edit", goal)
    notify(family.id, "plan", "plan.changed", goal.id, goal.version, {"part": "score"})
    return ok(
        goal_json(goal, plan_services.scores_by_goal(family, [goal.id]).get(goal.id, [])), 201
    )


@bp.get("/families/<int:fid>/plan/agreements/<int:agreement_id>")
@api_login_required
def get_agreement(fid: int, agreement_id: int) -> Any:
    family = load_family(fid, "plan.view", record=False)
    return ok(agreement_json(load_in_family(Agreement, family, agreement_id, "plan.view")))


def remove_from_plan(family: Family, item: Goal | Agreement | Evaluation, kind: str) -> Any:
    with recorded_if_refused("plan.view", item):
        raw = request.args.get("version", "")
        if not raw.isdecimal() or int(raw) >= MAX_ID:
            raise fail(400, _("Stuur ?version= mee."))
        try:
            plan_services.remove(item, int(raw))
        except Conflict:
            raise fail(
                409, _("Iemand anders heeft dit net veranderd."), current_version=item.version
            ) from None
    authorize("plan.edit", item)
    notify(family.id, "plan", "plan.changed", item.id, item.version, {"part": kind})
    return no_content()


@bp.delete("/families/<int:fid>/plan/goals/<int:goal_id>")
@api_login_required
def remove_goal(fid: int, goal_id: int) -> Any:
    """Take the goal out of the plan (?version=); it stays in the history, to put back."""
    family = load_family(fid, "plan.edit", record=False)
    item = load_in_family(Goal, family, goal_id, "plan.edit", record=False)
    return remove_from_plan(family, item, "goal")


@bp.delete("/families/<int:fid>/plan/agreements/<int:agreement_id>")
@api_login_required
def remove_agreement(fid: int, agreement_id: int) -> Any:
    family = load_family(fid, "plan.edit", record=False)
    item = load_in_family(Agreement, family, agreement_id, "plan.edit", record=False)
    return remove_from_plan(family, item, "agreement")
