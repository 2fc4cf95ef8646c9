"""The gezinsplan's 'Onze vragen' and the dossier: pages shared by the family and by guests
with the part granted (the policy decides, per request)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import db
from portal.access import authorize, current_actor, load_family
from portal.access.policy import grant_state
from portal.core import clock
from portal.core.sanitize import plain_text
from portal.family.forms import DossierEntryForm, PlanQuestionsForm
from portal.family.models import WRAPAROUND_QUESTIONS, DossierEntry, Family, Plan
from portal.family.views import bp, guest_context
from portal.live import notify

PAGE_SIZE = 50


def plan_of(family: Family) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.family_id == family.id))
    if plan is None:
        plan = Plan(family_id=family.id)
        db.session.add(plan)
        db.session.flush()
    return plan


def question_labels() -> list[tuple[str, str]]:
    form = PlanQuestionsForm(formdata=None)
    return [(name, str(getattr(form, name).label.text)) for name in WRAPAROUND_QUESTIONS]


@bp.route("/families/<int:family_id>/plan")
@login_required
def plan(family_id: int) -> Any:
    family = load_family(family_id, "plan.view", record=False)
    current = plan_of(family)
    decision = authorize("plan.view", current)
    can_edit = _may("plan.edit", current)
    return render_template(
        "family/plan.html",
        family=family,
        plan=current,
        questions=question_labels(),
        can_edit=can_edit,
        basis=decision.basis,
        **guest_context(family),
    )


def _may(action: str, resource: Plan | Family) -> bool:
    from portal.access.policy import decide

    return decide(current_actor(), action, resource).allowed


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


def _former_guests(entries: list[DossierEntry], family: Family) -> set[int]:
    """Authors who wrote as guests and have no active grant now: shown as 'former guest'."""
    from portal.access.models import Grant

    guest_authors = {e.author_id for e in entries if e.author_kind == "guest" and e.author_id}
    if not guest_authors:
        return set()
    now = clock.now()
    active: set[int] = set()
    for grant in db.session.scalars(
        select(Grant).where(Grant.family_id == family.id, Grant.grantee_id.in_(guest_authors))
    ):
        if grant_state(grant, now) == "active" and grant.grantee_id:
            active.add(grant.grantee_id)
    return {a for a in guest_authors if a not in active}


@bp.route("/families/<int:family_id>/dossier")
@login_required
def dossier(family_id: int) -> Any:
    family = load_family(family_id, "dossier.view")
    try:
        before = int(request.args.get("before", "0")) or None
    except ValueError:
        before = None
    query = select(DossierEntry).where(DossierEntry.family_id == family.id)
    if before:
        query = query.where(DossierEntry.id < before)
    entries = list(db.session.scalars(query.order_by(DossierEntry.id.desc()).limit(PAGE_SIZE + 1)))
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    entries = entries[:PAGE_SIZE]
    return render_template(
        "family/dossier.html",
        family=family,
        entries=entries,
        former_guests=_former_guests(entries, family),
        can_write=_may("dossier.edit", family),
        older=older,
        **guest_context(family),
    )


@bp.route("/families/<int:family_id>/dossier/new", methods=["GET", "POST"])
@login_required
def dossier_new(family_id: int) -> Any:
    family = load_family(family_id, "dossier.edit", record=False)
    form = DossierEntryForm()
    if form.validate_on_submit():
        is_member = current_actor().membership(family.id) is not None
        entry = DossierEntry(
            family_id=family.id,
            author_id=current_user.id,
            author_name=current_user.display_name,
            author_organisation=current_user.organisation,
            author_kind="member" if is_member else "guest",
            title=plain_text(form.title.data or "", 200),
            body=form.body.data or "",
        )
        db.session.add(entry)
        db.session.flush()
        authorize("dossier.edit", entry)
        notify(
            family.id, "dossier", "dossier.changed", entry.id, entry.version, {"title": entry.title}
        )
        flash(_("Het stuk is toegevoegd aan het dossier."), "success")
        return redirect(url_for("family.dossier", family_id=family.id))
    authorize("family.view", family)
    return render_template(
        "family/dossier_new.html", family=family, form=form, **guest_context(family)
    ), (422 if request.method == "POST" else 200)
