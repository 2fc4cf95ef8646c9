"""The professional's side: the dashboard of families that granted access, accepting an
invitation, asking a family for access, withdrawing, and asking for renewal."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal import db
from portal.access import current_actor, grants, record_grant_event
from portal.access.forms import AccessRequestForm, part_labels
from portal.access.grant_views import grant_error_text, state_text
from portal.access.models import AuditEvent, Grant
from portal.access.policy import decide, grant_state
from portal.auth import throttle
from portal.core import clock
from portal.dossier.models import DossierEntry
from portal.family.forms import ConfirmForm
from portal.family.models import Family

bp = Blueprint("professional", __name__)

ENDED = ("expired", "revoked", "denied", "withdrawn")


def _professional_only() -> Any:
    if not current_user.is_professional:
        return redirect(url_for("family.index"))
    return None


@bp.route("/professional")
@login_required
def dashboard() -> Any:
    if (refusal := _professional_only()) is not None:
        return refusal
    if session.get("guest_invite_token"):
        return redirect(url_for("professional.invitation"))
    now = clock.now()
    mine = list(
        db.session.scalars(
            select(Grant).where(Grant.grantee_id == current_user.id).order_by(Grant.expires_at)
        )
    )
    families = {
        f.id: f
        for f in db.session.scalars(
            select(Family).where(Family.id.in_([g.family_id for g in mine]))
        )
    }
    # An ended grant shows no family data at all: only that, and when, access ended.
    unread = activity_since_last_visit(
        current_user.id, [g for g in mine if grant_state(g, now) == "active"]
    )
    rows = []
    for grant in mine:
        state = grant_state(grant, now)
        family = families.get(grant.family_id) if state not in ENDED else None
        rows.append(
            {
                "grant": grant,
                "state": state,
                "family": family,
                "unread": unread.get(grant.family_id, 0) if state == "active" else 0,
            }
        )
    return render_template(
        "professional/dashboard.html",
        rows=rows,
        state_text=state_text,
        part_labels=part_labels(),
        last_day=grants.last_day,
        ended=ENDED,
        confirm=ConfirmForm(),
    )


# What counts as news for a guest, per part they may see.
NEWS_ACTIONS = {"plan": ("plan.edit",), "dossier": ("dossier.edit",)}
DOSSIER_NEWS = frozenset(NEWS_ACTIONS["dossier"])


def activity_since_last_visit(user_id: int, active: list[Grant]) -> dict[int, int]:
    """Changes by others in the parts a guest may see, since the guest's own last access —
    derived from the audit log, so a visit costs no extra write. Two queries (three when
    dossier entries changed: whether the guest may read each)."""
    if not active:
        return {}
    family_ids = {g.family_id for g in active}
    seen = dict(
        db.session.execute(
            select(AuditEvent.family_id, func.max(AuditEvent.at))
            .where(
                AuditEvent.actor_user_id == user_id,
                AuditEvent.family_id.in_(family_ids),
                AuditEvent.outcome == "allowed",
            )
            .group_by(AuditEvent.family_id)
        ).all()
    )
    actions_by_family = {
        g.family_id: {a for p in g.parts for a in NEWS_ACTIONS.get(p.part, ())} for g in active
    }
    all_actions = set().union(*actions_by_family.values())
    if not all_actions:
        return {}
    oldest = min(seen.values(), default=None) if len(seen) == len(family_ids) else None
    query = select(
        AuditEvent.family_id, AuditEvent.action, AuditEvent.at, AuditEvent.object_id
    ).where(
        AuditEvent.family_id.in_(family_ids),
        AuditEvent.action.in_(all_actions),
        AuditEvent.outcome == "allowed",
        AuditEvent.actor_user_id != user_id,
    )
    if oldest is not None:
        query = query.where(AuditEvent.at > oldest)
    # (family, the dossier entry it is about or None for a plan change)
    news: list[tuple[int, int | None]] = []
    for family_id, action, at, object_id in db.session.execute(query):
        last = seen.get(family_id)
        if family_id is None or action not in actions_by_family.get(family_id, ()):
            continue
        if last is None or at > last:
            entry_id = int(object_id) if object_id and object_id.isdigit() else 0
            news.append((family_id, entry_id if action in DOSSIER_NEWS else None))
    # A change to a dossier entry counts only if the guest may read that entry now (its
    # visibility may keep it from guests): the count must not tell them it exists.
    entry_ids = {e for _f, e in news if e}
    readable = set()
    if entry_ids:
        actor = current_actor()
        readable = {
            e.id
            for e in db.session.scalars(select(DossierEntry).where(DossierEntry.id.in_(entry_ids)))
            if decide(actor, "dossier.view", e).allowed
        }
    counts: dict[int, int] = {}
    for family_id, about in news:
        if about is None or about in readable:
            counts[family_id] = counts.get(family_id, 0) + 1
    return counts


# --- invitations from families ----------------------------------------------------------------


@bp.route("/guest-invite/<token>")
def invitation_link(token: str) -> Any:
    # The token leaves the address bar at once and never shows in a later URL or Referer.
    session["guest_invite_token"] = token
    return redirect(url_for("professional.invitation"))


@bp.route("/guest-invite", methods=["GET", "POST"])
def invitation() -> Any:
    token = session.get("guest_invite_token") or ""
    check, grant = grants.invitation_for(token)
    if check.status != "ok" or grant is None:
        session.pop("guest_invite_token", None)
        return render_template(
            "professional/invitation.html",
            problem=grant_error_text(f"link_{check.status}"),
            grant=None,
            form=None,
        ), 410
    form = ConfirmForm()
    if current_user.is_authenticated and form.validate_on_submit():
        try:
            grants.accept_invitation(token, current_user)
        except grants.GrantError as exc:
            return render_template(
                "professional/invitation.html",
                problem=grant_error_text(exc.code),
                grant=None,
                form=None,
            ), 409
        session.pop("guest_invite_token", None)
        record_grant_event("grant.accept", grant)
        if grant_state(grant, clock.now()) == "active":
            flash(_("Je hebt de uitnodiging aangenomen."), "success")
            return redirect(url_for("family.overview", family_id=grant.family_id))
        flash(
            _(
                "Je hebt de uitnodiging aangenomen. Je toegang begint als het gezin helemaal "
                "toestemming heeft gegeven."
            ),
            "info",
        )
        return redirect(url_for("professional.dashboard"))
    return render_template(
        "professional/invitation.html",
        problem=None,
        grant=grant,
        part_labels=part_labels(),
        last_day=grants.last_day,
        form=form,
    )


# --- asking a family for access ---------------------------------------------------------------


@bp.route("/professional/request", methods=["GET", "POST"])
@login_required
def request_access() -> Any:
    if (refusal := _professional_only()) is not None:
        return refusal
    form = AccessRequestForm()
    if request.method == "GET":
        form.expires_on.data = grants.default_end_day()
    account = throttle.family_code_account(current_user.id)
    if form.validate_on_submit():
        if wait := throttle.wait(account, request.remote_addr):
            form.code.errors = [throttle.too_many_text(wait)]
            page = render_template("professional/request.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        data = grants.GrantData(
            email=current_user.email,
            parts=form.parts(),
            purpose=(form.purpose.data or "").strip(),
            end_day=form.expires_on.data,
        )
        try:  # bad parts or dates are explained before anything is looked up
            grants.check_parts(data.parts)
            grants.check_dates(None, data.end_day)
        except grants.GrantError as exc:
            form.form_errors.append(grant_error_text(exc.code))
            return render_template("professional/request.html", form=form), 422
        if form.code.data:
            family = grants.family_by_code(form.code.data)
            if family is None:
                # Wrong codes count like failed sign-ins, so codes cannot be guessed in bulk.
                throttle.failed(account, request.remote_addr)
                message = _("We vinden geen gezin met deze code. Vraag het gezin om de code.")
                form.code.errors = [message]
            elif (done := _ask(family, data, form)) is not None:
                return done
        elif form.parent_email.data:
            family = grants.family_by_parent_email(form.parent_email.data)
            # The same answer whether or not the address belongs to a family.
            if family is None or _ask(family, data, form, quiet=True) is None:
                throttle.failed(account, request.remote_addr)
            flash(
                _("Als dit adres bij een ouder in het portaal hoort, krijgt het gezin je vraag."),
                "info",
            )
            return redirect(url_for("professional.dashboard"))
        else:
            form.form_errors.append(_("Vul de gezinscode of het e-mailadres van een ouder in."))
    return render_template("professional/request.html", form=form), (
        422 if request.method == "POST" else 200
    )


def _ask(
    family: Family, data: grants.GrantData, form: AccessRequestForm, quiet: bool = False
) -> Any:
    """File the request; a redirect when done, None when refused (the form says why)."""
    try:
        grant = grants.request_access(family, current_user, data)
    except grants.GrantError as exc:
        if not quiet:
            form.form_errors.append(grant_error_text(exc.code))
        return None
    record_grant_event("grant.request", grant)
    if not quiet:
        flash(_("Je aanvraag is verstuurd. Het gezin beslist."), "success")
    return redirect(url_for("professional.dashboard"))


def _my_grant(grant_id: int) -> Grant | None:
    return db.session.scalar(
        select(Grant).where(Grant.id == grant_id, Grant.grantee_id == current_user.id)
    )


@bp.route("/professional/grants/<int:grant_id>/withdraw", methods=["POST"])
@login_required
def withdraw(grant_id: int) -> Any:
    grant = _my_grant(grant_id)
    form = ConfirmForm()
    if grant is None or not form.validate():
        flash(_("Deze aanvraag kunnen we niet vinden."), "error")
        return redirect(url_for("professional.dashboard"))
    try:
        grants.withdraw(grant)
    except grants.GrantError as exc:
        flash(grant_error_text(exc.code), "error")
    else:
        record_grant_event("grant.withdraw", grant)
        flash(_("Je aanvraag is ingetrokken."), "success")
    return redirect(url_for("professional.dashboard"))


@bp.route("/professional/grants/<int:grant_id>/renewal", methods=["POST"])
@login_required
def request_renewal(grant_id: int) -> Any:
    grant = _my_grant(grant_id)
    form = ConfirmForm()
    if grant is None or not form.validate():
        flash(_("Deze toegang kunnen we niet vinden."), "error")
        return redirect(url_for("professional.dashboard"))
    grants.request_renewal(grant)
    record_grant_event("grant.request_renewal", grant)
    flash(_("Je vraag om verlenging is naar het gezin gestuurd."), "success")
    return redirect(url_for("professional.dashboard"))
