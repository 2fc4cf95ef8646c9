"""'Toegang': the family invites professionals, approves or refuses their requests, renews and
revokes. Guests can never reach these pages (the policy has no guest rule for grant.*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import db
from portal.access import authorize, current_actor, grants, load_family
from portal.access.forms import ApproveForm, GuestInviteForm, RenewForm, part_labels
from portal.access.guard import load_in_family
from portal.access.models import Grant
from portal.access.policy import grant_state
from portal.access.views import bp
from portal.auth.models import User
from portal.core import clock
from portal.family.forms import ConfirmForm
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member


def grant_error_text(code: str) -> str:
    return {
        "parts_required": _("Kies minstens één deel waar de professional bij mag."),
        "unknown_part": _("Dit deel bestaat niet."),
        "unknown_level": _("Kies lezen of meeschrijven."),
        "start_in_past": _("De begindatum ligt in het verleden."),
        "end_before_start": _("De einddatum moet na de begindatum en na vandaag liggen."),
        "too_long": _("Toegang kan hoogstens 12 maanden duren."),
        "invite_yourself": _("Je kunt jezelf niet uitnodigen."),
        "email_is_member": _("Dit e-mailadres hoort bij iemand van jullie gezin."),
        "already_invited": _("Deze professional is al uitgenodigd of heeft al toegang."),
        "unknown_subject": _("Kies iemand uit jullie gezin."),
        "young_person_decides": _(
            "Vanaf 16 jaar beslist de jongere zelf wie bij zijn of haar gegevens mag."
        ),
        "own_data_only": _("Je kunt alleen toegang geven tot je eigen gegevens."),
        "not_an_approver": _("Jouw toestemming is hier niet nodig."),
        "not_a_renewer": _(
            "Alleen wie toestemming geeft voor deze toegang, kan die verlengen of weer aanzetten."
        ),
        "cannot_widen": _("Je kunt minder toegang geven dan gevraagd, niet meer."),
        "cannot_extend_on_approval": _(
            "Kies een einddatum die niet later is dan gevraagd en na de begindatum."
        ),
        "grant_withdrawn": _("De professional heeft deze aanvraag al ingetrokken."),
        "grant_denied": _("Deze aanvraag is al geweigerd."),
        "grant_revoked": _("Deze toegang is al ingetrokken."),
        "grant_expired": _("Deze toegang is al verlopen."),
        "grant_pending": _("Deze toegang wacht nog op toestemming."),
        "grant_active": _("Deze toegang loopt al."),
        "grant_not_yet_valid": _("Deze toegang is al goedgekeurd en begint later."),
        "already_requested": _("Je hebt al toegang tot dit gezin, of je aanvraag loopt nog."),
        "not_pending": _("Deze aanvraag loopt niet meer."),
        "link_expired": _("Deze uitnodiging is verlopen. Vraag het gezin om een nieuwe."),
        "link_used": _("Deze uitnodiging is al gebruikt."),
        "link_invalid": _("Deze uitnodiging klopt niet."),
        "not_a_professional": _(
            "Alleen een professional kan deze uitnodiging aannemen. Log in met je werkaccount."
        ),
        "grant_ended": _("Deze toegang is al beëindigd."),
    }.get(code, _("Dit kon niet. Controleer wat je invulde."))


def state_text(state: str) -> str:
    return {
        "active": _("actief"),
        "pending": _("wacht op toestemming"),
        "not_yet_valid": _("begint later"),
        "expired": _("verlopen"),
        "revoked": _("ingetrokken"),
        "denied": _("geweigerd"),
        "withdrawn": _("ingetrokken door de professional"),
    }.get(state, state)


def state_label(grant: Grant, state: str, missing: list[str] | None = None) -> str:
    """What the family reads for a grant's state: an invitation that only waits for the
    professional to take it up says so, rather than "waiting for permission". `missing`:
    grants.missing_approvals(grant), when the caller has it already."""
    if state != "pending" or grant.accepted_at is not None:
        return state_text(state)
    if not (grants.missing_approvals(grant) if missing is None else missing):
        return _("uitnodiging verstuurd, nog niet aangenomen")
    return state_text(state)


def family_context(family: Family) -> dict[str, Any]:
    from portal.family.page import family_context

    return family_context(family)


def _young_people(family: Family) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member)
            .where(
                Member.family_id == family.id,
                Member.role == ROLE_YOUNG_PERSON,
                Member.removed_at.is_(None),
            )
            .order_by(Member.display_name)
        )
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/families/<int:family_id>/access")
@login_required
def grants_page(family_id: int) -> Any:
    family = load_family(family_id, "grant.list")
    rows = list(
        db.session.scalars(
            select(Grant).where(Grant.family_id == family.id).order_by(Grant.id.desc())
        )
    )
    now = clock.now()
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_([g.grantee_id for g in rows if g.grantee_id]))
        )
    }
    entries = [(g, grant_state(g, now), users.get(g.grantee_id or -1)) for g in rows]
    return render_template(
        "access/grants.html",
        family=family,
        entries=entries,
        state_label=state_label,
        part_labels=part_labels(),
        last_day=grants.last_day,
        **family_context(family),
    )


@bp.route("/families/<int:family_id>/access/new", methods=["GET", "POST"])
@login_required
def grant_new(family_id: int) -> Any:
    family = load_family(family_id, "grant.create", record=False)
    form = GuestInviteForm()
    form.subject_member_id.choices = [("", _("Het hele gezin"))] + [
        (str(m.id), m.display_name) for m in _young_people(family)
    ]
    if request.method == "GET" and form.expires_on.data is None:
        form.expires_on.data = grants.default_end_day()
    if form.validate_on_submit():
        inviter = current_actor().membership(family.id)
        assert inviter is not None
        try:
            grant = grants.invite(
                family,
                inviter,
                current_user,
                grants.GrantData(
                    email=form.email.data or "",
                    parts=form.parts(),
                    purpose=(form.purpose.data or "").strip(),
                    start_day=form.valid_from.data,
                    end_day=form.expires_on.data,
                    subject_member_id=_int(form.subject_member_id.data),
                ),
            )
        except grants.GrantError as exc:
            field = getattr(form, exc.field or "", None)
            message = grant_error_text(exc.code)
            if field is not None and exc.field != "parts":
                field.errors = [*field.errors, message]
            else:
                form.form_errors.append(message)
        else:
            authorize("grant.create", family)
            flash(
                _("We hebben een uitnodiging gestuurd naar %(email)s.", email=grant.invited_email),
                "success",
            )
            return redirect(url_for("access.grants_page", family_id=family.id))
    authorize("family.view", family)
    return render_template(
        "access/grant_new.html", family=family, form=form, **family_context(family)
    ), (422 if request.method == "POST" else 200)


@bp.route("/families/<int:family_id>/access/<int:grant_id>", methods=["GET"])
@login_required
def grant_detail(family_id: int, grant_id: int) -> Any:
    family = load_family(family_id, "grant.view", record=False)
    grant = load_in_family(Grant, family, grant_id, "grant.view")
    return _detail(family, grant)


def _detail(
    family: Family,
    grant: Grant,
    status: int = 200,
    error: str | None = None,
    approve_form: ApproveForm | None = None,
    renew_form: RenewForm | None = None,
) -> Any:
    state = grant_state(grant, clock.now())
    if approve_form is None:
        approve_form = ApproveForm(formdata=None)
        for part in grant.parts:
            getattr(approve_form, f"part_{part.part}").data = part.level
        approve_form.expires_on.data = grants.last_day(grant)
        approve_form.version.data = str(grant.version)
    if renew_form is None:
        renew_form = RenewForm(formdata=None)
        renew_form.expires_on.data = grants.default_end_day()
        renew_form.version.data = str(grant.version)
    me = current_actor().membership(family.id)
    subject = db.session.get(Member, grant.subject_member_id) if grant.subject_member_id else None
    can_approve = (
        state == "pending"
        and me is not None
        and grants.approval_counts(me, subject) is not None
        and not any(a.member_id == me.id for a in grant.approvals)
    )
    # Who may renew (and so also take back an invitation nobody has taken up yet): whose yes
    # this grant needs, as grants.renew() checks.
    can_renew = me is not None and grants.approval_counts(me, subject) is not None
    missing = grants.missing_approvals(grant)
    label = state_label(grant, state, missing)
    grantee = db.session.get(User, grant.grantee_id) if grant.grantee_id else None
    return render_template(
        "access/grant_detail.html",
        family=family,
        grant=grant,
        grantee=grantee,
        subject=subject,
        state=state,
        state_text=state_text,
        part_labels=part_labels(),
        missing=missing,
        last_day=grants.last_day,  # access ends at the end of this day: "tot en met"
        state_label=label,
        can_approve=can_approve,
        can_renew=can_renew,
        approve_form=approve_form,
        renew_form=renew_form,
        confirm=ConfirmForm(formdata=None, data={"version": str(grant.version)}),
        error=error,
        **family_context(family),
    ), status


def _decision_view(family_id: int, grant_id: int, action: str) -> tuple[Family, Grant]:
    family = load_family(family_id, action, record=False)
    return family, load_in_family(Grant, family, grant_id, action, record=False)


def _carry_out(
    family: Family,
    grant: Grant,
    action: str,
    change: Callable[[], object],
    done: str,
    **forms: Any,
) -> Any:
    """Run a decision about a grant; log what happened (the change, or only a view when it
    was refused) and answer with the detail page's explanation or a redirect."""
    try:
        change()
    except grants.Stale:
        authorize("grant.view", grant)
        return _detail(family, grant, 409, _("Iemand anders heeft dit net veranderd."), **forms)
    except grants.GrantError as exc:
        authorize("grant.view", grant)
        status = 409 if exc.code.startswith("grant_") else 422
        return _detail(family, grant, status, grant_error_text(exc.code), **forms)
    authorize(action, grant)
    flash(done, "success")
    return redirect(url_for("access.grant_detail", family_id=family.id, grant_id=grant.id))


