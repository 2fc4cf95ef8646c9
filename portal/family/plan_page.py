"""The plan page. Its costly sections — de bloem, the goals with their charts, the agreements,
the safety plan with the moments — are drawn once and served again (portal/core/caching.py),
kept under a key of everything they show:

- the family and its change stamp, new in every transaction that changes something of the
  family (portal/family/changes.py): another family's changes leave it alone;
- what the reader may do with the plan (read, or also change it: edit links and forms); every
  other reader of the plan sees the same sections;
- the language, and the day (agreements become late, the agenda moves on at midnight);
- what can change without a change in the family: the next moment one of its grants starts or
  ends (a guest's access ends by the clock, writing nothing) and the names of its guests'
  accounts (an account is renamed outside the family);
- for the goals and agreements, which page of them was asked for.

A section holding a form with what someone typed, or drawn in a transaction that has itself
changed the family, is drawn anew and not kept. The view has decided and logged the access
before any section is asked for, whether it then comes from the cache or not. A section is
drawn from the values given here only: not from the request, the session or the signed-in user.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cached_property
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import get_locale
from sqlalchemy import bindparam, select

from portal import db
from portal.access import may
from portal.access.models import Grant
from portal.auth.models import User
from portal.core import caching, clock
from portal.core.args import MAX_ID, positive_int_arg
from portal.family import changes, plan_parts, plan_services
from portal.family.forms import EvaluationForm, GoalForm
from portal.family.models import Family, Plan
from portal.family.page import family_context as guest_context
from portal.family.plan_parts_views import _petal_form, flower_entries
from portal.family.plan_views import (
    PAGE_SIZE,
    Pager,
    _agreement_form,
    people_for_agreements,
    question_labels,
)
from portal.family.services import current_members

LISTS = ("goals", "agreements")  # paged on the page, each by its own query-string number
SECTIONS: dict[str, tuple[str, str | None]] = {
    # name: (template, the form in it that may come back with what was typed)
    "network": ("family/_plan_network.html", "petal_form"),
    "goals": ("family/_plan_goals.html", "goal_form"),
    "agreements": ("family/_plan_agreements.html", "agreement_form"),
    "moments": ("family/_plan_moments.html", "evaluation_form"),
}

# Built once: every grant of the family with its grantee's names (any state: a grant's state
# changes by the clock or by a write, and a write changes the family's stamp).
_GRANT_FACTS = (
    select(
        Grant.valid_from,
        Grant.expires_at,
        Grant.revoked_at,
        User.id,
        User.display_name,
        User.organisation,
        User.profession,
    )
    .outerjoin(User, User.id == Grant.grantee_id)
    .where(Grant.family_id == bindparam("family_id"))
)


def asked_pages() -> dict[str, int]:
    """The page of each list the query string asks for (a page past the end shows the last
    one: clamped when drawn, from the counts)."""
    return {name: positive_int_arg(name, at_most=MAX_ID) or 1 for name in LISTS}


def _pagers(family: Family, asked: dict[str, int], totals: dict[str, int]) -> dict[str, Any]:
    """Per list: the offset to load from and its pager; the other list's page is kept in
    every link."""
    chosen = {
        name: min(asked[name], max(1, -(-total // PAGE_SIZE))) for name, total in totals.items()
    }

    def url(name: str, page: int) -> str:
        pages = {**chosen, name: page}
        args: dict[str, Any] = {k: v for k, v in pages.items() if v > 1}
        return url_for("family.plan", family_id=family.id, **args) + f"#{name}"

    result = {}
    for name, total in totals.items():
        page = chosen[name]
        offset = (page - 1) * PAGE_SIZE
        result[name] = (
            offset,
            Pager(
                total=total,
                first=offset + 1 if total else 0,
                last=min(total, offset + PAGE_SIZE),
                prev_url=url(name, page - 1) if page > 1 else None,
                next_url=url(name, page + 1) if offset + PAGE_SIZE < total else None,
            ),
        )
    return result


def outside_facts(family: Family) -> tuple[Any, ...]:
    """What the sections show that can change while the family's stamp stays: the next moment
    one of its grants starts, ends or is revoked, and its guests' names. One query."""
    now = clock.now()
    boundary = None
    names: dict[int, tuple[str, str | None, str | None]] = {}
    for row in db.session.execute(_GRANT_FACTS, {"family_id": family.id}):
        for moment in row[:3]:
            if moment is not None and moment > now and (boundary is None or moment < boundary):
                boundary = moment
        if row[3] is not None:
            names[row[3]] = (row[4], row[5], row[6])
    return (boundary.isoformat() if boundary else None, tuple(sorted(names.items())))


