"""Two households in a real browser: the mother made the space, the father has authority too.
Neither can remove the other; the father keeps his address from the mother; the mother removes
grandma after a confirmation that names what happens (and everyone concerned gets a mail); the
father leaves himself after a clear warning. Every page passes axe-core."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal import db
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.family.models import (
    ROLE_NETWORK,
    ROLE_PARENT,
    ROLE_YOUNG_PERSON,
    Family,
    Member,
    ParentalAuthority,
)
from tests.e2e.people import PASSWORD, sign_in
from tests.helpers import years_ago
from tests.support.servers import SmtpServer

SHOTS = Path("/tmp/shots-members")


def seed(app: Flask) -> dict[str, int]:
    now = clock.now()
    with app.app_context():
        users = {}
        for key, name in (
            ("mama", "Marieke"),
            ("papa", "Mark"),
            ("lotte", "Lotte"),
            ("oma", "Oma Els"),
        ):
            users[key] = User(
                email=f"{key}@example.org",
                display_name=name,
                password_hash=passwords.hash_password(PASSWORD),
                email_verified_at=now,
            )
        db.session.add_all(users.values())
        db.session.flush()
        family = Family(name="Gezin De Vries", created_by_id=users["mama"].id)
        db.session.add(family)
        db.session.flush()

        def member(key: str | None, role: str, name: str, **extra: object) -> Member:
            row = Member(
                family_id=family.id,
                user_id=users[key].id if key else None,
                role=role,
                display_name=name,
                joined_at=now if key else None,
                **extra,
            )
            db.session.add(row)
            db.session.flush()
            return row

        mama = member("mama", ROLE_PARENT, "Marieke", has_authority=True, household="Huis van mama")
        papa = member("papa", ROLE_PARENT, "Mark", has_authority=True, household="Huis van papa")
        lotte = member("lotte", ROLE_YOUNG_PERSON, "Lotte", birth_date=years_ago(14))
        daan = member(None, ROLE_YOUNG_PERSON, "Daan", birth_date=years_ago(9))
        oma = member("oma", ROLE_NETWORK, "Oma Els", relation="oma")
        for parent in (mama, papa):
            for child in (lotte, daan):
                db.session.add(
                    ParentalAuthority(
                        family_id=family.id,
                        parent_id=parent.id,
                        child_id=child.id,
                        confirmed_at=now,
                    )
                )
        db.session.commit()
        ids = {"family": family.id, "mama": mama.id, "papa": papa.id, "oma": oma.id}
        db.session.remove()
    return ids


def test_two_households_remove_and_leave(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    smtp_server: SmtpServer,
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    ids = seed(live_server.app)
    fid = ids["family"]
    SHOTS.mkdir(parents=True, exist_ok=True)

    def keep(page: Page, step: str) -> None:
        shutil.copy(shoot(page, step), SHOTS / f"{step}.png")

    papa_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    mama_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    papa, mama = papa_ctx.new_page(), mama_ctx.new_page()
    try:
        sign_in(papa, "papa@example.org")
        papa.goto(f"/families/{fid}/members")
        mother = papa.locator(f'[data-member="{ids["mama"]}"]')
        expect(mother).to_contain_text("ouder met gezag")
        expect(mother).to_contain_text("gezag over: Daan, Lotte")
        expect(mother.get_by_role("link", name="Verwijderen")).to_have_count(0)
        expect(mother.get_by_role("link", name="Wijzigen")).to_have_count(0)
        check_a11y(papa)
        keep(papa, "father-members")

        papa.get_by_role("link", name="Mijn gegevens en privacy").click()
        papa.get_by_label("Adres (optioneel)").fill("Kerkstraat 12, Utrecht")
        papa.get_by_label("Telefoonnummer (optioneel)").fill("06 1234 5678")
        papa.get_by_label(
            "Houd mijn adres en telefoonnummer verborgen voor de andere ouder"
        ).check()
        check_a11y(papa)
        keep(papa, "father-own-details")
        papa.get_by_role("button", name="Opslaan").click()
        expect(papa.get_by_text("Je gegevens zijn opgeslagen.")).to_be_visible()
        expect(papa.get_by_text("adres: Kerkstraat 12, Utrecht")).to_be_visible()

        sign_in(mama, "mama@example.org")
        mama.goto(f"/families/{fid}/members")
        father = mama.locator(f'[data-member="{ids["papa"]}"]')
        expect(father).to_contain_text("woont in: Huis van papa")
        expect(father).not_to_contain_text("Kerkstraat")
        expect(father.get_by_role("link", name="Verwijderen")).to_have_count(0)
        check_a11y(mama)
        keep(mama, "mother-members")

        mama.get_by_role("link", name="Ouder toevoegen", exact=True).click()
        expect(mama.get_by_label("Daan")).to_be_checked()
        expect(mama.get_by_text("Wie heeft gezag over dit kind?")).to_have_count(0)
        check_a11y(mama)
        keep(mama, "mother-add-parent")
        mama.goto(f"/families/{fid}/members")
        mama.locator(f'[data-member="{ids["oma"]}"]').get_by_role(
            "link", name="Verwijderen"
        ).click()
        expect(mama.get_by_role("heading", name="Oma Els verwijderen?")).to_be_visible()
        expect(mama.get_by_text("Oma Els krijgt hierover een mail.")).to_be_visible()
        expect(
            mama.get_by_text("Ook deze ouders met gezag krijgen een mail: Marieke, Mark.")
        ).to_be_visible()
        check_a11y(mama)
        keep(mama, "mother-remove-grandma")
        mama.get_by_role("button", name="Ja, verwijderen").click()
        expect(mama.get_by_text("Oma Els doet niet meer mee.")).to_be_visible()
        expect(mama.locator(f'[data-member="{ids["oma"]}"]')).to_have_count(0)
        for to in ("oma@example.org", "mama@example.org", "papa@example.org"):
            smtp_server.wait_for(lambda m, to=to: m["To"] == to)

        papa.goto(f"/families/{fid}/members")
        papa.get_by_role("link", name="Stoppen in deze gezinsruimte").click()
        expect(
            papa.get_by_role("heading", name="Wil je stoppen in Gezin De Vries?")
        ).to_be_visible()
        expect(papa.get_by_text("Je gezag zelf blijft bestaan.", exact=False)).to_be_visible()
        check_a11y(papa)
        keep(papa, "father-leave-warning")
        papa.get_by_role("button", name="Ja, ik stop").click()
        expect(papa.get_by_text("Je doet niet meer mee in Gezin De Vries.")).to_be_visible()
        keep(papa, "father-after-leaving")
        mail = smtp_server.wait_for(
            lambda m: m["To"] == "mama@example.org" and "Mark" in str(m["Subject"])
        )
        assert "Mark is gestopt" in mail.get_content()
    finally:
        papa_ctx.close()
        mama_ctx.close()
