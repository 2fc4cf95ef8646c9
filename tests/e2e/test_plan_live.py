"""Parent and coach on the plan at the same time, in two browsers: each sees who else is
looking, and a goal the coach changes appears on the parent's screen without a reload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal import db
from portal.family.models import Goal
from tests.e2e.people import family_with_coach, sign_in


def seed(app: Flask) -> tuple[int, int]:
    with app.app_context():
        family, _parent, _coach = family_with_coach(
            {"plan": "write"}, purpose="Samen het plan maken"
        )
        goal = Goal(family_id=family.id, title="Op tijd op school", created_by_name="Marieke")
        db.session.add(goal)
        db.session.commit()
        ids = (family.id, goal.id)
        db.session.remove()
    return ids


def test_a_goal_changed_by_the_coach_appears_for_the_parent(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    family_id, goal_id = seed(live_server.app)
    parent_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    coach_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    parent, coach = parent_ctx.new_page(), coach_ctx.new_page()
    plan = f"/families/{family_id}/plan"
    try:
        sign_in(parent, "marieke@example.org")
        sign_in(coach, "coach@cjg.example", totp=True)
        parent.goto(plan)
        coach.goto(plan)
        expect(parent.locator("#plan-presence")).to_have_text("Coach Linda kijkt nu mee")
        expect(coach.locator("#plan-presence")).to_have_text("Marieke kijkt nu mee")
        check_a11y(parent)
        parent.evaluate("window.__notReloaded = true")  # gone if the page reloads

        editor = coach_ctx.new_page()
        editor.goto(f"{plan}/goals/{goal_id}/edit")
        editor.get_by_label("Doel", exact=True).fill("Elke dag op tijd op school")
        editor.get_by_role("button", name="Opslaan").click()

        expect(parent.locator(f"#goal-{goal_id} h3")).to_have_text(
            "Elke dag op tijd op school", timeout=3000
        )
        assert parent.evaluate("window.__notReloaded") is True
        shoot(parent, "parent-sees-coach-edit")
        # While the parent is typing, nothing is swapped under her hands: a notice instead.
        parent.locator("summary", has_text="Doel toevoegen").click()
        parent.locator("form[action$='/plan/goals']").get_by_label("Doel", exact=True).fill(
            "Samen ontbijten"
        )
        editor.goto(f"{plan}/goals/{goal_id}/edit")
        editor.get_by_label("Doel", exact=True).fill("Elke schooldag op tijd")
        editor.get_by_role("button", name="Opslaan").click()
        expect(parent.locator("#plan-live")).to_be_visible()
        expect(
            parent.locator("form[action$='/plan/goals']").get_by_label("Doel", exact=True)
        ).to_have_value("Samen ontbijten")
        # The coach leaves: the parent sees that too.
        coach.close()
        editor.close()
        expect(parent.locator("#plan-presence")).to_be_hidden()
    finally:
        parent_ctx.close()
        coach_ctx.close()
