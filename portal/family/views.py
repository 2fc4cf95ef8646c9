"""Family space pages. Thin: load through the policy, call a service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import authorize, load_family
from portal.family import services
from portal.family.forms import ConfirmForm, FamilyForm, RenameFamilyForm
from portal.family.page import family_context

bp = Blueprint("family", __name__)


def error_text(code: str) -> str:
    return {
        "birth_date_required": _("Vul de geboortedatum in."),
        "birth_date_future": _("Deze datum ligt in de toekomst."),
        "birth_date_too_old": _("Deze datum ligt te ver terug."),
        "email_required_for_invite": _("Vul een e-mailadres in om een uitnodiging te sturen."),
        "too_young_for_login": _("Een eigen login kan vanaf 12 jaar."),
        "email_already_in_family": _("Dit e-mailadres hoort al bij iemand in jullie gezin."),
        "role_fixed_after_join": _("De rol kan niet meer veranderen als iemand al meedoet."),
        "role_fixed_with_authority": _(
            "Deze rol kan niet meer veranderen: er hangt gezag aan. Haal de persoon weg en "
            "voeg hem of haar opnieuw toe."
        ),
        "last_parent_with_authority": _(
            "Je bent de laatste ouder met gezag die meedoet. Nodig eerst de andere ouder uit."
        ),
        "authority_choose_children": _("Kies over welke kinderen deze ouder gezag heeft."),
        "authority_only_parents": _("Alleen ouders kunnen gezag hebben."),
        "authority_choose_parents": _("Kies wie gezag heeft over dit kind."),
        "authority_two_holders": _("Een kind kan hoogstens twee ouders met gezag hebben."),
        "authority_not_yours": _(
            "Je kunt alleen gezag doorgeven over een kind waarover je zelf gezag hebt."
        ),
        "authority_not_in_family": _("Kies alleen mensen uit jullie gezin."),
        "link_expired": _("Deze uitnodiging is verlopen. Vraag om een nieuwe."),
        "link_used": _("Deze uitnodiging is al gebruikt."),
        "link_invalid": _("Deze uitnodiging klopt niet."),
        "professional_account": _(
            "Je bent ingelogd als professional. Log in met een gezinsaccount om mee te doen."
        ),
        "already_member": _("Je hoort al bij dit gezin."),
    }.get(code, _("Dit kon niet. Controleer wat je invulde."))


@bp.route("/families")
@login_required
def index() -> Any:
    if session.get("invite_token"):
        return redirect(url_for("family.invitation"))
    if current_user.is_professional:
        return redirect(url_for("professional.dashboard"))
    memberships = services.my_memberships(current_user)
    return render_template("family/index.html", memberships=memberships)


@bp.route("/families/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    form = FamilyForm()
    if current_user.is_professional:
        flash(_("Een gezin maakt zelf zijn ruimte aan. Professionals worden uitgenodigd."), "info")
        return redirect(url_for("professional.dashboard"))
    if form.validate_on_submit():
        family = services.create_family(
            current_user,
            (form.name.data or "").strip(),
            (form.my_name.data or "").strip(),
            (form.household.data or "").strip() or None,
        )
        authorize("family.create", family)
        flash(_("Jullie gezinsruimte is klaar. Voeg nu de andere mensen toe."), "success")
        return redirect(url_for("family.members", family_id=family.id))
    return render_template("family/create.html", form=form), (
        422 if request.method == "POST" else 200
    )


@bp.route("/families/<int:family_id>")
@login_required
def overview(family_id: int) -> Any:
    from portal.family.plan_signoff import waiting_on

    family = load_family(family_id, "family.view")
    context = family_context(family)
    # "Versie N wacht op jouw handtekening": only for a signer of the open version.
    context["waiting_version"] = waiting_on(family, current_user)
    if context["my_role"] == "guest":
        from portal.access.forms import part_labels

        return render_template(
            "family/guest_overview.html", family=family, part_labels=part_labels(), **context
        )
    members = services.current_members(family, by_role=True)
    return render_template("family/overview.html", family=family, members=members, **context)


@bp.route("/families/<int:family_id>/edit", methods=["GET", "POST"])
@login_required
def edit(family_id: int) -> Any:
    family = load_family(family_id, "family.edit", record=False)
    # Only a GET pre-fills from the database: a POST must carry its own values and version.
    form = RenameFamilyForm(obj=family if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(family.version)
    if form.validate_on_submit():
        try:
            services.rename_family(family, (form.name.data or "").strip(), _int(form.version.data))
        except services.Conflict:
            family = load_family(family_id, "family.view")
            flash(
                _("Iemand anders heeft de naam net veranderd. Kijk of je hem nog wilt aanpassen."),
                "warning",
            )
            form.version.data = str(family.version)
            return render_template(
                "family/edit.html",
                family=family,
                form=form,
                conflict=family.name,
                **family_context(family),
            ), 409
        authorize("family.edit", family)
        flash(_("De naam is opgeslagen."), "success")
        return redirect(url_for("family.overview", family_id=family.id))
    authorize("family.view", family)
    return render_template(
        "family/edit.html", family=family, form=form, **family_context(family)
    ), (422 if request.method == "POST" else 200)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- accepting an invitation -----------------------------------------------------------------


@bp.route("/invite/<token>")
def invitation_link(token: str) -> Any:
    # Keep the token out of the address bar and out of any later request's URL.
    session["invite_token"] = token
    return redirect(url_for("family.invitation"))


@bp.route("/invite", methods=["GET", "POST"])
def invitation() -> Any:
    token = session.get("invite_token") or ""
    check, member, family = services.invitation_for(token)
    if check.status != "ok" or member is None or family is None:
        session.pop("invite_token", None)
        return render_template(
            "family/invitation.html",
            problem=error_text(f"link_{check.status}"),
            member=None,
            family=None,
            form=None,
        ), 410
    form = ConfirmForm()
    holds = services.authority_summary(member)
    if current_user.is_authenticated and form.validate_on_submit():
        try:
            services.accept_invitation(
                token, current_user, authority_confirmed=request.form.get("authority") != "no"
            )
        except services.FamilyError as exc:
            return render_template(
                "family/invitation.html",
                problem=error_text(exc.message),
                member=member,
                family=family,
                form=None,
                holds=holds,
            ), 409
        session.pop("invite_token", None)
        authorize("member.join", family)
        flash(_("Welkom! Je doet nu mee in %(family)s.", family=family.name), "success")
        return redirect(url_for("family.overview", family_id=family.id))
    return render_template(
        "family/invitation.html",
        problem=None,
        member=member,
        family=family,
        form=form,
        holds=holds,
    )
