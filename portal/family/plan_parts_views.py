"""Pages for de bloem, the safety plan, evaluations and the agenda (.ics). Thin: load through
the policy, call the services in plan_parts, render; plan.changed after commit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import db
from portal.access import authorize, load_family
from portal.access.guard import load_in_family
from portal.auth.models import User
from portal.core import clock
from portal.family import ics, plan_parts
from portal.family.forms import ConfirmForm, EvaluationForm, PetalForm, SafetyForm
from portal.family.models import Evaluation, Family, Member, NetworkPetal
from portal.family.page import family_context as guest_context
from portal.family.plan_views import _plan_page
from portal.family.services import Conflict, FamilyError, current_members
from portal.family.views import bp
from portal.live import notify


def parts_error(code: str) -> str:
    return {
        "name_required": _("Vul een naam in."),
        "title_required": _("Vul een titel in."),
        "unknown_kind": _("Kies uit de lijst."),
        "unknown_member": _("Deze persoon hoort niet bij jullie gezin."),
        "member_removed": _(
            "Deze persoon doet niet meer mee in de gezinsruimte. Kies iemand anders, of niemand."
        ),
        "unknown_guest": _("Deze persoon is geen gast van jullie gezin."),
        "member_or_guest": _(
            "Kies een gezinslid óf een gast, niet allebei. Een gast is geen gezinslid."
        ),
        "date_required": _("Vul een datum in."),
        "date_impossible": _("Deze datum kan niet kloppen. Kies een datum na het jaar 2000."),
        "time_invalid": _("Schrijf de tijd als 14:30."),
    }.get(code, _("Dit kon niet. Controleer wat je invulde."))


def _version(raw: str | None) -> int:
    text = raw or ""
    return int(text) if text.isdecimal() and len(text) < 19 else -1


def _petal_form(
    family: Family,
    members: list[Member] | None = None,
    guests: list[plan_parts.GuestPetal] | None = None,
    linked: NetworkPetal | None = None,
    **kwargs: Any,
) -> PetalForm:
    """The petal form with its choices: the family's members, and the guests now in de bloem
    (plus, when editing, the guest this petal already stands for, also after their access)."""
    form = PetalForm(**kwargs)
    form.member_id.choices = [("", _("Nee, of weet ik niet"))] + [
        (str(m.id), m.display_name)
        for m in (members if members is not None else current_members(family))
    ]
    current = guests if guests is not None else plan_parts.guest_petals(family)
    form.guest_user_id.choices = [("", _("Nee"))] + [
        (str(g.user_id), f"{g.name} ({g.organisation})" if g.organisation else g.name)
        for g in current
    ]
    former_id = linked.guest_user_id if linked is not None else None
    if former_id is not None and all(g.user_id != former_id for g in current):
        former = db.session.get(User, former_id)
        if former is not None:
            form.guest_user_id.choices.append(
                (str(former.id), _("%(name)s (geen toegang meer)", name=former.display_name))
            )
    return form


def _changed(family: Family, part: str, obj: Any) -> None:
    notify(family.id, "plan", "plan.changed", obj.id, obj.version, {"part": part})


def flower_entries(
    family: Family,
    can_edit: bool,
    petals: list[NetworkPetal],
    guests: list[plan_parts.GuestPetal],
) -> list[dict[str, Any]]:
    """Everyone in de bloem: the family's petals, then guests with the plan part. A guest a
    petal stands for is shown on that petal (with the last day of their access), not twice."""
    entries: list[dict[str, Any]] = []
    gone = plan_parts.members_gone(family)
    until = {guest.user_id: guest.until for guest in guests}
    on_a_petal = {p.guest_user_id for p in petals if p.guest_user_id in until}
    for petal in petals:
        entries.append(
            {
                "id": f"petal-{petal.id}",
                "name": petal.name,
                "relation": petal.relation,
                "contact": petal.contact,
                "kind": petal.kind,
                "until": until.get(petal.guest_user_id) if petal.guest_user_id else None,
                "guest": petal.guest_user_id in on_a_petal,
                "edit": url_for("family.petal_edit", family_id=family.id, petal_id=petal.id)
                if can_edit
                else None,
                "remove": url_for("family.petal_remove", family_id=family.id, petal_id=petal.id)
                if can_edit
                else None,
                "linked": petal.member_id is not None,
                "member_gone": petal.member_id in gone,
            }
        )
    for guest in guests:
        if guest.user_id in on_a_petal:
            continue
        entries.append(
            {
                "id": f"guest-{guest.user_id}",
                "name": guest.name,
                "relation": guest.organisation or "",
                "contact": "",
                "kind": "guest",
                "until": guest.until,
                "guest": True,
                "edit": None,
                "remove": None,
                "linked": True,
                "member_gone": False,
            }
        )
    return entries


def parts_context(family: Family) -> dict[str, Any]:
    """What the plan shows of de bloem, the safety plan and the evaluations, for reading (the
    PDF; the page draws its sections in portal/family/plan_page.py)."""
    petals, guests = plan_parts.petals(family), plan_parts.guest_petals(family)
    entries = flower_entries(family, False, petals, guests)
    items = plan_parts.evaluations(family)
    return {
        "flower": list(zip(entries, plan_parts.flower_layout(len(entries)), strict=False)),
        "flower_entries": entries,
        "flower_max": plan_parts.FLOWER_MAX,
        "safety": plan_parts.safety_of(family),
        "evaluations": items,
        "agenda": plan_parts.upcoming(items, clock.today()),
        "removed_petals": plan_parts.removed_petal_ids(family),
    }


# --- de bloem ----------------------------------------------------------------------------------


@bp.route("/families/<int:family_id>/plan/network", methods=["POST"])
@login_required
def petal_add(family_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    form = _petal_form(family)
    if form.validate():
        try:
            petal = plan_parts.add_petal(family, current_user, form.petal_data())
        except FamilyError as exc:
            field = getattr(form, exc.field or "name")
            field.errors = [*field.errors, parts_error(exc.message)]
        else:
            authorize("plan.edit", petal)
            _changed(family, "network", petal)
            flash(_("%(name)s staat nu in de bloem.", name=petal.name), "success")
            return redirect(url_for("family.plan", family_id=family.id) + "#network")
    authorize("plan.view", family)
    return _plan_page(family, 422, petal_form=form)


@bp.route("/families/<int:family_id>/plan/network/<int:petal_id>/edit", methods=["GET", "POST"])
@login_required
def petal_edit(family_id: int, petal_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    petal = load_in_family(NetworkPetal, family, petal_id, "plan.edit", record=False)
    form = _petal_form(family, linked=petal, obj=petal if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(petal.version)
        form.member_id.data = str(petal.member_id) if petal.member_id else ""
        form.guest_user_id.data = str(petal.guest_user_id) if petal.guest_user_id else ""
    conflict = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            plan_parts.update_petal(
                petal, current_user, form.petal_data(), _version(form.version.data)
            )
        except Conflict:
            conflict, status = petal, 409
            form.version.data = str(petal.version)
        except FamilyError as exc:
            field = getattr(form, exc.field or "name")
            field.errors = [*field.errors, parts_error(exc.message)]
        else:
            authorize("plan.edit", petal)
            _changed(family, "network", petal)
            flash(_("De bloem is bijgewerkt."), "success")
            return redirect(url_for("family.plan", family_id=family.id) + "#network")
    authorize("plan.view", petal)
    return render_template(
        "family/petal_edit.html",
        family=family,
        petal=petal,
        form=form,
        conflict=conflict,
        **guest_context(family),
    ), status


@bp.route("/families/<int:family_id>/plan/network/<int:petal_id>/remove", methods=["GET", "POST"])
@login_required
def petal_remove(family_id: int, petal_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    petal = load_in_family(NetworkPetal, family, petal_id, "plan.edit", record=False)
    form = ConfirmForm()
    if request.method == "GET":
        form.version.data = str(petal.version)
    error = None
    if form.validate_on_submit():
        try:
            plan_parts.remove_petal(petal, current_user, _version(form.version.data))
        except Conflict:
            form.version.data = str(petal.version)
            error = _("Iemand anders heeft dit net veranderd. Kijk nog een keer.")
        else:
            authorize("plan.edit", petal)
            _changed(family, "network", petal)
            flash(
                _(
                    "%(name)s staat niet meer in de bloem. "
                    "Afspraken met deze naam blijven bewaard.",
                    name=petal.name,
                ),
                "success",
            )
            return redirect(url_for("family.plan", family_id=family.id) + "#network")
    authorize("plan.view", petal)
    return render_template(
        "family/petal_remove.html",
        family=family,
        petal=petal,
        form=form,
        error=error,
        owned=plan_parts.agreements_owned_by(petal),
        **guest_context(family),
    ), (409 if error else 200)


# --- veiligheid --------------------------------------------------------------------------------


@bp.route("/families/<int:family_id>/plan/safety/edit", methods=["GET", "POST"])
@login_required
def safety_edit(family_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    safety = plan_parts.safety_of(family)
    form = SafetyForm(obj=safety if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(safety.version)
    conflict = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            plan_parts.update_safety(
                safety, current_user, form.safety_data(), _version(form.version.data)
            )
        except Conflict:
            conflict, status = safety, 409
            form.version.data = str(safety.version)
        else:
            authorize("plan.edit", safety)
            _changed(family, "safety", safety)
            flash(_("Het veiligheidsplan is opgeslagen."), "success")
            return redirect(url_for("family.plan", family_id=family.id) + "#safety")
    authorize("plan.view", safety)
    return render_template(
        "family/safety_edit.html",
        family=family,
        form=form,
        conflict=conflict,
        **guest_context(family),
    ), status


# --- evaluatie ---------------------------------------------------------------------------------


@bp.route("/families/<int:family_id>/plan/evaluations", methods=["POST"])
@login_required
def evaluation_add(family_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    form = EvaluationForm()
    if form.validate():
        try:
            evaluation = plan_parts.add_evaluation(family, current_user, form.evaluation_data())
        except FamilyError as exc:
            field = getattr(form, exc.field or "title")
            field.errors = [*field.errors, parts_error(exc.message)]
        else:
            authorize("plan.edit", evaluation)
            _changed(family, "evaluation", evaluation)
            flash(_("Het moment staat in de agenda."), "success")
            return redirect(
                url_for("family.plan", family_id=family.id) + f"#evaluation-{evaluation.id}"
            )
    authorize("plan.view", family)
    return _plan_page(family, 422, evaluation_form=form)


@bp.route(
    "/families/<int:family_id>/plan/evaluations/<int:evaluation_id>/edit",
    methods=["GET", "POST"],
)
@login_required
def evaluation_edit(family_id: int, evaluation_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    evaluation = load_in_family(Evaluation, family, evaluation_id, "plan.edit", record=False)
    form = EvaluationForm(obj=evaluation if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(evaluation.version)
    conflict = None
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            plan_parts.update_evaluation(
                evaluation, current_user, form.evaluation_data(), _version(form.version.data)
            )
        except Conflict:
            conflict, status = evaluation, 409
            form.version.data = str(evaluation.version)
        except FamilyError as exc:
            field = getattr(form, exc.field or "title")
            field.errors = [*field.errors, parts_error(exc.message)]
        else:
            authorize("plan.edit", evaluation)
            _changed(family, "evaluation", evaluation)
            flash(_("De evaluatie is opgeslagen."), "success")
            return redirect(
                url_for("family.plan", family_id=family.id) + f"#evaluation-{evaluation.id}"
            )
    authorize("plan.view", evaluation)
    return render_template(
        "family/evaluation_edit.html",
        family=family,
        evaluation=evaluation,
        form=form,
        conflict=conflict,
        **guest_context(family),
    ), status


def kind_names() -> dict[str, str]:
    return {"evaluation": _("Evaluatie"), "network_meeting": _("Netwerkoverleg")}


def agenda_response(family: Family) -> Response:
    """The agenda (moments from today on) as an iCalendar download; pages and API share it."""
    items = plan_parts.upcoming(plan_parts.evaluations(family), clock.today())
    settings = current_app.config["PORTAL_SETTINGS"]
    host = urlsplit(settings.base_url).hostname or "gezinsportaal"
    body = ics.calendar(family.id, items, clock.now(), host, kind_names())
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'attachment; filename="gezinsplan-agenda.ics"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/families/<int:family_id>/plan/agenda.ics")
@login_required
def agenda_ics(family_id: int) -> Any:
    return agenda_response(load_family(family_id, "plan.view"))
