"""A long plan in a real browser: goals and agreements come 25 at a time, the pager says where you
are and moves one list without losing the other's place; axe-core finds no serious problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from portal import db
from portal.family.models import Agreement, Goal
from tests.e2e.people import family_with_coach, sign_in


def seed(app: Flask) -> int:
    with app.app_context():
        family, _parent, _coach = family_with_coach({"plan": "read"})
        db.session.add_all(
            Goal(family_id=family.id, title=f"Doel {i:02d}", created_by_name="Mama")
            for i in range(60)
        )
        db.session.add_all(
            Agreement(
                family_id=family.id,
                what=f"Afspraak {i:02d}",
                owner_name="Mama",
                created_by_name="Mama",
            )
            for i in range(30)
        )
        db.session.commit()
        family_id = family.id
        db.session.remove()
    return family_id


def test_a_long_plan_is_paged_per_list(
    page: Page,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    family_id = seed(live_server.app)
    sign_in(page, "marieke@example.org")
    page.goto(f"/families/{family_id}/plan")
    goals_pager = page.get_by_role("navigation", name="Meer doelen")
    expect(goals_pager).to_contain_text("1–25 van 60")
    expect(page.get_by_role("heading", name="Doel 24")).to_be_visible()
    expect(page.get_by_role("heading", name="Doel 25")).to_have_count(0)
    check_a11y(page)
    goals_pager.scroll_into_view_if_needed()
    shoot(page, "plan-goals-page-1")

    page.get_by_role("link", name="Volgende afspraken").click()
    expect(page.get_by_role("navigation", name="Meer afspraken")).to_contain_text("26–30 van 30")
    expect(page.get_by_role("cell", name="Afspraak 29", exact=True)).to_be_visible()
    # Reached with the keyboard: the goals' next page keeps the agreements on their page 2.
    next_goals = page.get_by_role("link", name="Volgende doelen")
    next_goals.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Meer doelen")).to_contain_text("26–50 van 60")
    expect(page.get_by_role("cell", name="Afspraak 29", exact=True)).to_be_visible()
    assert page.url.endswith(f"/families/{family_id}/plan?goals=2&agreements=2#goals")
    check_a11y(page)
    shoot(page, "plan-goals-page-2")


def test_an_evaluation_is_taken_out_after_asking_and_put_back_from_the_history(
    page: Page,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    from datetime import timedelta

    from portal.core import clock
    from portal.family.models import Evaluation

    family_id = seed(live_server.app)
    with live_server.app.app_context():
        db.session.add(
            Evaluation(
                family_id=family_id,
                kind="network_meeting",
                title="Netwerkoverleg school",
                held_on=clock.today() + timedelta(days=7),
                created_by_name="Mama",
            )
        )
        db.session.commit()
        db.session.remove()
    sign_in(page, "marieke@example.org")
    page.goto(f"/families/{family_id}/plan")
    page.get_by_role("link", name="Weghalen Netwerkoverleg school").click()

    expect(page.get_by_role("heading", name="Dit moment weghalen?")).to_be_visible()
    expect(page.get_by_text("Netwerkoverleg school")).to_be_visible()
    check_a11y(page)
    shoot(page, "evaluation-remove-confirm")
    page.get_by_role("button", name="Ja, weghalen").click()

    expect(page.get_by_text("Weggehaald uit het plan.")).to_be_visible()
    expect(page.get_by_role("heading", name="Netwerkoverleg: Netwerkoverleg school")).to_have_count(
        0
    )
    page.goto(f"/families/{family_id}/plan/history?part=evaluations")
    removed = page.locator("article.change").first
    expect(removed).to_contain_text("Weggehaald")
    expect(removed).not_to_contain_text("removed_at")  # said by "Weggehaald", not as a field
    check_a11y(page)
    shoot(page, "evaluation-in-history")
    removed.get_by_role("button", name="Terugzetten in het plan").click()
    expect(page.get_by_text("De eerdere versie is teruggezet.")).to_be_visible()
    page.goto(f"/families/{family_id}/plan")
    expect(
        page.get_by_role("heading", name="Netwerkoverleg: Netwerkoverleg school")
    ).to_be_visible()
