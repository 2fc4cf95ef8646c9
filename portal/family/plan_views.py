"""The gezinsplan's 'Onze vragen' and the dossier: pages shared by the family and by guests
with the part granted (the policy decides, per request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import db
from portal.access import authorize, load_family
from portal.access.guard import load_in_family
from portal.core import clock
from portal.family import plan_services
from portal.family.forms import (
    AgreementForm,
    ConfirmForm,
    GoalForm,
    PlanQuestionsForm,
    ScoreForm,
)
from portal.family.models import (
    WRAPAROUND_QUESTIONS,
    Agreement,
    Family,
    Goal,
    Plan,
)
from portal.family.page import family_context as guest_context
from portal.family.services import Conflict, FamilyError, current_members, one_per_family
from portal.family.views import bp
from portal.live import notify

if TYPE_CHECKING:
    from portal.family.models import Member, NetworkPetal
    from portal.family.plan_parts import GuestPetal

PAGE_SIZE = 25  # goals, and agreements, per page of the plan (the PDF holds them all)


@dataclass(frozen=True)
class Pager:
    """Where a paged list stands, and the links to its neighbours."""

    total: int
    first: int  # 1-based position of the first item shown
    last: int
    prev_url: str | None
    next_url: str | None


def plan_of(family: Family) -> Plan:
    return one_per_family(Plan, family)


def question_labels() -> list[tuple[str, str]]:
    # The labels as the form class declares them: making a form (with its CSRF token) only
    # to read five labels cost about 2 ms of every plan page.
    return [(name, str(getattr(PlanQuestionsForm, name).args[0])) for name in WRAPAROUND_QUESTIONS]


@bp.route("/families/<int:family_id>/plan")
@login_required
def plan(family_id: int) -> Any:
    family = load_family(family_id, "plan.view", record=False)
    current = plan_of(family)
    authorize("plan.view", current)
    return _plan_page(family, plan=current)


@bp.route("/families/<int:family_id>/plan/edit", methods=["GET", "POST"])
@login_required
def plan_edit(family_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    current = plan_of(family)
    authorize("plan.edit", current, record=False)
    form = PlanQuestionsForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(current.version)
    conflict = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        if form.version.data != str(current.version):
            conflict, status = current, 409
            form.version.data = str(current.version)
        else:
            for name in WRAPAROUND_QUESTIONS:
                setattr(current, name, (getattr(form, name).data or "").strip())
            current.updated_at = clock.now()
            current.updated_by_id = current_user.id
            current.updated_by_name = current_user.display_name
            db.session.flush()
            authorize("plan.edit", current)
            notify(
                family.id,
                "plan",
                "plan.changed",
                current.id,
                current.version,
                {"by": current_user.display_name},
            )
            flash(_("Het plan is opgeslagen."), "success")
            return redirect(url_for("family.plan", family_id=family.id))
    authorize("plan.view", current)
    return render_template(
        "family/plan_edit.html",
        family=family,
        form=form,
        conflict=conflict,
        questions=question_labels(),
        **guest_context(family),
    ), status


# --- goals (doelen) and agreements (afspraken) ---------------------------------------------------


def people_for_agreements(
    family: Family,
    petals: list[NetworkPetal] | None = None,
    guests: list[GuestPetal] | None = None,
    members: list[Member] | None = None,
) -> list[tuple[str, str, int | None]]:
    """(choice value, name, user id) for everyone who can own an agreement: members (also
    children and network without a login), guests with the plan part, and the petals of de
    bloem. A fixed number of queries, however many people there are."""
    from portal.family import plan_parts

    people: list[tuple[str, str, int | None]] = [
        (f"member:{m.id}", m.display_name, m.user_id)
        for m in (members if members is not None else current_members(family))
    ]
    if guests is None:
        guests = plan_parts.guest_petals(family)
    if petals is None:
        petals = plan_parts.petals(family)
    people += [(f"guest:{g.user_id}", g.name, g.user_id) for g in guests]
    # A petal that stands for a guest of now is that guest: offered once, as the guest.
    now_guests = {g.user_id for g in guests}
    people += [(f"petal:{p.id}", p.name, None) for p in petals if p.guest_user_id not in now_guests]
    return people


def petal_of_owner(value: str) -> int | None:
    """The petal id in an owner choice like "petal:12", else None."""
    kind, _sep, raw = value.partition(":")
    return int(raw) if kind == "petal" and raw.isdecimal() and len(raw) < 19 else None


def _agreement_form(
    family: Family,
    goals_list: list[Goal],
    people: list[tuple[str, str, int | None]] | None = None,
    **kwargs: Any,
) -> AgreementForm:
    form = AgreementForm(**kwargs)
    # In groups: the same person can be a member and a petal of de bloem (or a guest and a
    # petal), and a flat list showed "Oma Els" twice without saying which is which.
    groups: dict[str | None, list[tuple[str, str]]] = {None: [("", _("Kies iemand"))]}
    titles = {
        "member": _("Het gezin en het netwerk"),
        "guest": _("Gasten"),
        "petal": _("In de bloem"),
    }
    for value, name, _user in people if people is not None else people_for_agreements(family):
        groups.setdefault(titles[value.partition(":")[0]], []).append((value, name))
    form.owner.choices = groups
    form.goal_id.choices = [("", _("Geen"))] + [(str(g.id), g.title) for g in goals_list]
    return form


def plan_context(family: Family, plan: Plan | None = None) -> dict[str, Any]:
    """Everything the plan shows, all of it, for reading (the PDF); the page draws its sections
    itself (portal/family/plan_page.py)."""
    from portal.family.plan_parts_views import parts_context

    return {
        "family": family,
        "plan": plan or plan_of(family),
        "questions": question_labels(),
        "can_edit": False,
        "goals": plan_services.goals(family),
        "scores": plan_services.scores_by_goal(family),
        "agreements": plan_services.agreements(family),
        "today": clock.today(),
        **parts_context(family),
    }


def _plan_page(family: Family, status: int = 200, plan: Plan | None = None, **forms: Any) -> Any:
    """The plan page; `forms` that came back with what was typed (goal_form, agreement_form,
    petal_form, evaluation_form) are shown as they are."""
    from portal.family.plan_page import plan_page

    return plan_page(family, plan or plan_of(family), status, **forms)


def _changed(family: Family, kind: str, obj: Goal | Agreement) -> None:
    notify(family.id, "plan", "plan.changed", obj.id, obj.version, {"part": kind})


@bp.route("/families/<int:family_id>/plan/goals", methods=["POST"])
@login_required
def goal_add(family_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    form = GoalForm()
    if form.validate():
        goal = plan_services.add_goal(
            family,
            current_user,
            form.goal_data(),
        )
        authorize("plan.edit", goal)
        _changed(family, "goal", goal)
        flash(_("Het doel is toegevoegd."), "success")
        return redirect(url_for("family.plan", family_id=family.id) + f"#goal-{goal.id}")
    authorize("plan.view", family)
    return _plan_page(family, 422, goal_form=form)


@bp.route("/families/<int:family_id>/plan/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def goal_edit(family_id: int, goal_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    goal = load_in_family(Goal, family, goal_id, "plan.edit", record=False)
    form = GoalForm(obj=goal if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(goal.version)
    conflict = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            plan_services.update_goal(
                goal,
                current_user,
                form.goal_data(),
                int(form.version.data or -1) if (form.version.data or "").isdecimal() else -1,
            )
        except Conflict:
            conflict, status = goal, 409
            form.version.data = str(goal.version)
        else:
            authorize("plan.edit", goal)
            _changed(family, "goal", goal)
            flash(_("Het doel is opgeslagen."), "success")
            return redirect(url_for("family.plan", family_id=family.id) + f"#goal-{goal.id}")
    authorize("plan.view", goal)
    return render_template(
        "family/goal_edit.html",
        family=family,
        goal=goal,
        form=form,
        conflict=conflict,
        **guest_context(family),
    ), status


@bp.route("/families/<int:family_id>/plan/goals/<int:goal_id>/scores", methods=["POST"])
@login_required
def goal_score(family_id: int, goal_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    goal = load_in_family(Goal, family, goal_id, "plan.edit", record=False)
    form = ScoreForm()
    error = None
    if form.validate():
        try:
            plan_services.add_score(goal, current_user, form.score.data or 0, form.scored_on.data)
        except FamilyError as exc:
            error = exc.field
        else:
            authorize("plan.edit", goal)
            _changed(family, "score", goal)
            flash(_("De score is opgeslagen."), "success")
            return redirect(url_for("family.plan", family_id=family.id) + f"#goal-{goal.id}")
    authorize("plan.view", goal)
    messages = [m for errors in form.errors.values() for m in errors]
    flash(
        " ".join(str(m) for m in messages)
        or (_("Deze datum ligt in de toekomst.") if error else _("Controleer de score.")),
        "error",
    )
    return _plan_page(family, 422)


@bp.route("/families/<int:family_id>/plan/agreements", methods=["POST"])
@login_required
def agreement_add(family_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    form = _agreement_form(family, plan_services.goals_to_link(family))
    if form.validate():
        people = {v: (n, u) for v, n, u in people_for_agreements(family)}
        name, user_id = people.get(form.owner.data or "", ("", None))
        try:
            agreement = plan_services.add_agreement(
                family,
                current_user,
                plan_services.AgreementData(
                    form.what.data or "",
                    user_id,
                    name,
                    form.due_on.data,
                    int(form.goal_id.data) if (form.goal_id.data or "").isdecimal() else None,
                    petal_of_owner(form.owner.data or ""),
                ),
            )
        except FamilyError:
            form.owner.errors = [*form.owner.errors, _("Kies iemand")]
        else:
            authorize("plan.edit", agreement)
            _changed(family, "agreement", agreement)
            flash(_("De afspraak is toegevoegd."), "success")
            return redirect(url_for("family.plan", family_id=family.id) + "#agreements")
    authorize("plan.view", family)
    return _plan_page(family, 422, agreement_form=form)


@bp.route("/families/<int:family_id>/plan/agreements/<int:agreement_id>/done", methods=["POST"])
@login_required
def agreement_done(family_id: int, agreement_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    agreement = load_in_family(Agreement, family, agreement_id, "plan.edit", record=False)
    form = ConfirmForm()
    if not form.validate():
        authorize("plan.view", agreement)
        return _plan_page(family, 400)
    try:
        version = int(form.version.data or "-1")
    except ValueError:
        version = -1
    try:
        plan_services.set_done(agreement, request.form.get("done") == "1", version)
    except Conflict:
        authorize("plan.view", agreement)
        flash(_("Iemand anders heeft deze afspraak net veranderd. Kijk nog een keer."), "warning")
        return _plan_page(family, 409)
    authorize("plan.edit", agreement)
    _changed(family, "agreement", agreement)
    return redirect(url_for("family.plan", family_id=family.id) + "#agreements")


@bp.route("/families/<int:family_id>/plan.pdf")
@login_required
def plan_pdf(family_id: int) -> Any:
    """The whole plan as a PDF download."""
    from portal.family import plan_pdf as pdf

    family = load_family(family_id, "plan.view", record=False)
    current = plan_of(family)
    authorize("plan.view", current)
    context = plan_context(family, current)
    return pdf.download(family, context, clock.today().isoformat())
