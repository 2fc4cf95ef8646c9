"""Taking a goal, an agreement or an evaluation out of the plan, after a confirmation. The item
stays in the plan's history, where it can be put back."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.access import authorize, load_family
from portal.access.guard import load_in_family
from portal.family import plan_services
from portal.family.forms import ConfirmForm
from portal.family.models import Agreement, Evaluation, Goal
from portal.family.page import family_context as guest_context
from portal.family.services import Conflict
from portal.family.views import bp
from portal.live import notify

KINDS: dict[str, type[Goal] | type[Agreement] | type[Evaluation]] = {
    "goals": Goal,
    "agreements": Agreement,
    "evaluations": Evaluation,
}


@bp.route(
    "/families/<int:family_id>/plan/goals/<int:item_id>/remove",
    methods=["GET", "POST"],
    defaults={"kind": "goals"},
)
@bp.route(
    "/families/<int:family_id>/plan/agreements/<int:item_id>/remove",
    methods=["GET", "POST"],
    defaults={"kind": "agreements"},
)
@bp.route(
    "/families/<int:family_id>/plan/evaluations/<int:item_id>/remove",
    methods=["GET", "POST"],
    defaults={"kind": "evaluations"},
)
@login_required
def plan_item_remove(family_id: int, kind: str, item_id: int) -> Any:
    family = load_family(family_id, "plan.edit", record=False)
    item = load_in_family(KINDS[kind], family, item_id, "plan.edit", record=False)  # type: ignore[type-var]
    form = ConfirmForm()
    if request.method == "GET":
        form.version.data = str(item.version)
    conflict = False
    if request.method == "POST" and form.validate():
        try:
            raw = form.version.data or ""
            plan_services.remove(item, int(raw) if raw.isdecimal() else None)
        except Conflict:
            conflict = True
            form.version.data = str(item.version)
        else:
            authorize("plan.edit", item)
            notify(family.id, "plan", "plan.changed", item.id, item.version, {"part": kind})
            flash(
                _("Weggehaald uit het plan. In de geschiedenis kun je het terugzetten."), "success"
            )
            return redirect(url_for("family.plan", family_id=family.id))
    authorize("plan.view", item)
    name = item.what if isinstance(item, Agreement) else item.title
    return render_template(
        "family/plan_item_remove.html",
        family=family,
        kind=kind,
        item=item,
        name=name,
        form=form,
        conflict=conflict,
        **guest_context(family),
    ), (409 if conflict else 200)
