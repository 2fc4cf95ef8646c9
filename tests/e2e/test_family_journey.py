"""The first journey of a parent, in a real browser: sign up -> verify mail -> enrol TOTP ->
create the family -> add a child and the second parent -> sign out -> sign in with TOTP ->
'Wie keek mee?'. Every page passes axe-core without serious or critical violations."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from portal.core import clock
from tests.support.servers import SmtpServer, find_link

PASSWORD = "een sterk wachtwoord"


def test_parent_journey(
    page: Page,
    live_server,  # type: ignore[no-untyped-def]
    smtp_server: SmtpServer,
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("regie")
    check_a11y(page)
    shoot(page, "welcome")

    page.get_by_role("link", name="Maak een account voor je gezin").click()
    page.get_by_label("Je naam").fill("Marieke Jansen")
    page.get_by_label("E-mailadres").fill("marieke@example.org")
    page.get_by_label("Wachtwoord", exact=True).fill("kort")
    page.get_by_label("Wachtwoord nog een keer").fill("kort")
    page.get_by_role("button", name="Account maken").click()
    # Bad input: a clear message, and what was typed is still there.
    expect(page.get_by_text("Kies een wachtwoord van minstens 10 tekens.")).to_be_visible()
    expect(page.get_by_label("E-mailadres")).to_have_value("marieke@example.org")
    check_a11y(page)
    shoot(page, "signup-error")
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_label("Wachtwoord nog een keer").fill(PASSWORD)
    page.get_by_role("button", name="Account maken").click()
    expect(page.get_by_role("heading", name="Kijk in je e-mail")).to_be_visible()
    check_a11y(page)
    shoot(page, "check-mail")

    mail = smtp_server.wait_for(lambda m: m["To"] == "marieke@example.org")
    page.goto(find_link(mail, live_server.url + "/verify/"))
    expect(page.get_by_text("Je e-mailadres is bevestigd")).to_be_visible()
    check_a11y(page)
    shoot(page, "verified")

    page.get_by_label("E-mailadres").fill("marieke@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Mijn gezin")).to_be_visible()
    check_a11y(page)
    shoot(page, "empty-family-list")

    page.get_by_role("link", name="Beveiliging").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    check_a11y(page)
    shoot(page, "totp-enrol")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Aanzetten").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    check_a11y(page)
    shoot(page, "recovery-codes")

    page.get_by_role("link", name="Mijn gezin").click()
    page.get_by_role("link", name="Gezinsruimte maken").click()
    page.get_by_label("Naam van het gezin").fill("Gezin Jansen")
    page.get_by_label("Hoe heet jij in dit gezin?").fill("Mama")
    page.get_by_label("Jouw huishouden (optioneel)").fill("Huis van mama")
    check_a11y(page)
    shoot(page, "create-family")
    page.get_by_role("button", name="Maken").click()
    expect(page.get_by_text("Jullie gezinsruimte is klaar")).to_be_visible()

    page.get_by_role("link", name="Kind toevoegen").click()
    page.get_by_label("Naam", exact=True).fill("Sanne")
    page.get_by_label("Geboortedatum").fill((clock.today() - timedelta(days=365 * 9)).isoformat())
    check_a11y(page)
    shoot(page, "add-child")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Sanne is toegevoegd.")).to_be_visible()

    page.get_by_role("link", name="Ouder toevoegen", exact=True).click()
    page.get_by_label("Naam", exact=True).fill("Papa Ahmed")
    page.get_by_label("Ouder met gezag").check()
    page.get_by_label("Huishouden (optioneel)").fill("Huis van papa")
    page.get_by_label("E-mailadres (optioneel)").fill("ahmed@example.org")
    page.get_by_label("Stuur een uitnodiging om zelf in te loggen").check()
    page.get_by_role("button", name="Opslaan").click()
    expect(
        page.get_by_text("We hebben een uitnodiging gestuurd naar ahmed@example.org.")
    ).to_be_visible()
    expect(page.get_by_text("woont in: Huis van papa")).to_be_visible()
    check_a11y(page)
    shoot(page, "members")
    smtp_server.wait_for(lambda m: m["To"] == "ahmed@example.org")

    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_text("Je bent uitgelogd.")).to_be_visible()
    shoot(page, "signed-out")

    page.get_by_role("link", name="Inloggen").first.click()
    page.get_by_label("E-mailadres").fill("marieke@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Code invullen")).to_be_visible()
    check_a11y(page)
    shoot(page, "totp-code")
    clock.advance(timedelta(seconds=30))  # the enrolment code's time step is used up
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", name="Mijn gezin")).to_be_visible()

    page.get_by_role("link", name="Gezin Jansen").click()
    page.get_by_role("link", name="Wie keek mee?").first.click()
    expect(page.get_by_role("heading", name="Wie keek mee?")).to_be_visible()
    rows = page.locator("table.log tbody tr")
    expect(rows.first).to_contain_text("bekeek wie er meekeek")
    expect(page.locator("table.log")).to_contain_text("voegde iemand toe")
    expect(page.locator("table.log")).to_contain_text("maakte de gezinsruimte aan")
    assert rows.count() >= 5
    assert re.search(r"Marieke Jansen|Mama", rows.first.inner_text())
    check_a11y(page)
    shoot(page, "wie-keek-mee")
