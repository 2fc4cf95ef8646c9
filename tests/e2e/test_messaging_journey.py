"""Parent and coach talk live in two browsers: messages, typing, read receipts; the coach goes
offline while the parent writes 20 messages, comes back, and sees all 20 once, in order."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from portal import db
from portal.messaging.models import Conversation, Participant
from tests.e2e.people import family_with_coach, sign_in
from tests.files import samples


def seed(app: Flask) -> tuple[int, int]:
    with app.app_context():
        family, parent, coach = family_with_coach({"messages": "write"})
        conversation = Conversation(family_id=family.id, topic="Ochtenden", created_by_id=parent.id)
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            [
                Participant(conversation_id=conversation.id, user_id=parent.id),
                Participant(conversation_id=conversation.id, user_id=coach.id),
            ]
        )
        db.session.commit()
        ids = (family.id, conversation.id)
        db.session.remove()
    return ids


def photo() -> bytes:
    """A holiday photo: sky above, sand below (1600 x 1200)."""
    image = Image.new("RGB", (1600, 1200), (90, 160, 230))
    ImageDraw.Draw(image).rectangle((0, 700, 1600, 1200), fill=(230, 200, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_live_conversation_with_an_offline_stretch(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    family_id, conversation_id = seed(live_server.app)
    parent_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    coach_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    parent, coach = parent_ctx.new_page(), coach_ctx.new_page()
    url = f"/families/{family_id}/messages/{conversation_id}"
    try:
        sign_in(parent, "marieke@example.org")
        sign_in(coach, "coach@cjg.example", totp=True)
        parent.goto(f"/families/{family_id}/messages")
        check_a11y(parent)
        parent.goto(url)
        coach.goto(url)
        coach_messages = coach.locator("#messages .message-body")
        parent_messages = parent.locator("#messages .message-body")
        # Both pages connected before anyone types.
        expect(parent.locator("#connection")).to_have_text("")
        parent.wait_for_timeout(500)

        parent.get_by_label("Bericht").fill("Goedemorgen! Hoe")
        expect(coach.locator("#typing")).to_contain_text("Marieke typt")
        parent.get_by_label("Bericht").fill("Goedemorgen! Hoe pakken we de ochtenden aan?")
        parent.get_by_role("button", name="Versturen").click()
        expect(coach_messages).to_have_text(["Goedemorgen! Hoe pakken we de ochtenden aan?"])
        # A message that arrived live says when it was sent, as one drawn with the page does
        # (dd-mm-jjjj, uu:mm).
        expect(coach.locator("#messages .message-meta time")).to_have_text(
            [re.compile(r"^\d{2}-\d{2}-\d{4}, \d{2}:\d{2}$")]
        )
        expect(parent.locator("#receipts")).to_contain_text("Gelezen door Coach Linda")
        check_a11y(coach)
        shoot(coach, "coach-receives")

        coach.get_by_label("Bericht").fill("Zullen we beginnen met een vast ritme?")
        coach.get_by_role("button", name="Versturen").click()
        expect(parent_messages).to_have_count(2)
        shoot(parent, "parent-sees-answer")

        coach_ctx.set_offline(True)
        for i in range(1, 21):
            parent.get_by_label("Bericht").fill(f"Bericht {i}")
            parent.get_by_role("button", name="Versturen").click()
        expect(parent_messages).to_have_count(22)
        # The page sends its queue one message at a time (order matters): allow it time.
        expect(parent.locator("#messages .message.pending")).to_have_count(0, timeout=30_000)
        shoot(coach, "coach-offline")
        coach_ctx.set_offline(False)
        expected = [f"Bericht {i}" for i in range(1, 21)]
        expect(coach_messages).to_have_count(22, timeout=20_000)
        texts = coach_messages.all_inner_texts()
        assert texts[2:] == expected, texts
        assert (
            len(
                set(
                    coach.locator("#messages [data-seq]").evaluate_all(
                        "nodes => nodes.map(n => n.dataset.seq)"
                    )
                )
            )
            == 22
        )
        shoot(coach, "coach-back-online")

        # After a reload everything is still there, once, in order.
        coach.reload()
        assert coach_messages.all_inner_texts()[2:] == expected

        # The list: the newest message, who, when; the guest reads why it cannot start one.
        coach.goto(f"/families/{family_id}/messages")
        expect(coach.get_by_test_id("preview")).to_contain_text(expected[-1])
        expect(coach.get_by_test_id("why-no-start")).to_be_visible()
        check_a11y(coach)
        shoot(coach, "coach-conversation-list")
    finally:
        parent_ctx.close()
        coach_ctx.close()


def test_reply_attachment_and_search_in_the_browser(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], None],
) -> None:
    family_id, conversation_id = seed(live_server.app)
    parent_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    coach_ctx = browser.new_context(base_url=live_server.url, locale="nl-NL")
    parent, coach = parent_ctx.new_page(), coach_ctx.new_page()
    url = f"/families/{family_id}/messages/{conversation_id}"
    try:
        sign_in(parent, "marieke@example.org")
        sign_in(coach, "coach@cjg.example", totp=True)
        parent.goto(url)
        coach.goto(url)
        expect(parent.locator("#connection")).to_have_text("")
        parent.wait_for_timeout(500)
        parent.get_by_label("Bericht").fill("Hoe laat begint school?")
        parent.get_by_role("button", name="Versturen").click()
        expect(coach.locator("#messages .message-body")).to_have_text(["Hoe laat begint school?"])

        # The coach answers that message: the quote shows live on the parent's screen.
        coach.get_by_role("link", name="Reageren op bericht 1").click()
        expect(coach.locator("#replying")).to_contain_text("Hoe laat begint school?")
        coach.get_by_label("Bericht").fill("Om half negen.")
        coach.get_by_role("button", name="Versturen").click()
        quote = parent.locator("#m2 blockquote.quote")
        expect(quote).to_contain_text("Marieke: Hoe laat begint school?")
        expect(coach.locator("#replying")).to_be_hidden()
        shoot(parent, "reply-quoted")

        # A refused file: the reason is shown and the text stays.
        parent.get_by_label("Bericht").fill("Het rooster")
        parent.locator("#attachments").set_input_files(
            [{"name": "rooster.pdf", "mimeType": "application/pdf", "buffer": b"<html>x</html>"}]
        )
        parent.get_by_role("button", name="Versturen").click()
        expect(parent.locator("#upload-problems")).to_contain_text("rooster.pdf: Dit soort")
        expect(parent.get_by_label("Bericht")).to_have_value("Het rooster")
        check_a11y(parent)
        shoot(parent, "upload-refused")
        parent.locator("#attachments").set_input_files(
            [{"name": "rooster.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()}]
        )
        parent.get_by_role("button", name="Versturen").click()
        link = coach.get_by_role("link", name="rooster.pdf")
        expect(link).to_be_visible()
        with coach.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "rooster.pdf"
        shoot(coach, "attachment-arrived")

        # A photo arrives live as a picture (the portal's redrawn preview), still downloadable.
        parent.locator("#attachments").set_input_files(
            [{"name": "schoolreis.jpg", "mimeType": "image/jpeg", "buffer": photo()}]
        )
        parent.get_by_role("button", name="Versturen").click()
        picture = coach.get_by_role("img", name="Foto: schoolreis.jpg")
        expect(picture).to_be_visible()
        coach.wait_for_function(
            "() => { const i = document.querySelector('img.photo'); "
            "return i && i.complete && i.naturalWidth > 0; }"
        )
        assert picture.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [640, 480]
        expect(coach.get_by_role("link", name="schoolreis.jpg")).to_be_visible()
        check_a11y(coach)
        shoot(coach, "photo-arrived")

        parent.goto(f"/families/{family_id}/messages/search?q=half")
        expect(parent.locator(".search-results .message-body")).to_have_text(["Om half negen."])
        check_a11y(parent)
        shoot(parent, "search")
        parent.goto(f"{url}/people")
        check_a11y(parent)
        shoot(parent, "people")
        # A new topic: the coach's open conversation shows it at once, as text.
        parent.get_by_label("Nieuw onderwerp").fill("Schoolreis <b>juni</b>")
        parent.get_by_role("button", name="Onderwerp opslaan").click()
        expect(parent.get_by_text('Het onderwerp is nu "Schoolreis <b>juni</b>".')).to_be_visible()
        expect(coach.locator("#conversation-topic")).to_have_text("Schoolreis <b>juni</b>")
        assert coach.title().startswith("Schoolreis <b>juni</b> · ")
        # The coach leaves the conversation herself, after a question.
        coach.goto(f"{url}/people")
        check_a11y(coach)
        coach.get_by_role("link", name="Gesprek verlaten").click()
        expect(coach.get_by_role("heading", name="Wil je dit gesprek verlaten?")).to_be_visible()
        coach.get_by_role("button", name="Ja, verlaten").click()
        expect(coach.get_by_text("Je doet niet meer mee in")).to_be_visible()
        shoot(coach, "left-the-conversation")
        parent.reload()
        expect(parent.locator(".people-list")).not_to_contain_text("Coach Linda")
    finally:
        parent_ctx.close()
        coach_ctx.close()
