"""Read receipts come only from the reader's own page, shown while visible and focused: the
father's page in a background tab (and then closed) reads nothing, so the mother never sees
"Gelezen door Mark" for messages he did not see; once he does look, she sees it at once and his
other open pages drop the unread count."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e.people import sign_in
from tests.e2e.two_homes import FATHER, MOTHER, read_position, seed

SHOTS = Path("/tmp/shots-input")


def keep(path: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def background_page(context: BrowserContext, front: Page) -> Page:
    """A tab that is open but not the one in front: the browser says it has no focus.

    Playwright pretends every page has focus, again on every page load; switched off here each
    time before the conversation's script (live.js) can run, the page gets the browser's real
    answer."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)

    def without_focus_emulation(route: Route) -> None:
        cdp.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
        route.continue_()

    page.route("**/static/js/live.js", without_focus_emulation)
    front.bring_to_front()
    return page


def send(page: Page, text: str) -> None:
    page.get_by_label("Bericht").fill(text)
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#messages .message-body").last).to_have_text(text)
    expect(page.locator("#messages .pending")).to_have_count(0)


def test_a_background_tab_reads_nothing(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    homes = seed(live_server.app)
    mother_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    father_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    try:
        mother = mother_ctx.new_page()
        sign_in(mother, MOTHER)
        mother.goto(homes.conversation_url)
        expect(mother.locator("#connection")).to_have_text("")
        send(mother, "Kun jij Lotte vrijdag ophalen?")
        send(mother, "Ze is om half vier uit.")

        # The father: his family's overview in front, the conversation in a tab behind it.
        overview = father_ctx.new_page()
        sign_in(overview, FATHER)
        overview.goto(f"/families/{homes.family_id}")
        behind = background_page(father_ctx, overview)
        behind.goto(homes.conversation_url)
        expect(overview.get_by_test_id("unread-total")).to_contain_text("2")
        assert behind.evaluate("document.hasFocus()") is False
        expect(behind.locator("#messages .message-body")).to_have_count(2)
        # A third message arrives live on the tab behind: shown there, not read.
        send(mother, "Laat maar weten.")
        expect(behind.locator("#messages .message-body")).to_have_count(3)
        behind.wait_for_timeout(1500)  # time for a (wrong) read to arrive, if one were sent
        behind.close()

        assert read_position(live_server.app, homes, homes.father_id) == 0
        expect(mother.locator("#receipts")).to_have_text("")
        mother.reload()
        expect(mother.locator("#messages .message-body")).to_have_count(3)
        expect(mother.locator("#receipts")).not_to_contain_text("Mark")
        keep(shoot(mother, "no-receipt-for-a-background-tab"), "receipts-mother-nothing-read.png")
        expect(overview.get_by_test_id("unread-total")).to_contain_text("3")

        # He opens the conversation and looks: now it is read, and everyone sees so at once.
        looking = father_ctx.new_page()
        looking.goto(homes.conversation_url)
        expect(mother.locator("#receipts")).to_have_text("Gelezen door Mark de Vries")
        assert read_position(live_server.app, homes, homes.father_id) == 3
        expect(overview.get_by_test_id("unread-total")).to_be_hidden()  # his other page, live
        keep(shoot(mother, "read-by-the-father"), "receipts-mother-read-by-mark.png")
        keep(shoot(overview, "father-overview-badge-gone"), "receipts-father-overview.png")
        looking.close()

        # A new message he has not seen: the receipt goes, it does not stay behind.
        send(mother, "Nog één ding: haar gymtas.")
        expect(mother.locator("#receipts")).to_have_text("")
        assert read_position(live_server.app, homes, homes.father_id) == 3
    finally:
        mother_ctx.close()
        father_ctx.close()
