"""Two parents with authority in two households and a 14-year-old agree on their plan in a real
browser: the mother proposes and signs, the father finds "Versie 1 wacht op jouw handtekening"
on his overview and signs, the 14-year-old first says "niet akkoord" with a reason both parents
read, then signs — and only then is the plan "vastgesteld". The mails read from the SMTP test
server hold nothing from the plan. axe-core finds no serious WCAG problems on the way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal import db
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Agreement, Family, Goal, Member
from tests.conftest import LiveServer
from tests.e2e.people import PASSWORD, sign_in
from tests.helpers import years_ago
from tests.support.servers import SmtpServer

GOAL = "Rustige ochtenden zonder ruzie"
AGREEMENT = "Sanne zet zelf haar wekker om zeven uur"
REASON = "Ik wil in het weekend zelf kiezen hoe laat ik opsta."


def seed(app: Flask) -> int:
    now = clock.now()
    with app.app_context():
        people = {
            key: User(
                email=f"{key}@example.org",
                display_name=name,
                password_hash=passwords.hash_password(PASSWORD),
                email_verified_at=now,
            )
            for key, name in (
                ("marieke", "Marieke de Vries"),
                ("mark", "Mark de Vries"),
                ("sanne", "Sanne"),
            )
        }
        db.session.add_all(people.values())
        db.session.flush()
        family = Family(name="Gezin De Vries", created_by_id=people["marieke"].id)
        db.session.add(family)
        db.session.flush()
        db.session.add_all(
            [
                Member(
                    family_id=family.id,
                    user_id=people["marieke"].id,
                    role=ROLE_PARENT,
                    display_name="Marieke de Vries",
                    has_authority=True,
                    household="Utrecht",
                    joined_at=now,
                ),
                Member(
                    family_id=family.id,
                    user_id=people["mark"].id,
                    role=ROLE_PARENT,
                    display_name="Mark de Vries",
                    has_authority=True,
                    household="Amersfoort",
                    joined_at=now,
                ),
                Member(
                    family_id=family.id,
                    user_id=people["sanne"].id,
                    role=ROLE_YOUNG_PERSON,
                    display_name="Sanne",
                    birth_date=years_ago(14),
                    joined_at=now,
                ),
                Member(
                    family_id=family.id,
                    role=ROLE_YOUNG_PERSON,
                    display_name="Daan",
                    birth_date=years_ago(9),
                ),
            ]
        )
        db.session.flush()
        goal = Goal(
            family_id=family.id,
            title=GOAL,
            description="Iedereen op tijd de deur uit, zonder geschreeuw.",
            owner="young_person",
            phase="in_progress",
            created_by_name="Marieke de Vries",
        )
        db.session.add(goal)
        db.session.flush()
        db.session.add(
            Agreement(
                family_id=family.id,
                what=AGREEMENT,
                owner_name="Sanne",
                owner_user_id=people["sanne"].id,
                due_on=clock.today().replace(day=1).replace(year=clock.today().year + 1),
                goal_id=goal.id,
                created_by_name="Marieke de Vries",
            )
        )
        db.session.commit()
        family_id = family.id
        db.session.remove()
    return family_id


def person(browser: Browser, live_server: LiveServer, email: str) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    page = context.new_page()
    sign_in(page, email)
    return page


def test_two_parents_and_a_teenager_agree_on_their_plan(
    app: Flask,
    browser: Browser,
    live_server: LiveServer,
    smtp_server: SmtpServer,
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    fid = seed(live_server.app)
    mother = person(browser, live_server, "marieke@example.org")
    father = person(browser, live_server, "mark@example.org")
    sanne = person(browser, live_server, "sanne@example.org")
    try:
        # The mother proposes: everyone who must sign is named before she does.
        mother.goto(f"/families/{fid}/plan/versions")
        signers = mother.get_by_role("heading", name="Wie moet ondertekenen?")
        expect(signers).to_be_visible()
        for name in ("Marieke de Vries", "Mark de Vries", "Sanne"):
            expect(mother.locator("main")).to_contain_text(name)
        expect(mother.locator("main")).not_to_contain_text("Daan (")  # 9: not a signer
        shoot(mother, "mother-before-proposing")
        mother.get_by_role("button", name="Dit plan voorstellen om te ondertekenen").click()
        expect(mother.get_by_role("heading", name="Versie 1 van het gezinsplan")).to_be_visible()
        expect(mother.locator("main")).to_contain_text("0 van de 3 hebben getekend")
        # The version reads like the plan: words, not codes.
        document = mother.locator(".plan-document")
        expect(document).to_contain_text(GOAL)
        expect(document).to_contain_text(AGREEMENT)
        expect(document).to_contain_text("bezig")
        expect(document).to_contain_text("jongere")
        expect(mother.locator("body")).not_to_contain_text("in_progress")
        expect(mother.locator("body")).not_to_contain_text("young_person")
        check_a11y(mother)
        mother.get_by_role("button", name="Ik ga akkoord en onderteken").click()
        expect(mother.locator("main")).to_contain_text("1 van de 3 heeft getekend")
        expect(mother.locator("main")).not_to_contain_text("Vastgesteld")
        shoot(mother, "mother-signed-one-of-three")

        # Every signer got a mail, with nothing from the plan in it.
        for key in ("marieke", "mark", "sanne"):
            mail = smtp_server.wait_for(lambda m, k=key: m["To"] == f"{k}@example.org")
            body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert "wacht op jouw handtekening" in mail["Subject"]
            assert GOAL not in body and AGREEMENT not in body and "wekker" not in body

        # The father, in his own household, sees it waiting on his overview.
        father.goto(f"/families/{fid}")
        expect(father.get_by_text("Versie 1 wacht op jouw handtekening")).to_be_visible()
        check_a11y(father)
        shoot(father, "father-overview-waiting")
        father.get_by_role("link", name="Versie 1 lezen en ondertekenen").click()
        expect(father.locator("main")).to_contain_text("Marieke de Vries")
        father.get_by_role("button", name="Ik ga akkoord en onderteken").click()
        expect(father.locator("main")).to_contain_text("2 van de 3 hebben getekend")
        expect(father.locator("main")).not_to_contain_text("Vastgesteld")

        # Sanne (14) first says "niet akkoord", with her reason.
        sanne.goto(f"/families/{fid}")
        expect(sanne.get_by_text("Versie 1 wacht op jouw handtekening")).to_be_visible()
        sanne.get_by_role("link", name="Versie 1 lezen en ondertekenen").click()
        sanne.get_by_role("button", name="Ik ben niet akkoord").click()  # no reason yet
        expect(sanne.locator("#disagree-error")).to_contain_text("Schrijf op waarom.")
        sanne.get_by_label("Niet akkoord? Schrijf op waarom.").fill(REASON)
        shoot(sanne, "sanne-writes-why")
        sanne.get_by_role("button", name="Ik ben niet akkoord").click()
        expect(sanne.locator(".signer-reason")).to_have_text(REASON)
        check_a11y(sanne)
        shoot(sanne, "sanne-not-agreed")

        # Both parents read her reason; the plan is not vastgesteld.
        for parent in (mother, father):
            parent.goto(f"/families/{fid}/plan")
            expect(parent.locator(".plan-status")).to_contain_text("Sanne (niet akkoord)")
            parent.goto(f"/families/{fid}/plan/versions/1")
            expect(parent.locator(".signer-reason")).to_have_text(REASON)
            expect(parent.locator("main")).to_contain_text("Niet iedereen is akkoord.")
        shoot(father, "father-reads-sannes-reason")

        # After talking it over, Sanne signs: now, and only now, it is vastgesteld.
        sanne.goto(f"/families/{fid}/plan/versions/1")
        sanne.get_by_role("button", name="Ik ga akkoord en onderteken").click()
        expect(sanne.locator(".flashes")).to_contain_text("Het plan is vastgesteld")
        shoot(sanne, "sanne-signed-vastgesteld")
        mother.goto(f"/families/{fid}/plan")
        expect(mother.locator(".plan-status")).to_contain_text("Vastgesteld")
        mother.goto(f"/families/{fid}/plan/versions/1")
        expect(mother.locator(".signer-state", has_text="Getekend op")).to_have_count(3)
        expect(mother.locator("main")).to_contain_text("Was eerst niet akkoord")
        check_a11y(mother)
        shoot(mother, "mother-sees-vastgesteld")
    finally:
        for page in (mother, father, sanne):
            page.context.close()


def test_an_edit_replaces_the_proposal_and_the_page_asks_to_propose_again(
    browser: Browser,
    live_server: LiveServer,
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    fid = seed(live_server.app)
    mother = person(browser, live_server, "marieke@example.org")
    father = person(browser, live_server, "mark@example.org")
    try:
        mother.goto(f"/families/{fid}/plan/versions")
        mother.get_by_role("button", name="Dit plan voorstellen om te ondertekenen").click()
        expect(mother.get_by_role("heading", name="Versie 1 van het gezinsplan")).to_be_visible()
        # The father changes the plan before he signs: version 1 cannot be signed any more.
        with live_server.app.app_context():
            goal_id = db.session.scalar(select(Goal.id).where(Goal.family_id == fid))
            db.session.remove()
        father.goto(f"/families/{fid}/plan/goals/{goal_id}/edit")
        father.get_by_label("Doel", exact=True).fill(GOAL + " en avonden")
        father.get_by_role("button", name="Opslaan").click()
        father.goto(f"/families/{fid}/plan")
        expect(father.locator(".plan-status")).to_contain_text("Versie 1 is daarom vervangen")
        shoot(father, "father-plan-page-replaced")
        mother.goto(f"/families/{fid}/plan/versions/1")
        expect(mother.locator("main")).to_contain_text("Vervangen")
        expect(mother.get_by_role("button", name="Ik ga akkoord en onderteken")).to_have_count(0)
        check_a11y(mother)
        shoot(mother, "mother-version-replaced")
        mother.get_by_role("button", name="Het plan opnieuw voorstellen").click()
        expect(mother.get_by_role("heading", name="Versie 2 van het gezinsplan")).to_be_visible()
        expect(mother.locator(".plan-document")).to_contain_text(GOAL + " en avonden")
        shoot(mother, "mother-proposed-version-2")
    finally:
        for page in (mother, father):
            page.context.close()
