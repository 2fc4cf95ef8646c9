"""Dossier pages: the list (with search), writing an entry (with attachments and who may read
it), one entry with its history, and the author's edit and take-out. The policy decides per
entry; an entry kept from you does not exist for you."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import db
from portal.access import authorize, current_actor, load_family, may
from portal.access.guard import enforce, load_in_family
from portal.access.policy import Decision, decide, grant_state
from portal.core import clock
from portal.core.args import positive_int_arg
from portal.core.sanitize import plain_text
from portal.dossier import services as dossier
from portal.dossier.forms import DossierEntryForm, shown_visibility_labels
from portal.dossier.models import DossierEntry
from portal.family.forms import ConfirmForm
from portal.family.models import Family
from portal.family.page import family_context as guest_context
from portal.files.uploads import store_form_uploads
from portal.live import notify

PAGE_SIZE = 50


def dossier_error_text(code: str) -> str:
    return {
        "title_required": _("Geef het stuk een titel."),
        "title_too_long": _("De titel is te lang (hoogstens 200 tekens)."),
        "body_required": _("Schrijf iets in het stuk."),
        "body_too_long": _("De tekst is te lang (hoogstens 20.000 tekens)."),
        "bad_visibility": _("Kies wie dit mag lezen."),
        "too_many": _("Je kunt hoogstens 5 bestanden tegelijk toevoegen."),
        "unknown_file": _("Een van de bestanden bestaat niet of is al gebruikt."),
    }.get(code, _("Dit kon niet. Controleer wat je invulde."))


def former_guests(entries: list[DossierEntry], family: Family) -> set[int]:
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


def announce(entry: DossierEntry) -> None:
    """Live: only an entry everyone with dossier access may read is announced with its title;
    a more private one is not announced at all (the room is shared)."""
    if entry.visibility == "all":
        notify(
            entry.family_id,
            "dossier",
            "dossier.changed",
            entry.id,
            entry.version,
            {"title": "" if entry.deleted_at else entry.title},
        )


@login_required
def entries(family_id: int) -> Any:
    family = load_family(family_id, "dossier.view")
    before = positive_int_arg("before")
    query = plain_text(request.args.get("q", ""), 100)
    entries = dossier.visible_entries(
        family, current_actor(), limit=PAGE_SIZE + 1, before_id=before, query=query
    )
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    entries = entries[:PAGE_SIZE]
    return render_template(
        "dossier/list.html",
        family=family,
        entries=entries,
        attachments=dossier.attachments_of(e.id for e in entries),
        former_guests=former_guests(entries, family),
        can_write=may("dossier.edit", family),
        older=older,
        query=query,
        labels=shown_visibility_labels(),
        **guest_context(family),
    )


@login_required
def new(family_id: int) -> Any:
    family = load_family(family_id, "dossier.edit", record=False)
    form = DossierEntryForm()
    choices = dossier.choices_for(current_actor(), family)
    form.offer(choices, dossier.writes_as_parent(current_actor(), family))
    if request.method == "GET":
        form.visibility.data = dossier.default_visibility(choices)
    problems: list[str] = []
    if form.validate_on_submit():
        ids, problems = store_form_uploads(
            lambda name, data: dossier.store_upload(family, current_user, name, data)
        )
        if not problems:
            try:
                entry = create_entry(family, form, ids)
            except dossier.DossierError as exc:
                problems = [dossier_error_text(exc.code)]
            else:
                authorize("dossier.edit", entry)
                announce(entry)
                flash(_("Het stuk is toegevoegd aan het dossier."), "success")
                return redirect(url_for("dossier.entries", family_id=family.id))
        db.rollback()
    authorize("family.view", family)
    return render_template(
        "dossier/new.html",
        family=family,
        form=form,
        problems=problems,
        **guest_context(family),
    ), (422 if request.method == "POST" else 200)


def create_entry(family: Family, form: DossierEntryForm, ids: list[int]) -> DossierEntry:
    return dossier.create(
        family,
        current_actor(),
        title=form.title.data or "",
        body=form.body.data or "",
        visibility=form.visibility.data or "all",
        attachment_ids=ids,
    )


@login_required
def entry(family_id: int, entry_id: int) -> Any:
    family = load_family(family_id, "dossier.view", record=False)
    entry = load_in_family(DossierEntry, family, entry_id, "dossier.view")
    return render_template(
        "dossier/entry.html",
        family=family,
        entry=entry,
        attachments=dossier.attachments_of([entry.id]).get(entry.id, []),
        history=dossier.history(entry, current_actor()),
        former_guests=former_guests([entry], family),
        may_change=may("dossier.change", entry),
        labels=shown_visibility_labels(),
        **guest_context(family),
    )


@login_required
def edit(family_id: int, entry_id: int) -> Any:
    family = load_family(family_id, "dossier.view", record=False)
    entry = load_in_family(DossierEntry, family, entry_id, "dossier.change", record=False)
    form = DossierEntryForm(obj=entry if request.method == "GET" else None)
    form.offer(
        dossier.choices_for(current_actor(), family, entry),
        dossier.writes_as_parent(current_actor(), family),
    )
    if request.method == "GET":
        form.version.data = str(entry.version)
    conflict = None
    problems: list[str] = []
    if form.validate_on_submit():
        ids, problems = store_form_uploads(
            lambda name, data: dossier.store_upload(family, current_user, name, data)
        )
        try:
            if problems:
                raise dossier.DossierError("files_refused")
            dossier.update(
                entry,
                current_actor(),
                family,
                version=_int(form.version.data),
                title=form.title.data or "",
                body=form.body.data or "",
                visibility=form.visibility.data or "all",
                attachment_ids=ids,
            )
        except dossier.Conflict as exc:
            db.rollback()
            conflict = exc.current
        except dossier.DossierError as exc:
            db.rollback()
            if exc.code != "files_refused":
                problems = [dossier_error_text(exc.code)]
        else:
            authorize("dossier.change", entry)
            announce(entry)
            flash(_("Het stuk is bijgewerkt. De vorige versie is bewaard."), "success")
            return redirect(url_for("dossier.entry", family_id=family.id, entry_id=entry.id))
    entry = load_in_family(DossierEntry, family, entry_id, "dossier.view")
    if conflict is not None:
        form.version.data = str(entry.version)
    status = 200 if request.method == "GET" else (409 if conflict else 422)
    return render_template(
        "dossier/edit.html",
        family=family,
        entry=entry,
        form=form,
        conflict=conflict,
        problems=problems,
        **guest_context(family),
    ), status


@login_required
def delete(family_id: int, entry_id: int) -> Any:
    """The author takes their entry out of the dossier, after confirming; the text is kept."""
    family = load_family(family_id, "dossier.view", record=False)
    entry = load_in_family(DossierEntry, family, entry_id, "dossier.change", record=False)
    form = ConfirmForm()
    if request.method == "GET":
        form.version.data = str(entry.version)
    conflict = False
    if form.validate_on_submit():
        # Decided before the entry is gone (afterwards it no longer exists for anyone).
        decision = decide(current_actor(), "dossier.change", entry)
        try:
            dossier.take_out(entry, _int(form.version.data))
        except dossier.Conflict:
            conflict = True
        else:
            record_taken_out(decision, entry)
            announce(entry)
            flash(_("Het stuk is uit het dossier gehaald."), "success")
            return redirect(url_for("dossier.entries", family_id=family.id))
    authorize("dossier.view", entry)
    return render_template(
        "dossier/delete.html",
        family=family,
        entry=entry,
        form=form,
        conflict=conflict,
        **guest_context(family),
    ), (409 if conflict else 200)


def record_taken_out(decision: Decision, entry: DossierEntry) -> None:
    enforce(
        "dossier.change",
        decision,
        family_id=entry.family_id,
        object_type="dossierentry",
        object_id=entry.id,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
