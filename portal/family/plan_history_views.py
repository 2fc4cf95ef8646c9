"""Pages for the plan's history: readable diffs of every change, and putting an earlier state
back (agreeing on the plan is in plan_version_views)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import db
from portal.access import current_actor, load_family
from portal.access.guard import not_found
from portal.access.policy import decide
from portal.core.args import positive_int_arg
from portal.family import plan_history
from portal.family.forms import (
    EVALUATION_KIND_CHOICES,
    GOAL_OWNER_CHOICES,
    GOAL_PHASE_CHOICES,
    PETAL_KIND_CHOICES,
)
from portal.family.models import Family
from portal.family.page import family_context as guest_context
from portal.family.plan_history_models import PlanChange
from portal.family.views import bp
from portal.live import notify

HISTORY_PAGE = 30


def part_labels() -> dict[str, Any]:
    return {
        "questions": _l("Onze vragen"),
        "goals": _l("Doelen"),
        "agreements": _l("Afspraken"),
        "network": _l("Betrokkenen"),
        "safety": _l("Veiligheid"),
        "evaluations": _l("Evaluatie"),
    }


def field_labels() -> dict[str, Any]:
    """Readable names for the fields a change or a version shows."""
    from portal.family.forms import PlanQuestionsForm

    questions = PlanQuestionsForm(formdata=None)
    labels: dict[str, Any] = {
        name: questions[name].label.text
        for name in ("tomorrow", "must_change", "approach", "help", "who_else")
    }
    labels.update(
        title=_l("Titel"),
        description=_l("Uitleg"),
        owner=_l("Van wie"),
        phase=_l("Fase"),
        what=_l("Wat"),
        owner_name=_l("Wie"),
        due_on=_l("Wanneer klaar"),
        done_at=_l("Gedaan op"),
        score=_l("Score"),
        scored_on=_l("Datum"),
        by_name=_l("Door"),
        created_by_name=_l("Gemaakt door"),
        updated_by_name=_l("Veranderd door"),
        name=_l("Naam"),
        relation=_l("Relatie"),
        contact=_l("Contact"),
        kind=_l("Soort"),
        signals=_l("Signalen"),
        actions=_l("Wat doen we dan?"),
        contacts=_l("Wie bellen we?"),
        held_on=_l("Datum"),
        start_time=_l("Tijd"),
        participants=_l("Wie doen mee"),
        went_well=_l("Wat ging goed?"),
        changes=_l("Wat verandert er?"),
        next_steps=_l("Volgende stappen"),
        member_id=_l("Doet mee in de gezinsruimte als"),
        guest_user_id=_l("Gast"),
    )
    return labels


# Fields the history shows by the words of their form's choices (lazy: in the reader's language).
_CHOICE_LABELS = {
    field: {choice.value: choice.label for choice in choices}
    for field, choices in (
        ("phase", GOAL_PHASE_CHOICES),
        ("owner", GOAL_OWNER_CHOICES),
        ("kind", PETAL_KIND_CHOICES + EVALUATION_KIND_CHOICES),
    )
}
# Fields the history shows as a date or a time, not as the ISO text the state keeps.
_DATE_FIELDS = frozenset({"due_on", "scored_on", "held_on"})
_TIME_FIELDS = frozenset({"done_at"})


def people_names(family: Family) -> dict[str, dict[str, str]]:
    """Names for the ids a petal's history keeps (the member, the guest it stands for): two
    queries, whatever the length of the history."""
    from portal.access.models import Grant
    from portal.auth.models import User
    from portal.family.models import Member

    members = db.session.execute(
        select(Member.id, Member.display_name).where(Member.family_id == family.id)
    )
    guests = db.session.execute(
        select(User.id, User.display_name).where(
            User.id.in_(select(Grant.grantee_id).where(Grant.family_id == family.id))
        )
    )
    return {
        "member_id": {str(i): name for i, name in members},
        "guest_user_id": {str(i): name for i, name in guests},
    }


def value_text(field: str, value: str, names: dict[str, dict[str, str]] | None = None) -> str:
    """A value from the history as the family reads it: a choice by its label ("Bezig", not
    "in_progress"), a date or time written out, a person by their name; anything else as it
    was typed."""
    if not value:
        return ""
    name = (names or {}).get(field, {}).get(str(value))
    if name is not None:
        return name
    label = _CHOICE_LABELS.get(field, {}).get(value)
    if label is not None:
        return str(label)
    try:
        if field in _DATE_FIELDS:
            return format_date(date.fromisoformat(value), "long")
        if field in _TIME_FIELDS:
            return format_datetime(datetime.fromisoformat(value), "short")
    except ValueError:
        pass  # an old or odd value: show it as it is
    return value


def load_change(family: Family, change_id: int, action: str) -> PlanChange:
    change = db.session.scalar(
        select(PlanChange).where(PlanChange.id == change_id, PlanChange.family_id == family.id)
    )
    if change is None:
        not_found(action, "plan_change", change_id, family.id)
        raise AssertionError("unreachable")
    return change


def announce(family: Family, version: int) -> None:
    notify(family.id, "plan", "plan.changed", family.id, version, {"by": current_user.display_name})


@bp.get("/families/<int:family_id>/plan/history")
@login_required
def plan_history_page(family_id: int) -> Any:
    family = load_family(family_id, "plan.view")
    part = request.args.get("part") or None
    if part not in (None, *part_labels()):
        part = None
    before_id = positive_int_arg("before")
    entries = plan_history.history(family.id, part, HISTORY_PAGE + 1, before_id)
    more = len(entries) > HISTORY_PAGE
    entries = entries[:HISTORY_PAGE]
    return render_template(
        "family/plan_history.html",
        family=family,
        entries=entries,
        part=part,
        labels=part_labels(),
        older=entries[-1].change.id if more else None,
        can_restore=decide(current_actor(), "plan.edit", family).allowed,
        field_labels=field_labels(),
        value_text=value_text,
        names=people_names(family),
        **guest_context(family),
    )


@bp.post("/families/<int:family_id>/plan/history/<int:change_id>/restore")
@login_required
def plan_restore(family_id: int, change_id: int) -> Any:
    family = load_family(family_id, "plan.edit")
    change = load_change(family, change_id, "plan.edit")
    try:
        restored = plan_history.restore(change)
    except plan_history.RestoreError:
        flash(_("Dit onderdeel bestaat niet meer en kan niet worden teruggezet."), "error")
        return redirect(url_for("family.plan_history_page", family_id=family.id)), 303
    announce(family, getattr(restored, "version", 0))
    flash(_("De eerdere versie is teruggezet. Ook dat staat in de geschiedenis."), "success")
    return redirect(url_for("family.plan_history_page", family_id=family.id, part=change.part))