def _invalid(family: Family, grant: Grant, **forms: Any) -> Any:
    authorize("grant.view", grant)
    return _detail(family, grant, 422, **forms)


@bp.route("/families/<int:family_id>/access/<int:grant_id>/approve", methods=["POST"])
@login_required
def grant_approve(family_id: int, grant_id: int) -> Any:
    family, grant = _decision_view(family_id, grant_id, "grant.approve")
    form = ApproveForm()
    if not form.validate():
        return _invalid(family, grant, approve_form=form)
    me = current_actor().membership(family.id)
    assert me is not None
    return _carry_out(
        family,
        grant,
        "grant.approve",
        lambda: grants.approve(
            grant, me, current_user, _int(form.version.data), form.parts(), form.expires_on.data
        ),
        _("Je toestemming is opgeslagen."),
        approve_form=form,
    )


@bp.route("/families/<int:family_id>/access/<int:grant_id>/deny", methods=["POST"])
@login_required
def grant_deny(family_id: int, grant_id: int) -> Any:
    family, grant = _decision_view(family_id, grant_id, "grant.deny")
    form = ConfirmForm()
    if not form.validate():
        return _invalid(family, grant)
    return _carry_out(
        family,
        grant,
        "grant.deny",
        lambda: grants.deny(grant, _int(form.version.data)),
        _("De aanvraag is geweigerd."),
    )


