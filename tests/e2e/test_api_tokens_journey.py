"""In the browser: a parent makes an API token under Beveiliging, copies it from the page (shown
once), a script uses it, and the parent revokes it after a confirmation; the script is out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from portal import db
from tests.e2e.people import family_with_coach, sign_in


def test_a_parent_makes_uses_and_revokes_a_token(
    page: Page,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    with live_server.app.app_context():
        family, _parent, _coach = family_with_coach({"plan": "read"})
        family_id = family.id
        db.session.commit()
    sign_in(page, "marieke@example.org")
    page.get_by_role("link", name="Beveiliging").click()
    page.get_by_role("link", name="API-tokens beheren").click()
    expect(page.get_by_text("Je hebt nog geen tokens.")).to_be_visible()
    page.get_by_label("Waar gebruik je het token voor?").fill("Mijn agenda-script")
    page.get_by_label("Hoe lang werkt het token?").select_option(label="30 dagen")
    page.get_by_role("button", name="Token maken").click()
    expect(page.get_by_text("Kopieer het token nu. Je ziet het hierna nooit meer.")).to_be_visible()
    secret = page.locator("#new-token").input_value()
    assert secret.startswith("gpt_")
    check_a11y(page)
    shoot(page, "token-made")

    def call() -> requests.Response:
        return requests.get(
            f"{live_server.url}/api/v1/families/{family_id}",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=10,
        )

    answer = call()
    assert answer.status_code == 200 and answer.json()["name"] == "Gezin Jansen"

    page.goto("/account/api-tokens")
    assert secret not in page.content(), "the token is shown once"
    page.get_by_role("link", name="Intrekken Mijn agenda-script").click()
    expect(
        page.get_by_role("heading", name="Het token „Mijn agenda-script” intrekken?")
    ).to_be_visible()
    shoot(page, "token-revoke-confirm")
    page.get_by_role("button", name="Ja, intrekken").click()
    expect(page.get_by_text("Het token „Mijn agenda-script” is ingetrokken.")).to_be_visible()
    expect(page.get_by_text("Ingetrokken op")).to_be_visible()
    check_a11y(page)
    shoot(page, "token-revoked")
    refused = call()
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
