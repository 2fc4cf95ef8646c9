"""The live layer works wherever the page is opened: the base URL says 127.0.0.1, the mother
opens the portal on localhost, and messages still arrive live both ways. When the live
connection is refused, the page says so instead of silently standing still."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.people import sign_in
from tests.e2e.two_homes import FATHER, MOTHER, seed

SHOTS = Path("/tmp/shots-input")


def keep(path: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def wait_connected(page: Page) -> None:
    for _ in range(100):
        if page.evaluate("() => Boolean(window.portalLive && window.portalLive.connected)"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the live connection did not open")


def test_live_updates_on_localhost_while_the_base_url_says_127_0_0_1(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    homes = seed(live_server.app)
    assert live_server.url.startswith("http://127.0.0.1:")
    assert live_server.app.config["PORTAL_SETTINGS"].base_url == live_server.url
    on_localhost = live_server.url.replace("127.0.0.1", "localhost")
    mother_ctx = browser.new_context(base_url=on_localhost, locale="nl-NL")
    father_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    try:
        mother, father = mother_ctx.new_page(), father_ctx.new_page()
        sign_in(mother, MOTHER)
        sign_in(father, FATHER)
        mother.goto(homes.conversation_url)
        father.goto(homes.conversation_url)
        assert mother.url.startswith("http://localhost:")
        expect(mother.locator("#live-refused")).to_be_hidden()
        wait_connected(mother)
        wait_connected(father)

        mother.get_by_label("Bericht").fill("Hoi Mark, vanaf localhost.")
        mother.get_by_role("button", name="Versturen").click()
        expect(father.locator("#messages .message-body")).to_have_text(
            ["Hoi Mark, vanaf localhost."]
        )
        father.get_by_label("Bericht").fill("Komt aan, live.")
        father.get_by_role("button", name="Versturen").click()
        expect(mother.locator("#messages .message-body")).to_have_text(
            ["Hoi Mark, vanaf localhost.", "Komt aan, live."]
        )
        expect(mother.locator("#live-refused")).to_be_hidden()
        keep(shoot(mother, "live-on-localhost"), "live-on-localhost.png")
    finally:
        mother_ctx.close()
        father_ctx.close()


def test_a_refused_live_connection_is_said(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    homes = seed(live_server.app)
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    try:
        page = context.new_page()
        sign_in(page, MOTHER)
        page.goto(f"/families/{homes.family_id}/plan")
        wait_connected(page)
        expect(page.locator("#live-refused")).to_be_hidden()
        # Signed out behind the page's back (the cookie gone): connecting again is refused.
        context.clear_cookies()
        page.evaluate("window.portalLive.disconnect().connect()")
        expect(page.locator("#live-refused")).to_have_text(
            "Live bijwerken lukt niet; herlaad de pagina."
        )
        keep(shoot(page, "live-refused"), "live-refused.png")
    finally:
        context.close()
