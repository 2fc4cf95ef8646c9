"""A message longer than a message may be: the page refuses it before sending, says the limit
and the count in words, keeps the text in the box, and nothing is stored or shown as sent. The
server refuses it too when a client sends it anyway. The page counts characters exactly as the
server does."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from portal.core.textlength import count
from tests.e2e.people import sign_in
from tests.e2e.two_homes import MOTHER, seed, stored_messages

SHOTS = Path("/tmp/shots-input")

TRICKY = [
    "",
    "gewoon",
    "regel 1\r\nregel 2\r\nregel 3",
    "oude mac\rregel",
    "\n\n\r\n\r\r\n",
    "emoji 👨‍👩‍👧‍👦 en 🇳🇱",
    "e\u0301e\u0301n combinerend teken",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 buiten het basisvlak",
    "\ufeffzero\u200bwidth\u00a0",
    "tab\tna\tab " * 3,
]


def keep(path: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def test_the_page_counts_as_the_server_counts(page: Page) -> None:
    page.goto("/signin")
    counted = page.evaluate("(texts) => texts.map((t) => window.portalText.count(t))", TRICKY)
    assert counted == [count(t) for t in TRICKY]
    # The tricky ones really are tricky: raw lengths differ from the count.
    assert count("regel 1\r\nregel 2") == 15 and len("regel 1\r\nregel 2") == 16
    assert count("👨‍👩‍👧‍👦") == 7


def test_a_message_over_the_limit_is_refused_before_it_is_sent(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    homes = seed(live_server.app)
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    page = context.new_page()
    try:
        sign_in(page, MOTHER)
        page.goto(homes.conversation_url)
        expect(page.locator("#connection")).to_have_text("")
        box = page.get_by_label("Bericht")
        expect(page.locator("#body-limit")).to_have_text("Hoogstens 10.000 tekens.")

        # Near the limit a counter says how much room is left.
        box.fill("a" * 9_500)
        expect(page.locator("#body-limit")).to_have_text(
            "Hoogstens 10.000 tekens. Je kunt er nog 500 typen."
        )
        long_text = ("Dit is een lange brief over de omgang. " * 400)[:12_000]
        box.fill(long_text)
        expect(page.locator("#body-limit")).to_have_text(
            "Hoogstens 10.000 tekens. Nu zijn het er 12.000."
        )
        page.get_by_role("button", name="Versturen").click()
        refusal = page.locator("#body-error")
        expect(refusal).to_have_text(
            "Een bericht kan hoogstens 10.000 tekens hebben; dit zijn er 12.000."
        )
        expect(box).to_have_value(long_text)
        expect(page.locator("#messages .message")).to_have_count(0)  # not sent, not waiting
        assert page.evaluate("localStorage.length") == 0
        keep(shoot(page, "refused-before-sending"), "message-12000-refused.png")

        # A client that sends it anyway: the server refuses with the limit in words.
        ack = page.evaluate(
            """(args) => new Promise((done) => window.portalLive.emit("message.send",
                {conversation_id: args.cid, client_key: "te-lang-0001", body: args.body}, done))""",
            {"cid": homes.conversation_id, "body": "b" * 20_000},
        )
        assert ack == {
            "ok": False,
            "error": {
                "code": "too_long",
                "message": "Een bericht kan hoogstens 10.000 tekens hebben; dit zijn er 20.000.",
            },
        }
        page.wait_for_timeout(300)
        assert stored_messages(live_server.app, homes) == 0
        expect(page.locator("#messages .message")).to_have_count(0)

        # Five megabytes pasted: the same, no frame the socket cannot carry is sent.
        box.fill("m" * 5_000_000)
        page.get_by_role("button", name="Versturen").click()
        expect(refusal).to_have_text(
            "Een bericht kan hoogstens 10.000 tekens hebben; dit zijn er 5.000.000."
        )
        assert len(box.input_value()) == 5_000_000
        expect(page.locator("#messages .message")).to_have_count(0)

        # Within the limit it goes, line breaks counted once: 9,999 characters with 500 breaks.
        box.fill(("x" * 19 + "\n") * 499 + "y" * 19)
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#messages .message-body")).to_have_count(1)
        expect(page.locator("#messages .pending")).to_have_count(0)
        assert stored_messages(live_server.app, homes) == 1
    finally:
        context.close()


def test_a_refused_message_comes_back_into_the_box(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
) -> None:
    """A message the server refuses after all (here: one left waiting in the outbox from an
    earlier page) is never left as a grey "waiting" bubble: it disappears and its text is put
    back in the box with the reason."""
    homes = seed(live_server.app)
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    page = context.new_page()
    try:
        sign_in(page, MOTHER)
        page.goto(f"/families/{homes.family_id}")  # not the conversation: nothing sends yet
        too_long = "c" * 10_001
        page.evaluate(
            """(args) => localStorage.setItem("portal-outbox-" + args.cid, JSON.stringify([
                {client_key: "wachtend-0001", body: args.body, author_id: 0}]))""",
            {"cid": homes.conversation_id, "body": too_long},
        )
        page.goto(homes.conversation_url)
        expect(page.locator("#body-error")).to_have_text(
            "Een bericht kan hoogstens 10.000 tekens hebben; dit zijn er 10.001.", timeout=15_000
        )
        expect(page.get_by_label("Bericht")).to_have_value(too_long)
        expect(page.locator("#messages .message")).to_have_count(0)
        assert stored_messages(live_server.app, homes) == 0
    finally:
        context.close()