class PlanData:
    """What the sections draw from, each part loaded when a section that shows it is drawn:
    nothing for sections served from the cache."""

    def __init__(self, family: Family, can_edit: bool, today: date, asked: dict[str, int]):
        self.family, self.can_edit, self.today, self.asked = family, can_edit, today, asked

    @cached_property
    def members(self) -> list[Any]:
        # Only the add forms list them, and only who may add sees those.
        return current_members(self.family) if self.can_edit else []

    @cached_property
    def petals(self) -> list[Any]:
        return plan_parts.petals(self.family)

    @cached_property
    def guests(self) -> list[plan_parts.GuestPetal]:
        return plan_parts.guest_petals(self.family)

    @cached_property
    def counts(self) -> tuple[int, int, int]:
        return plan_services.plan_counts(self.family)  # goals, open and done agreements

    @cached_property
    def pages(self) -> dict[str, Any]:
        goal_count, open_agreements, done_agreements = self.counts
        totals = {"goals": goal_count, "agreements": open_agreements + done_agreements}
        return _pagers(self.family, self.asked, totals)

    def network(self) -> dict[str, Any]:
        entries = flower_entries(self.family, self.can_edit, self.petals, self.guests)
        return {
            "flower": list(zip(entries, plan_parts.flower_layout(len(entries)), strict=False)),
            "flower_entries": entries,
            "flower_max": plan_parts.FLOWER_MAX,
            "petal_form": _petal_form(self.family, self.members, self.guests, formdata=None)
            if self.can_edit
            else None,
        }

    def goals(self) -> dict[str, Any]:
        offset, pager = self.pages["goals"]
        goals = plan_services.goals(self.family, offset=offset, limit=PAGE_SIZE)
        return {
            "goals": goals,
            "scores": plan_services.scores_by_goal(self.family, [g.id for g in goals]),
            "goals_pager": pager,
            "goal_form": GoalForm(formdata=None) if self.can_edit else None,
        }

    def agreements(self) -> dict[str, Any]:
        offset, pager = self.pages["agreements"]
        form = None
        if self.can_edit:
            people = people_for_agreements(self.family, self.petals, self.guests, self.members)
            form = _agreement_form(
                self.family, plan_services.goals_to_link(self.family), people, formdata=None
            )
        return {
            "agreements": plan_services.agreements(
                self.family, offset=offset, limit=PAGE_SIZE, open_total=self.counts[1]
            ),
            "agreements_pager": pager,
            "removed_petals": plan_parts.removed_petal_ids(self.family),
            "today": self.today,
            "agreement_form": form,
        }

    def moments(self) -> dict[str, Any]:
        items = plan_parts.evaluations(self.family)
        return {
            "safety": plan_parts.safety_of(self.family),
            "evaluations": items,
            "agenda": plan_parts.upcoming(items, self.today),
            "evaluation_form": EvaluationForm(formdata=None) if self.can_edit else None,
        }


def _drawer(name: str, data: PlanData, given: dict[str, Any]) -> Callable[[], str]:
    template, form_name = SECTIONS[name]

    def draw() -> str:
        context = getattr(data, name)()
        if form_name is not None and given.get(form_name) is not None:
            context[form_name] = given[form_name]
        # Jinja itself, not render_template: no request, session or signed-in user in reach.
        return current_app.jinja_env.get_template(template).render(
            family=data.family, can_edit=data.can_edit, **context
        )

    return draw


def sections(family: Family, can_edit: bool, **forms: Any) -> dict[str, Any]:
    """The HTML of each section, from the cache where its key allows."""
    today = clock.today()
    asked = asked_pages()
    data = PlanData(family, can_edit, today, asked)
    keep = family.id not in changes.changed_here(db.session())
    base = None
    if keep:
        base = (
            family.id,
            family.change_stamp,
            "edit" if can_edit else "read",
            str(get_locale()),
            today.isoformat(),
            outside_facts(family),
        )
    drawn = {}
    for name, (_template, form_name) in SECTIONS.items():
        key: tuple[Any, ...] | None = base
        if base is not None and form_name is not None and forms.get(form_name) is not None:
            key = None  # a form that came back with what was typed
        if key is not None and name in LISTS:
            key = (*key, asked["goals"], asked["agreements"])
        drawn[name] = caching.fragment(f"plan.{name}", key, _drawer(name, data, forms))
    return drawn


def plan_page(family: Family, plan: Plan, status: int = 200, **forms: Any) -> Any:
    from portal.family.plan_signoff import status as plan_status

    can_edit = may("plan.edit", plan)
    # Before the sections: finding a version agreed may write, and a section drawn in a
    # transaction that changed the family is not kept.
    current_status = plan_status(family)
    return render_template(
        "family/plan.html",
        family=family,
        plan=plan,
        questions=question_labels(),
        can_edit=can_edit,
        sections=sections(family, can_edit, **forms),
        plan_status=current_status,
        **guest_context(family),
    ), status
