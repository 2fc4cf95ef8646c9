"""Family space pages. Thin: load through the policy, call a service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import authorize, current_actor, load_family, load_member
from portal.access.age import age_on
from portal.access.policy import role_of
from portal.core import clock
from portal.family import services
from portal.family.forms import ConfirmForm, FamilyForm, MemberForm, RenameFamilyForm
from portal.family.models import ROLES, Family

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
        "last_parent_with_authority": _(
            "Je kunt de laatste ouder met gezag niet verwijderen. Voeg eerst een andere ouder toe."
        ),
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


def family_context(family: Family) -> dict[str, Any]:
    """What every family page shows about the signed-in person's own role (or guest access)."""
    actor = current_actor()
    member = actor.membership(family.id)
    today = clock.today()
    context: dict[str, Any] = {"guest_grant": None, "guest_parts": {}, "guest_until": None}
    if member is not None:
        role = role_of(member, today)
    else:
        from portal.access.grants import last_day
        from portal.access.policy import grant_state

        now = clock.now()
        active = [g for g in actor.grants(family.id) if grant_state(g, now) == "active"]
        role = "guest" if active else "none"
        if active:
            context["guest_grant"] = active[0]
            context["guest_until"] = max(last_day(g) for g in active)
            parts: dict[str, str] = {}
            for grant in active:
                for part in grant.parts:
                    if parts.get(part.part) != "write":
                        parts[part.part] = part.level
            context["guest_parts"] = parts
    context.update(my_role=role, can_manage=role == "parent_with_authority")
    sees_messages = role != "none" and (role != "guest" or "messages" in context["guest_parts"])
    if sees_messages and actor.user is not None:
        from portal.messaging.services import total_unread

        context["unread_messages"] = total_unread(actor.user, family)
    return context


guest_context = family_context


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


@bp.route("/families/<int:family_id>/members")
@login_required
def members(family_id: int) -> Any:
    family = load_family(family_id, "member.list")
    today = clock.today()
    rows = [
        (m, age_on(m.birth_date, today) if m.birth_date else None)
        for m in services.current_members(family, by_role=True)
    ]
    return render_template(
        "family/members.html", family=family, rows=rows, roles=ROLES, **family_context(family)
    )


@bp.route("/families/<int:family_id>/members/new", methods=["GET", "POST"])
@login_required
def add_member(family_id: int) -> Any:
    family = load_family(family_id, "member.add", record=False)
    form = MemberForm()
    if request.method == "GET" and request.args.get("role") in ROLES:
        form.role.data = request.args["role"]
    if form.validate_on_submit():
        try:
            member = services.add_member(family, current_user, form.member_data())
        except services.FamilyError as exc:
            _attach_error(form, exc)
        else:
            authorize("member.add", member)
            flash(_("%(name)s is toegevoegd.", name=member.display_name), "success")
            if member.invited_at:
                flash(
                    _("We hebben een uitnodiging gestuurd naar %(email)s.", email=member.email),
                    "info",
                )
            return redirect(url_for("family.members", family_id=family.id))
    authorize("family.view", family)
    return render_template(
        "family/member_form.html", family=family, form=form, member=None, **family_context(family)
    ), (422 if request.method == "POST" else 200)


def _attach_error(form: MemberForm, exc: services.FamilyError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, error_text(exc.message)]
    else:
        form.form_errors.append(error_text(exc.message))


@bp.route("/families/<int:family_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(family_id: int, member_id: int) -> Any:
    family = load_family(family_id, "member.edit", record=False)
    member = load_member(family, member_id, "member.edit", record=False)
    form = MemberForm(obj=member if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(member.version)
        form.invite.data = False
    status = 422 if request.method == "POST" else 200
    conflict = None
    if form.validate_on_submit():
        try:
            services.update_member(family, member, form.member_data(), _int(form.version.data))
        except services.FamilyError as exc:
            _attach_error(form, exc)
        except services.Conflict:
            member = load_member(family, member_id, "member.edit", record=False)
            conflict = member
            form.version.data = str(member.version)
            status = 409
        else:
            authorize("member.edit", member)
            flash(
                _("De gegevens van %(name)s zijn opgeslagen.", name=member.display_name), "success"
            )
            return redirect(url_for("family.members", family_id=family.id))
    authorize("member.view", member)
    return render_template(
        "family/member_form.html",
        family=family,
        form=form,
        member=member,
        conflict=conflict,
        **family_context(family),
    ), status


@bp.route("/families/<int:family_id>/members/<int:member_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(family_id: int, member_id: int) -> Any:
    family = load_family(family_id, "member.remove", record=False)
    member = load_member(family, member_id, "member.remove", record=False)
    form = ConfirmForm()
    if request.method == "GET":
        form.version.data = str(member.version)
    error = None
    if form.validate_on_submit():
        try:
            services.remove_member(family, member, _int(form.version.data))
        except services.FamilyError as exc:
            error = error_text(exc.message)
        except services.Conflict:
            member = load_member(family, member_id, "member.remove", record=False)
            form.version.data = str(member.version)
            error = _("Iemand anders heeft deze persoon net veranderd. Kijk nog een keer.")
        else:
            authorize("member.remove", member)
            flash(
                _(
                    "%(name)s doet niet meer mee. Wat er geschreven is, blijft bewaard.",
                    name=member.display_name,
                ),
                "success",
            )
            return redirect(url_for("family.members", family_id=family.id))
    authorize("member.view", member)
    return render_template(
        "family/member_remove.html",
        family=family,
        member=member,
        form=form,
        error=error,
        **family_context(family),
    ), (409 if error else 200)


@bp.route("/families/<int:family_id>/members/<int:member_id>/invite", methods=["POST"])
@login_required
def invite_member(family_id: int, member_id: int) -> Any:
    family = load_family(family_id, "member.invite", record=False)
    member = load_member(family, member_id, "member.invite")
    form = ConfirmForm()
    if form.validate_on_submit():
        if member.user_id is not None:
            flash(_("%(name)s doet al mee.", name=member.display_name), "info")
        else:
            try:
                services.invite_member(family, member, current_user)
            except services.FamilyError as exc:
                flash(error_text(exc.message), "error")
            else:
                flash(
                    _("We hebben een uitnodiging gestuurd naar %(email)s.", email=member.email),
                    "info",
                )
    return redirect(url_for("family.members", family_id=family.id))


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
    if current_user.is_authenticated and form.validate_on_submit():
        try:
            services.accept_invitation(token, current_user)
        except services.FamilyError as exc:
            return render_template(
                "family/invitation.html",
                problem=error_text(exc.message),
                member=member,
                family=family,
                form=None,
            ), 409
        session.pop("invite_token", None)
        authorize("member.join", family)
        flash(_("Welkom! Je doet nu mee in %(family)s.", family=family.name), "success")
        return redirect(url_for("family.overview", family_id=family.id))
    return render_template(
        "family/invitation.html", problem=None, member=member, family=family, form=form
    )
