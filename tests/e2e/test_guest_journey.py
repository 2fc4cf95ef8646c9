"""Two people, two browsers: a parent invites a coach, the coach accepts from the mail, sees the
plan but not the dossier, the parent revokes, and the plan leaves the coach's screen by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal import db
from portal.auth import passwords
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_PARENT, Family, Member
from tests.e2e.people import sign_in
from tests.support.servers import SmtpServer, find_link

PASSWORD = "een sterk wachtwoord"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def seed(app: Flask) -> int:
    with app.app_context():
        parent = User(
            email="marieke@example.org",
            display_name="Marieke Jansen",
            password_hash=passwords.hash_password(PASSWORD),
            email_verified_at=clock.now(),
        )
        coach = User(
            email="coach@cjg.example",
            display_name="Coach Linda",
            kind=KIND_PROFESSIONAL,
            profession="cjg_coach",
            organisation="CJG Utrecht",
            password_hash=passwords.hash_password(PASSWORD),
            email_verified_at=clock.now(),
            totp_secret=SECRET,
            totp_enabled_at=clock.now(),
        )
        db.session.add_all([parent, coach])
        db.session.flush()
        family = Family(name="Gezin Jansen", created_by_id=parent.id)
        db.session.add(family)
        db.session.flush()
        db.session.add(
            Member(
                family_id=family.id,
                user_id=parent.id,
                role=ROLE_PARENT,
                display_name="Mama",
                has_authority=True,
                joined_at=clock.now(),
            )
        )
        db.session.commit()
        family_id = family.id
        db.session.remove()
    return family_id


def test_parent_invites_coach_then_revokes(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    smtp_server: SmtpServer,
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    family_id = seed(live_server.app)
    parent_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    coach_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    parent, coach = parent_ctx.new_page(), coach_ctx.new_page()
    try:
        sign_in(parent, "marieke@example.org")
        parent.goto(f"/families/{family_id}/plan")
        parent.get_by_role("link", name="Antwoorden aanpassen").click()
        parent.get_by_label("Wat wilt u morgen veranderen?").fill("Rustiger ochtenden")
        parent.get_by_role("button", name="Opslaan").click()
        parent.goto(f"/families/{family_id}/dossier/new")
        parent.get_by_label("Titel").fill("Brief van school")
        parent.get_by_label("Tekst").fill("Vertrouwelijk: alleen voor ons.")
        parent.get_by_role("button", name="Toevoegen", exact=True).click()

        parent.get_by_role("link", name="Toegang").click()
        check_a11y(parent)
        parent.get_by_role("link", name="Professional uitnodigen").click()
        parent.get_by_label("E-mailadres van de professional").fill("coach@cjg.example")
        parent.get_by_label("Waarvoor? (in gewone woorden)").fill("Hulp bij de ochtenden")
        parent.get_by_label("Gezinsplan").select_option("read")
        check_a11y(parent)
        shoot(parent, "parent-invites")
        parent.get_by_role("button", name="Uitnodiging sturen").click()
        expect(parent.get_by_text("We hebben een uitnodiging gestuurd")).to_be_visible()
        shoot(parent, "parent-access-list")

        mail = smtp_server.wait_for(lambda m: m["To"] == "coach@cjg.example")
        link = find_link(mail, live_server.url + "/guest-invite/")
        coach.goto(link)
        expect(coach).to_have_url(live_server.url + "/guest-invite")  # token gone from the URL
        coach.locator("#main").get_by_role("link", name="Inloggen").click()
        coach.get_by_label("E-mailadres").fill("coach@cjg.example")
        coach.get_by_label("Wachtwoord").fill(PASSWORD)
        coach.get_by_role("button", name="Inloggen").click()
        clock.advance(timedelta(seconds=30))
        coach.get_by_label("Code").fill(pyotp.TOTP(SECRET).at(clock.now()))
        coach.get_by_role("button", name="Verder").click()
        expect(coach.get_by_text("Hulp bij de ochtenden")).to_be_visible()
        check_a11y(coach)
        shoot(coach, "coach-invitation")
        coach.get_by_role("button", name="Uitnodiging aannemen").click()
        expect(coach.get_by_text("Je bent hier te gast")).to_be_visible()
        check_a11y(coach)
        shoot(coach, "coach-guest-overview")

        coach.get_by_role("link", name="Gezinsplan").first.click()
        expect(coach.get_by_text("Rustiger ochtenden")).to_be_visible()
        check_a11y(coach)
        shoot(coach, "coach-sees-plan")
        response = coach.goto(f"/families/{family_id}/dossier")
        assert response is not None and response.status == 403
        expect(coach.get_by_text("niet met je gedeeld")).to_be_visible()
        expect(coach.get_by_text("Brief van school")).to_have_count(0)
        shoot(coach, "coach-no-dossier")
        coach.goto(f"/families/{family_id}/plan")  # the coach keeps the plan open

        parent.goto(f"/families/{family_id}/access")
        parent.get_by_role("link", name="Coach Linda").click()
        parent.get_by_role("link", name="Toegang intrekken").click()
        check_a11y(parent)
        shoot(parent, "parent-confirms-revoke")
        parent.get_by_role("button", name="Ja, intrekken").click()
        expect(parent.get_by_text("De toegang is ingetrokken")).to_be_visible()

        # The coach's open plan page clears itself, without a click: the server ends the
        # socket with access.revoked and the page reloads into the refusal.
        expect(coach.get_by_text("Toegang ingetrokken")).to_be_visible()
        expect(coach.get_by_text("Rustiger ochtenden")).to_have_count(0)
        expect(coach.get_by_text("Gezin Jansen")).to_have_count(0)
        check_a11y(coach)
        shoot(coach, "coach-access-revoked")
        # Any other page of the family is refused the same way.
        coach.goto(f"/families/{family_id}")
        expect(coach.get_by_text("Toegang ingetrokken")).to_be_visible()
        expect(coach.get_by_text("Gezin Jansen")).to_have_count(0)
        coach.goto("/professional")
        expect(coach.get_by_text("Toegang beëindigd")).to_be_visible()
        expect(coach.get_by_text("Gezin Jansen")).to_have_count(0)
        shoot(coach, "coach-dashboard-after")
    finally:
        parent_ctx.close()
        coach_ctx.close()