@bp.route("/families/<int:family_id>/access/<int:grant_id>/revoke", methods=["GET", "POST"])
@login_required
def grant_revoke(family_id: int, grant_id: int) -> Any:
    family, grant = _decision_view(family_id, grant_id, "grant.revoke")
    form = ConfirmForm()
    if request.method == "GET":
        authorize("grant.view", grant)
        form.version.data = str(grant.version)
        grantee = db.session.get(User, grant.grantee_id) if grant.grantee_id else None
        return render_template(
            "access/grant_revoke.html",
            family=family,
            grant=grant,
            grantee=grantee,
            form=form,
            **family_context(family),
        )
    if not form.validate():
        return _invalid(family, grant)
    return _carry_out(
        family,
        grant,
        "grant.revoke",
        lambda: grants.revoke(grant, current_user, _int(form.version.data)),
        _("De toegang is ingetrokken. Wat de professional schreef, blijft bewaard."),
    )


@bp.route("/families/<int:family_id>/access/<int:grant_id>/renew", methods=["POST"])
@login_required
def grant_renew(family_id: int, grant_id: int) -> Any:
    family, grant = _decision_view(family_id, grant_id, "grant.renew")
    form = RenewForm()
    if not form.validate() or form.expires_on.data is None:
        return _invalid(family, grant, renew_form=form)
    end_day = form.expires_on.data
    return _carry_out(
        family,
        grant,
        "grant.renew",
        lambda: grants.renew(
            grant,
            current_actor().membership(family.id),
            current_user,
            end_day,
            _int(form.version.data),
        ),
        _("De toegang is verlengd."),
        renew_form=form,
    )
