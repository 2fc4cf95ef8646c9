"""A parent writes a dossier entry with an attachment, changes it and reads the history as a
diff; a young person of 16+ keeps an entry from the parents. In Chromium, with axe checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal import db
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from tests.e2e.people import PASSWORD, sign_in
from tests.e2e.test_messaging_journey import photo
from tests.files import samples
from tests.helpers import years_ago


def seed(app: Flask) -> int:
    now = clock.now()
    with app.app_context():
        people = {}
        for email, name in (("marieke@example.org", "Marieke"), ("sanne@example.org", "Sanne")):
            people[email] = User(
                email=email,
                display_name=name,
                password_hash=passwords.hash_password(PASSWORD),
                email_verified_at=now,
            )
        db.session.add_all(people.values())
        db.session.flush()
        family = Family(name="Gezin Jansen", created_by_id=people["marieke@example.org"].id)
        db.session.add(family)
        db.session.flush()
        db.session.add_all(
            [
                Member(
                    family_id=family.id,
                    user_id=people["marieke@example.org"].id,
                    role=ROLE_PARENT,
                    display_name="Marieke",
                    has_authority=True,
                    joined_at=now,
                ),
                Member(
                    family_id=family.id,
                    user_id=people["sanne@example.org"].id,
                    role=ROLE_YOUNG_PERSON,
                    display_name="Sanne",
                    birth_date=years_ago(16, days=30),
                    joined_at=now,
                ),
            ]
        )
        db.session.commit()
        family_id = family.id
        db.session.remove()
    return family_id


def test_dossier_entry_attachment_history_and_privacy(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    fid = seed(live_server.app)
    parent_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    teen_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    parent, teen = parent_ctx.new_page(), teen_ctx.new_page()
    try:
        sign_in(teen, "sanne@example.org")
        teen.goto(f"/families/{fid}/dossier/new")
        teen.get_by_label("Titel").fill("Mijn dagboek")
        teen.get_by_label("Tekst").fill("Dit is alleen voor mij en de coach.")
        teen.get_by_label("Wie mag dit lezen?").select_option("no_parents")
        teen.get_by_role("button", name="Toevoegen", exact=True).click()
        expect(teen.get_by_role("link", name="Mijn dagboek")).to_be_visible()

        sign_in(parent, "marieke@example.org")
        parent.goto(f"/families/{fid}/dossier/new")
        check_a11y(parent)
        parent.get_by_label("Titel").fill("Gesprek met school")
        parent.get_by_label("Tekst").fill("We spraken de mentor.\n- huiswerk op maandag")
        parent.locator("#attachments").set_input_files(
            [
                {"name": "verslag.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()},
                {"name": "tekening.jpg", "mimeType": "image/jpeg", "buffer": photo()},
            ]
        )
        parent.get_by_role("button", name="Toevoegen", exact=True).click()
        expect(parent.get_by_role("link", name="Gesprek met school")).to_be_visible()
        expect(parent.get_by_role("link", name="Mijn dagboek")).to_have_count(0)
        expect(parent.get_by_role("link", name="verslag.pdf")).to_be_visible()
        # The photo shows as a picture in the list (the portal's preview), the PDF as a link.
        drawing = parent.get_by_role("img", name="Foto: tekening.jpg")
        expect(drawing).to_be_visible()
        parent.wait_for_function(
            "() => { const i = document.querySelector('img.photo'); "
            "return i && i.complete && i.naturalWidth > 0; }"
        )
        expect(parent.get_by_role("link", name="tekening.jpg")).to_be_visible()
        shoot(parent, "dossier-list")

        parent.get_by_role("link", name="Gesprek met school").click()
        parent.get_by_role("link", name="Wijzigen").click()
        parent.get_by_label("Tekst").fill(
            "We spraken de mentor.\n- huiswerk op maandag en woensdag"
        )
        parent.get_by_role("button", name="Opslaan").click()
        expect(parent.locator(".diff .added")).to_contain_text("huiswerk op maandag en woensdag")
        expect(parent.locator(".diff .removed")).to_contain_text("huiswerk op maandag")
        check_a11y(parent)
        shoot(parent, "dossier-history")

        parent.goto(f"/families/{fid}/dossier?q=mentor")
        expect(parent.locator(".dossier-entry h2")).to_have_text(["Gesprek met school"])
        teen.goto(f"/families/{fid}/dossier")
        expect(teen.locator(".dossier-entry h2")).to_have_count(2)
        shoot(teen, "dossier-teen")
    finally:
        parent_ctx.close()
        teen_ctx.close()
