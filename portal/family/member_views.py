"""Who takes part: the members page, adding, changing, removing and leaving, one's own details.
Thin: load through the policy, call a service, render. What one may do to whom is the policy's
(portal/access/member_rules.py, member_target_reason); these pages only ask it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.access import authority, authorize, current_actor, load_family, load_member
from portal.access.age import age_on
from portal.access.member_rules import member_kind
from portal.access.policy import decide
from portal.core import clock
from portal.family import removal, services
from portal.family.forms import ConfirmForm, MemberForm, OwnDetailsForm
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, ROLES, Family, Member
from portal.family.page import family_context
from portal.family.views import _int, bp, error_text


def kind_labels() -> dict[str, Any]:
    return {
        "parent_with_authority": _l("ouder met gezag"),
        "parent_without_authority": _l("ouder zonder gezag"),
        "partner": _l("partner of stiefouder"),
        "young_person": _l("jongere"),
        "child": _l("kind"),
        "network": _l("netwerk"),
    }


@dataclass
class MemberRow:
    member: Member
    age: int | None
    kind: str
    is_me: bool
    may_edit: bool
    may_remove: bool
    sees_contact: bool
    authority: list[str] = field(default_factory=list)  # names: a parent's children, or holders


@bp.route("/families/<int:family_id>/members")
@login_required
def members(family_id: int) -> Any:
    family = load_family(family_id, "member.list")
    actor = current_actor()
    today = clock.today()
    people = services.current_members(family, by_role=True)
    names = {m.id: m.display_name for m in people}
    holders = authority.holders_by_child(family.id)
    rows = []
    for m in people:
        is_me = actor.user is not None and m.user_id == actor.user.id
        if m.role == ROLE_YOUNG_PERSON:
            over = [names[p] for p in holders.get(m.id, []) if p in names]
        else:
            over = [names[c] for c, ps in holders.items() if m.id in ps and c in names]
        rows.append(
            MemberRow(
                member=m,
                age=age_on(m.birth_date, today) if m.birth_date else None,
                kind=member_kind(m, today),
                is_me=is_me,
                may_edit=decide(actor, "member.edit", m).allowed,
                may_remove=decide(actor, "member.leave" if is_me else "member.remove", m).allowed,
                sees_contact=decide(actor, "member.contact", m).allowed,
                authority=sorted(over),
            )
        )
    return render_template(
        "family/members.html",
        family=family,
        rows=rows,
        kinds=kind_labels(),
        **family_context(family),
    )


def _offer_authority(form: MemberForm, family: Family, me: Member | None) -> None:
    """The children and parents to choose from; on a first view, what most families mean."""
    people = services.current_members(family)
    children = [m for m in people if m.role == ROLE_YOUNG_PERSON]
    parents = [m for m in people if authority.has_any_authority(m)]
    form.authority_children.choices = [(m.id, m.display_name) for m in children]
    form.authority_parents.choices = [(m.id, m.display_name) for m in parents]
    if request.method == "GET" and me is not None:
        form.authority_children.data = authority.children_of(me.id)
        form.authority_parents.data = [m.id for m in parents][: authority.MAX_HOLDERS]


@bp.route("/families/<int:family_id>/members/new", methods=["GET", "POST"])
@login_required
def add_member(family_id: int) -> Any:
    family = load_family(family_id, "member.add", record=False)
    form = MemberForm()
    if request.method == "GET" and request.args.get("role") in ROLES:
        form.role.data = request.args["role"]
        form.has_authority.data = request.args.get("authority") == "1"
    _offer_authority(form, family, current_actor().membership(family.id))
    if form.validate_on_submit():
        try:
            member = services.add_member(family, current_user, form.member_data(True))
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
        "family/member_form.html",
        family=family,
        form=form,
        member=None,
        birth_date_fixed=False,
        holders=[],
        **family_context(family),
    ), (422 if request.method == "POST" else 200)


def _attach_error(form: MemberForm | OwnDetailsForm, exc: services.FamilyError) -> None:
    name = {"authority": "authority_children"}.get(exc.field or "", exc.field)
    if name == "authority_children" and form.data.get("role") == ROLE_YOUNG_PERSON:
        name = "authority_parents"
    target = getattr(form, name, None) if name else None
    if target is not None:
        target.errors = [*target.errors, error_text(exc.message)]
    else:
        form.form_errors.append(error_text(exc.message))


@bp.route("/families/<int:family_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(family_id: int, member_id: int) -> Any:
    family = load_family(family_id, "member.list", record=False)
    me = current_actor().membership(family.id)
    if me is not None and me.id == member_id:
        authorize("member.view", me)
        return redirect(url_for("family.own_details", family_id=family.id))
    family = load_family(family_id, "member.edit", record=False)
    member = load_member(family, member_id, "member.edit", record=False)
    birth_date_fixed = not decide(current_actor(), "member.birth_date", member).allowed
    form = MemberForm(obj=member if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(member.version)
        form.invite.data = False
    status = 422 if request.method == "POST" else 200
    conflict = None
    if form.validate_on_submit():
        data = form.member_data()
        # Authority is not on this form (the operator's); a fixed birth date is not either.
        data.has_authority = member.has_authority
        if birth_date_fixed:
            data.birth_date = member.birth_date
        try:
            services.update_member(family, member, data, _int(form.version.data))
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
    holders = (
        authority.authority_holders(family.id, member.id)
        if member.role == ROLE_YOUNG_PERSON
        else []
    )
    return render_template(
        "family/member_form.html",
        family=family,
        form=form,
        member=member,
        conflict=conflict,
        birth_date_fixed=birth_date_fixed,
        holders=holders,
        kind=kind_labels()[member_kind(member, clock.today())],
        **family_context(family),
    ), status


@bp.route("/families/<int:family_id>/me", methods=["GET", "POST"])
@login_required
def own_details(family_id: int) -> Any:
    """One's own name, household, address and phone, and whether the other parents see them."""
    family = load_family(family_id, "member.edit_self", record=False)
    me = current_actor().membership(family.id)
    assert me is not None  # the policy allows this to members only
    form = OwnDetailsForm(obj=me if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(me.version)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            services.update_own_details(me, form.own_details(), _int(form.version.data))
        except services.Conflict:
            form.version.data = str(me.version)
            form.form_errors.append(
                _("Je gegevens zijn net ergens anders veranderd. Kijk nog een keer.")
            )
            status = 409
        else:
            authorize("member.edit_self", me)
            flash(_("Je gegevens zijn opgeslagen."), "success")
            return redirect(url_for("family.members", family_id=family.id))
    authorize("member.view", me)
    return render_template(
        "family/own_details.html",
        family=family,
        form=form,
        me=me,
        is_parent=me.role == ROLE_PARENT,
        **family_context(family),
    ), status


@bp.route("/families/<int:family_id>/members/<int:member_id>/remove", methods=["GET", "POST"])
@login_required
def remove_member(family_id: int, member_id: int) -> Any:
    """Removing someone else, withdrawing an invitation, or leaving yourself: one confirmation
    page that names what happens and who is told."""
    me = current_actor().membership(family_id) if current_user.is_authenticated else None
    leaving = me is not None and me.id == member_id
    action = "member.leave" if leaving else "member.remove"
    family = load_family(family_id, action, record=False)
    member = load_member(family, member_id, action, record=False)
    form = ConfirmForm()
    if request.method == "GET":
        form.version.data = str(member.version)
    error = None
    if form.validate_on_submit():
        try:
            removal.remove_member(
                family, member, _int(form.version.data), by=None if leaving else current_user
            )
        except services.FamilyError as exc:
            error = error_text(exc.message)
        except services.Conflict:
            member = load_member(family, member_id, action, record=False)
            form.version.data = str(member.version)
            error = _("Iemand anders heeft deze persoon net veranderd. Kijk nog een keer.")
        else:
            authorize(action, member)
            if leaving:
                flash(_("Je doet niet meer mee in %(family)s.", family=family.name), "success")
                return redirect(url_for("family.index"))
            flash(
                _(
                    "%(name)s doet niet meer mee. Wat er geschreven is, blijft bewaard.",
                    name=member.display_name,
                ),
                "success",
            )
            return redirect(url_for("family.members", family_id=family.id))
    authorize("member.view", member)
    told = removal.removal_recipients(family, member)
    return render_template(
        "family/member_remove.html",
        family=family,
        member=member,
        form=form,
        error=error,
        leaving=leaving,
        kind=member_kind(member, clock.today()),
        children=services.authority_summary(member) if member.role == ROLE_PARENT else [],
        told=[r.name for r in told if not r.is_removed],
        removed_is_told=any(r.is_removed for r in told),
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
