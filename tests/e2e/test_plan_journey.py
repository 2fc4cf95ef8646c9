"""A parent draws the family's flower in a real browser: adds a petal through the page, reaches a
petal with the keyboard and opens it, fills in the safety plan and an evaluation, and downloads
the agenda. axe-core finds no serious WCAG problems on the way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth import passwords
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import (
    ROLE_NETWORK,
    ROLE_PARENT,
    ROLE_YOUNG_PERSON,
    Evaluation,
    Family,
    Member,
    NetworkPetal,
)
from tests.helpers import years_ago

PASSWORD = "een sterk wachtwoord"
PETALS = [
    ("Oma Els", "oma", "06-12345678", "informal"),
    ("Opa Jan", "opa", "06-87654321", "informal"),
    ("Buurvrouw Ria", "buurvrouw", "Huisnummer 12", "informal"),
    ("Juf Anja", "juf van Daan", "via school", "professional"),
    ("Huisarts Kok", "huisarts", "030-1234567", "professional"),
    ("Voetbalclub", "trainer Mo", "mo@vv.example", "informal"),
]


def seed(app: Flask) -> int:
    now = clock.now()
    with app.app_context():
        parent = User(
            email="marieke@example.org",
            display_name="Marieke Jansen",
            password_hash=passwords.hash_password(PASSWORD),
            email_verified_at=now,
        )
        coach = User(
            email="linda@cjg.example",
            display_name="Coach Linda",
            kind=KIND_PROFESSIONAL,
            organisation="CJG Utrecht",
            email_verified_at=now,
        )
        db.session.add_all([parent, coach])
        db.session.flush()
        family = Family(name="Gezin Jansen", created_by_id=parent.id)
        db.session.add(family)
        db.session.flush()
        db.session.add_all(
            [
                Member(
                    family_id=family.id,
                    user_id=parent.id,
                    role=ROLE_PARENT,
                    display_name="Mama",
                    has_authority=True,
                    joined_at=now,
                ),
                Member(
                    family_id=family.id,
                    role=ROLE_YOUNG_PERSON,
                    display_name="Daan",
                    birth_date=years_ago(9),
                ),
                Member(family_id=family.id, role=ROLE_NETWORK, display_name="Oma Els"),
            ]
        )
        db.session.add_all(
            NetworkPetal(
                family_id=family.id,
                name=name,
                relation=relation,
                contact=contact,
                kind=kind,
                created_by_name="Mama",
            )
            for name, relation, contact, kind in PETALS
        )
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=coach.id,
                origin="invitation",
                purpose="Opvoedondersteuning",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=60),
                accepted_at=now,
                approved_at=now,
                parts=[GrantPart(part="plan", level="write")],
            )
        )
        db.session.add(
            Evaluation(
                family_id=family.id,
                kind="network_meeting",
                title="Netwerkoverleg met school",
                held_on=clock.today() + timedelta(days=21),
                start_time="15:00",
                participants="Mama, Daan, oma Els, juf Anja, coach Linda",
                created_by_name="Mama",
            )
        )
        db.session.commit()
        family_id = family.id
        db.session.remove()
    return family_id


def test_a_parent_draws_the_flower(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    fid = seed(live_server.app)
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    try:
        page.goto("/signin")
        page.get_by_label("E-mailadres").fill("marieke@example.org")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.goto(f"/families/{fid}/plan")
        expect(page).to_have_title("Gezinsplan · Gezinsportaal")
        # A second screen on the plan page hears about the change (plan.changed over /live).
        other_screen = context.new_page()
        other_screen.goto(f"/families/{fid}/plan")
        notice = other_screen.locator("#plan-live")
        expect(notice).to_be_hidden()
        other_screen.wait_for_timeout(500)  # let its socket connect and subscribe
        page.get_by_text("Iemand toevoegen aan de bloem").click()
        form = page.locator("form[action$='/plan/network']")
        form.get_by_label("Naam").fill("Wijkteam Noord")
        form.get_by_label("Wie is dit voor jullie?").fill("wijkteam")
        form.get_by_label("Soort").select_option("professional")
        form.get_by_role("button", name="Toevoegen aan de bloem").click()
        expect(page.get_by_text("Wijkteam Noord staat nu in de bloem.")).to_be_visible()
        # Nobody is typing there, so the change is brought in without a reload or a notice.
        expect(other_screen.locator("svg.flower")).to_contain_text("Wijkteam Noord")
        expect(notice).to_be_hidden()
        other_screen.close()
        flower = page.locator("svg.flower")
        expect(
            flower.get_by_role("link", name="Wijkteam Noord, wijkteam (hulpverlener)")
        ).to_have_count(1)
        expect(flower.get_by_role("img", name="Coach Linda, CJG Utrecht (gast)")).to_have_count(1)
        # The family had their coach in mind as a petal of their own: chosen as the guest she
        # is, she shows once, on that petal, with the last day of her access.
        page.get_by_text("Iemand toevoegen aan de bloem").click()
        form = page.locator("form[action$='/plan/network']")
        form.get_by_label("Naam").fill("Linda")
        form.get_by_label("Wie is dit voor jullie?").fill("onze coach")
        form.get_by_label("Soort").select_option("professional")
        form.get_by_label("Is dit een gast van jullie gezin? (optioneel)").select_option(
            label="Coach Linda (CJG Utrecht)"
        )
        form.get_by_role("button", name="Toevoegen aan de bloem").click()
        expect(page.get_by_text("Linda staat nu in de bloem.")).to_be_visible()
        flower = page.locator("svg.flower")
        expect(flower.get_by_role("img", name="Coach Linda, CJG Utrecht (gast)")).to_have_count(0)
        expect(
            flower.get_by_role("link", name="Linda, onze coach (hulpverlener, gast) — wijzigen")
        ).to_have_count(1)
        check_a11y(page)
        flower.scroll_into_view_if_needed()
        whole = shoot(page, "plan-de-bloem")
        page.locator("#network-section").screenshot(path=str(whole.with_name("de-bloem.png")))
        # Every add form open at once: axe sees their fields, and each label names its own
        # (the goal and moment forms both have a title, goal and agreement forms an owner).
        for summary in page.locator("details.card > summary").all():
            summary.click()
        expect(page.locator("details.card[open] form")).to_have_count(4)
        form = page.locator("form[action$='/plan/evaluations']")
        form.get_by_label("Titel").fill("Terugkijken")
        expect(
            page.locator("form[action$='/plan/goals']").get_by_label("Doel", exact=True)
        ).to_have_value("")
        check_a11y(page)
        shoot(page, "plan-add-forms-open")
        # Keyboard: a petal takes focus and Enter opens it.
        petal = flower.get_by_role("link", name="Oma Els, oma (eigen netwerk) — wijzigen")
        petal.focus()
        expect(petal).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Iemand in de bloem wijzigen")).to_be_visible()
        expect(page.get_by_label("Naam")).to_have_value("Oma Els")
        check_a11y(page)

        page.goto(f"/families/{fid}/plan/safety/edit")
        page.get_by_label("Waaraan merken we dat het niet goed gaat?").fill("Daan slaapt slecht.")
        page.get_by_label("Wie bellen we?").fill("Oma Els: 06-12345678")
        check_a11y(page)
        page.get_by_role("button", name="Opslaan").click()
        expect(page.get_by_text("Het veiligheidsplan is opgeslagen.")).to_be_visible()
        expect(page.get_by_text("Daan slaapt slecht.")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("link", name="Zet in je agenda (.ics-bestand)").click()
        saved = Path(download.value.path())
        assert saved.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
        shoot(page, "plan-veiligheid-agenda")

        # A goal scored twice: the chart with its scale; an agreement ticked off.
        page.goto(f"/families/{fid}/plan")
        page.locator("summary", has_text="Doel toevoegen").click()
        goals = page.locator("form[action$='/plan/goals']")
        goals.get_by_label("Doel", exact=True).fill("Rustiger ochtenden")
        goals.get_by_role("button", name="Doel toevoegen").click()
        expect(page.get_by_text("Het doel is toegevoegd.")).to_be_visible()
        for score in ("4", "7"):
            page.get_by_label("Score (0 tot en met 10)").fill(score)
            page.get_by_role("button", name="Score opslaan").click()
            expect(page.get_by_text("De score is opgeslagen.")).to_be_visible()
        chart = page.locator("figure.chart")
        expect(chart).to_contain_text("het doel is bereikt")
        page.locator("summary", has_text="Afspraak toevoegen").click()
        agreements = page.locator("form[action$='/plan/agreements']")
        agreements.get_by_label("Wat spreken we af?").fill("Wekker om 7 uur")
        agreements.get_by_label("Wie doet het?").select_option(index=1)
        agreements.get_by_role("button", name="Afspraak toevoegen").click()
        expect(page.get_by_text("De afspraak is toegevoegd.")).to_be_visible()
        page.get_by_role("button", name="Afvinken als klaar").click()
        expect(page.get_by_test_id("agreement-state")).to_have_text("Ja, klaar")
        check_a11y(page)
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(whole.with_name("goal-chart.png")))
        page.locator("table.agreements").screenshot(path=str(whole.with_name("agreements.png")))
    finally:
        context.close()
