"""Nothing typed is lost: every text field says its limit; text over it is refused by the page
before sending, or (without JavaScript) answered by the same form with the whole text, the field
marked and both numbers; a body larger than the portal reads is refused before it is sent, and
if it is sent anyway the answer says the limit and leads back to the form."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from portal import db
from portal.dossier.models import DossierEntry
from tests.e2e.people import sign_in
from tests.e2e.two_homes import MOTHER, seed

SHOTS = Path("/tmp/shots-input")


def keep(path: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def entries(app: Flask) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(DossierEntry))
        db.session.remove()
    return int(n or 0)


def posts(page: Page) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


def test_the_page_refuses_text_over_a_fields_limit(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    homes = seed(live_server.app)
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    try:
        page = context.new_page()
        sign_in(page, MOTHER)
        page.goto(f"/families/{homes.family_id}/dossier/new")
        expect(page.locator("#title-limit")).to_have_text("Hoogstens 200 tekens.")
        expect(page.locator("#body-limit")).to_have_text("Hoogstens 20.000 tekens.")
        page.get_by_label("Titel").fill("Verslag schoolgesprek")
        text = "Het gesprek op school ging over Lotte.\n" * 640  # 24,960 characters
        page.get_by_label("Tekst").fill(text)
        sent = posts(page)
        page.get_by_role("button", name="Toevoegen", exact=True).click()
        expect(page.locator("#body-error")).to_have_text(
            "Hier passen hoogstens 20.000 tekens; je hebt er 24.960."
        )
        expect(page.get_by_label("Tekst")).to_have_value(text)
        assert sent == [] and entries(live_server.app) == 0
        keep(shoot(page, "dossier-refused-in-the-page"), "form-dossier-refused-in-page.png")

        # The plan's questions: the same, with the counter near the limit.
        page.goto(f"/families/{homes.family_id}/plan/edit")
        box = page.get_by_label("Wat wilt u morgen veranderen?")
        box.fill("x" * 4_800)
        expect(page.locator("#tomorrow-limit")).to_have_text(
            "Hoogstens 5.000 tekens. Je kunt er nog 200 typen."
        )
        box.fill("x" * 5_001)
        page.get_by_role("button", name="Opslaan").click()
        expect(page.locator("#tomorrow-error")).to_have_text(
            "Hier passen hoogstens 5.000 tekens; je hebt er 5.001."
        )
        assert sent == []
    finally:
        context.close()


def test_without_javascript_the_form_comes_back_whole(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    homes = seed(live_server.app)
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, MOTHER)
        page.goto(f"/families/{homes.family_id}/dossier/new")
        page.get_by_label("Titel").fill("Verslag schoolgesprek")
        # Lines as a browser posts them (CR LF): counted once each, as on the page.
        text = "Het gesprek op school ging over Lotte.\n" * 640
        page.get_by_label("Tekst").fill(text)
        page.get_by_role("button", name="Toevoegen", exact=True).click()
        expect(page.locator("#body-error")).to_have_text(
            "Hier passen hoogstens 20.000 tekens; je hebt er 24.960."
        )
        expect(page.get_by_label("Tekst")).to_have_attribute("aria-invalid", "true")
        value = page.get_by_label("Tekst").input_value()
        assert value.replace("\r\n", "\n") == text  # the whole text, not cut
        expect(page.get_by_label("Titel")).to_have_value("Verslag schoolgesprek")
        assert entries(live_server.app) == 0
        keep(shoot(page, "dossier-redrawn-whole"), "form-dossier-redrawn-whole.png")
    finally:
        context.close()


def test_a_body_over_the_request_limit(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    homes = seed(live_server.app)
    limit = live_server.app.config["MAX_CONTENT_LENGTH"]
    assert limit == 2 * 1024 * 1024
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    try:
        page = context.new_page()
        sign_in(page, MOTHER)
        # With the page's script: five files of 9 MB and a sixth are more than the message
        # form can carry (51 MB): refused before one byte is sent, the text kept.
        page.goto(homes.conversation_url)
        page.get_by_label("Bericht").fill("De verslagen van school.")
        files = []
        for i in range(6):
            path = tmp_path / f"verslag-{i}.pdf"
            path.write_bytes(b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024))
            files.append(path)
        page.set_input_files("#attachments", files)
        sent = posts(page)
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator(".error-summary.too-large")).to_contain_text(
            "Dit is te veel om in één keer te versturen: hoogstens 51 MB."
        )
        expect(page.get_by_label("Bericht")).to_have_value("De verslagen van school.")
        assert sent == []
        keep(shoot(page, "too-large-refused-in-page"), "form-too-large-in-page.png")

        # Sent anyway (no script): not a bare error page, but the limit and the way back.
        plain = browser.new_context(
            base_url=live_server.url, locale="nl-NL", java_script_enabled=False
        )
        try:
            bare = plain.new_page()
            sign_in(bare, MOTHER)
            bare.goto(f"/families/{homes.family_id}/plan/edit")
            response = bare.request.post(
                f"/families/{homes.family_id}/plan/edit",
                form={"tomorrow": "x" * (3 * 1024 * 1024)},
                headers={"Referer": bare.url},
            )
            assert response.status == 413
            bare.set_content(response.text())
            expect(bare.get_by_role("heading", level=1)).to_have_text("Wat je stuurde is te groot")
            expect(bare.locator("main")).to_contain_text(
                "Je kunt hoogstens 2 MB in één keer versturen."
            )
            expect(bare.get_by_role("link", name="Terug naar het formulier")).to_have_attribute(
                "href", f"{live_server.url}/families/{homes.family_id}/plan/edit"
            )
            keep(shoot(bare, "too-large-answer"), "form-too-large-answer.png")
        finally:
            plain.close()
    finally:
        context.close()
