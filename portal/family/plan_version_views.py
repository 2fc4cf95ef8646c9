"""Pages for agreeing on the plan: propose a version, read it as the plan itself, and answer it
(sign, "niet akkoord" with a reason, or mark a young person "doet niet mee")."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import authorize, current_actor, load_family, may
from portal.access.guard import not_found
from portal.access.policy import decide
from portal.family import plan_document, plan_signers, plan_signoff
from portal.family.models import Family
from portal.family.page import family_context as guest_context
from portal.family.plan_history_models import PlanVersion
from portal.family.plan_history_views import announce
from portal.family.views import bp

ANSWERS = ("agree", "disagree", "not_taking_part")


def signoff_error_text(code: str, typed: str = "") -> str:
    if code == "reason_too_long":
        return _(
            "Een reden kan hoogstens %(max)s tekens hebben; je hebt er %(count)s.",
            max=format_decimal(plan_signoff.REASON_MAX),
            count=format_decimal(plan_signoff.reason_length(typed)),
        )
    return {
        "already_agreed": _(
            "Dit plan is al vastgesteld. Verander eerst iets om een nieuw concept te maken."
        ),
        "outdated": _(
            "Het plan is veranderd nadat deze versie werd voorgesteld. Stel het plan opnieuw "
            "voor, dan kan iedereen de nieuwe versie ondertekenen."
        ),
        "not_required": _("Jouw handtekening is voor deze versie niet nodig."),
        "already_signed": _("Je hebt deze versie al ondertekend."),
        "reason_required": _("Schrijf op waarom. Iedereen in het gezin kan het lezen."),
        "no_such_signer": _("Deze persoon hoeft deze versie niet te ondertekenen."),
        "only_young_people": _("Alleen bij een jongere kun je aangeven dat die niet meedoet."),
        "young_person_answered": _(
            "Deze jongere heeft zelf al geantwoord. Dat antwoord blijft staan."
        ),
    }.get(code, _("Dit kon niet."))


def why_text() -> dict[str, str]:
    return {
        plan_signers.WHY_PARENT: _("ouder met gezag"),
        plan_signers.WHY_YOUNG_PERSON: _("jongere"),
        plan_signers.WHY_GUEST: _("gast die meeschrijft"),
    }


def load_version(family: Family, number: int, action: str) -> PlanVersion:
    version = plan_signoff.by_number(family, number)
    if version is None:
        not_found(action, "plan_version", number, family.id)
        raise AssertionError("unreachable")
    return version


@bp.route("/families/<int:family_id>/plan/versions", methods=["GET", "POST"])
@login_required
def plan_versions(family_id: int) -> Any:
    family = load_family(family_id, "plan.view", record=request.method == "GET")
    if request.method == "POST":
        authorize("plan.propose", family)
        try:
            version = plan_signoff.propose(family, current_user)
        except plan_signoff.SignoffError as exc:
            flash(signoff_error_text(exc.code), "error")
        else:
            announce(family, version.number)
            flash(
                _(
                    "Versie %(n)s is voorgesteld. Iedereen die moet tekenen krijgt een mail en "
                    "ziet het op de eerste pagina van de gezinsruimte.",
                    n=version.number,
                ),
                "success",
            )
            return redirect(
                url_for("family.plan_version", family_id=family.id, number=version.number)
            )
    return render_template(
        "family/plan_versions.html",
        family=family,
        versions=plan_signoff.versions(family),
        status=plan_signoff.status(family),
        candidates=plan_signers.candidates(family),
        why_text=why_text(),
        may_propose=may("plan.propose", family),
        **guest_context(family),
    )


def _version_page(
    family: Family, version: PlanVersion, status: int = 200, form: dict[str, Any] | None = None
) -> Any:
    plan_status = plan_signoff.status(family)
    still_open = plan_status.state == "proposed" and plan_status.current is version
    signers = (
        plan_status.signers
        if still_open
        else plan_signers.signers_of(version, family, still_open=False)
    )
    mine = next((s for s in signers if s.user_id == current_user.id), None)
    may_answer = (
        still_open
        and mine is not None
        and mine.state in (plan_signers.WAITING, plan_signers.DISAGREED)
        and may("plan.signoff", family)
    )
    may_mark = still_open and may("plan.excuse", family)
    snapshot = json.loads(version.snapshot or "{}")
    document = plan_document.from_snapshot(
        snapshot if isinstance(snapshot, dict) else {}, family, version.proposed_at.date()
    )
    return render_template(
        "family/plan_version.html",
        version=version,
        signers=signers,
        signed_count=sum(1 for s in signers if s.state == plan_signers.SIGNED),
        still_open=still_open,
        replaced=version.agreed_at is None and not still_open,
        plan_status=plan_status,
        mine=mine,
        may_answer=may_answer,
        may_mark=may_mark,
        may_propose=may("plan.propose", family),
        why_text=why_text(),
        form=form or {},
        reason_max=plan_signoff.REASON_MAX,
        **document,
        **guest_context(family),
    ), status


@bp.get("/families/<int:family_id>/plan/versions/<int:number>")
@login_required
def plan_version(family_id: int, number: int) -> Any:
    family = load_family(family_id, "plan.view")
    version = load_version(family, number, "plan.view")
    return _version_page(family, version)


@bp.post("/families/<int:family_id>/plan/versions/<int:number>/sign")
@login_required
def plan_sign(family_id: int, number: int) -> Any:
    """One form for every answer: akkoord, niet akkoord (with a reason), or — by a parent with
    authority — a young person who does not take part (with a reason)."""
    answer = request.form.get("answer") or "agree"
    action = "plan.excuse" if answer == "not_taking_part" else "plan.signoff"
    family = load_family(family_id, "plan.signoff", record=False)
    authorize(action, family)
    version = load_version(family, number, action)
    reason = request.form.get("reason", "")
    raw_signer = request.form.get("signer", "")
    signer_id = int(raw_signer) if raw_signer.isdecimal() and len(raw_signer) < 10 else None
    back = url_for("family.plan_version", family_id=family.id, number=number)
    try:
        role = decide(current_actor(), "plan.signoff", family).role
        plan_signoff.answer(family, version, current_user, role, answer, reason, signer_id)
    except plan_signoff.SignoffError as exc:
        if exc.code in ("reason_required", "reason_too_long"):
            # The page again, with what was typed and the message by the field.
            form = {
                "answer": answer,
                "reason": reason,
                "signer": signer_id,
                "error": signoff_error_text(exc.code, reason),
            }
            return _version_page(family, version, 422, form)
        flash(signoff_error_text(exc.code), "error")
        return redirect(back), 303
    announce(family, version.number)
    if version.agreed_at is not None and answer == "not_taking_part":
        flash(
            _("Het staat bij de handtekeningen, met de reden. Het plan is nu vastgesteld."),
            "success",
        )
    elif version.agreed_at is not None:
        flash(_("Iedereen heeft getekend. Het plan is vastgesteld."), "success")
    elif answer == "disagree":
        flash(_("Je antwoord staat bij de handtekeningen: niet akkoord, met je reden."), "success")
    elif answer == "not_taking_part":
        flash(_("Het staat bij de handtekeningen, met de reden."), "success")
    else:
        flash(_("Je hebt het plan ondertekend. Dank je wel."), "success")
    return redirect(back + "#signatures")
