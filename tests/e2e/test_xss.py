"""Over 100 XSS payloads in every text field of the family's space (names, plan, goals,
agreements, de bloem, the safety plan, evaluations, dossier, conversation topics, message bodies,
quoted replies, attachment file names, display names, search results, plan history and versions):
in Chromium no dialog opens and no script runs, and in the HTML nothing executable survives."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from portal import db
from portal.auth import passwords
from portal.auth.models import User
from portal.core import clock
from portal.dossier.models import DossierEntry
from portal.family import plan_signoff
from portal.family.models import (
    ROLE_NETWORK,
    ROLE_PARENT,
    Agreement,
    Evaluation,
    Family,
    Goal,
    Member,
    NetworkPetal,
    Plan,
    SafetyPlan,
)
from portal.family.plan_history_models import PlanVersion
from portal.files.models import FileContent, StoredFile
from portal.messaging.models import Conversation, Message, Participant
from tests.security.xss_corpus import corpus

PASSWORD = "een sterk wachtwoord"
# NUL bytes never reach storage (forms drop them, the API refuses them), so seed without them.
PAYLOADS = [payload.replace("\x00", "") for payload in corpus()]
DANGEROUS_TAGS = {"iframe", "object", "embed", "base", "math", "style", "frame", "frameset"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


def seed(app: Flask) -> dict[str, int]:
    now = clock.now()
    with app.app_context():
        parent = User(
            email="ouder@example.org",
            display_name=PAYLOADS[3][:100],
            password_hash=passwords.hash_password(PASSWORD),
            email_verified_at=now,
        )
        other = User(
            email="ander@example.org",
            display_name=PAYLOADS[9][:100],
            password_hash=passwords.hash_password(PASSWORD),
            email_verified_at=now,
        )
        db.session.add_all([parent, other])
        db.session.flush()
        family = Family(name=PAYLOADS[0][:100], created_by_id=parent.id)
        db.session.add(family)
        db.session.flush()
        db.session.add(
            Member(
                family_id=family.id,
                user_id=parent.id,
                role=ROLE_PARENT,
                display_name=PAYLOADS[1][:100],
                has_authority=True,
                joined_at=now,
            )
        )
        db.session.add(
            Member(
                family_id=family.id,
                user_id=other.id,
                role=ROLE_PARENT,
                display_name=PAYLOADS[2][:100],
                has_authority=True,
                joined_at=now,
            )
        )
        db.session.add(
            Plan(
                family_id=family.id,
                tomorrow=PAYLOADS[4],
                must_change=PAYLOADS[5],
                approach=PAYLOADS[6],
                help=PAYLOADS[7],
                who_else=PAYLOADS[8],
                updated_at=now,
                updated_by_name=PAYLOADS[10][:100],
            )
        )
        db.session.add(
            SafetyPlan(
                family_id=family.id,
                signals=PAYLOADS[12],
                actions=PAYLOADS[13],
                contacts=PAYLOADS[14],
                updated_at=now,
                updated_by_name=PAYLOADS[15][:100],
            )
        )
        conversation = Conversation(
            family_id=family.id,
            topic=PAYLOADS[11][:120],
            created_by_id=parent.id,
            last_seq=len(PAYLOADS),
        )
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            [
                Participant(conversation_id=conversation.id, user_id=parent.id),
                Participant(conversation_id=conversation.id, user_id=other.id),
            ]
        )
        for i, payload in enumerate(PAYLOADS):
            db.session.add(
                Member(
                    family_id=family.id,
                    role=ROLE_NETWORK,
                    display_name=payload[:100],
                    relation=payload[:100],
                    household=payload[:100],
                )
            )
            db.session.add(
                Goal(
                    family_id=family.id,
                    title=payload[:200],
                    description=payload,
                    created_by_name=payload[:100],
                )
            )
            db.session.add(
                Agreement(
                    family_id=family.id,
                    what=payload[:300],
                    owner_name=payload[:100],
                    created_by_name="x",
                    due_on=clock.today() - timedelta(days=1),
                )
            )
            db.session.add(
                NetworkPetal(
                    family_id=family.id,
                    name=payload[:100],
                    relation=payload[:100],
                    contact=payload[:200],
                    kind="professional" if i % 2 else "informal",
                    created_by_name=payload[:100],
                )
            )
            db.session.add(
                Evaluation(
                    family_id=family.id,
                    kind="network_meeting" if i % 2 else "evaluation",
                    title=payload[:200],
                    held_on=clock.today() + timedelta(days=i - 3),
                    participants=payload[:1000],
                    went_well=payload,
                    changes=payload,
                    next_steps=payload,
                    created_by_name=payload[:100],
                )
            )
            db.session.add(
                DossierEntry(
                    family_id=family.id,
                    author_id=parent.id,
                    author_name=payload[:100],
                    author_kind="member",
                    title=payload[:200],
                    body=payload,
                )
            )
            message = Message(
                conversation_id=conversation.id,
                family_id=family.id,
                seq=i + 1,
                author_id=other.id,
                author_name=payload[:100],
                client_key=f"xss-{i:05d}",
                body=payload,
                reply_to_seq=i or None,  # each reply quotes the payload before it
            )
            db.session.add(message)
            db.session.flush()
            # The file's name is the payload: shown on the conversation page as a link.
            attachment = StoredFile(
                family_id=family.id,
                uploaded_by_id=other.id,
                uploader_name=payload[:100],
                name=payload[:200],
                content_type="application/pdf",
                size=9,
                sha256="0" * 64,
                conversation_id=conversation.id,
                message_id=message.id,
            )
            db.session.add(attachment)
            db.session.flush()
            db.session.add(FileContent(file_id=attachment.id, data=b"%PDF-1.4\n"))
        db.session.flush()
        # The plan as proposed (all payloads in its snapshot) and dossier attachments named
        # by the payloads; the plan's history fills itself from the changes above.
        db.session.add(
            PlanVersion(
                family_id=family.id,
                number=1,
                snapshot=json.dumps(plan_signoff.snapshot(family)),
                required=json.dumps([{"user_id": parent.id, "name": PAYLOADS[3], "why": "x"}]),
                proposed_by_name=PAYLOADS[12][:100],
            )
        )
        first_entry = db.session.scalar(
            select(DossierEntry).where(DossierEntry.family_id == family.id).limit(1)
        )
        assert first_entry is not None
        for payload in PAYLOADS[:40]:
            stored = StoredFile(
                family_id=family.id,
                uploaded_by_id=parent.id,
                uploader_name="x",
                name=payload[:200],
                content_type="application/pdf",
                size=9,
                sha256="0" * 64,
                dossier_entry_id=first_entry.id,
            )
            db.session.add(stored)
        db.session.commit()
        ids = {
            "family": family.id,
            "conversation": conversation.id,
            "other": other.id,
            "entry": first_entry.id,
            "petal": db.session.scalar(select(func.min(NetworkPetal.id))) or 0,
            "evaluation": db.session.scalar(select(func.min(Evaluation.id))) or 0,
        }
        db.session.remove()
    return ids


class ExecutableFinder(HTMLParser):
    """Collects anything in a page that could run: handlers, script URLs, foreign scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/js/"):
                self.problems.append(f"<script src={src!r}>")
        # The only drawing expected is de bloem (no scores were entered, so no chart).
        if tag == "svg" and dict(attrs).get("class") != "flower":
            self.problems.append("<svg> (no scores were entered, so no chart is expected)")
        if tag == "link" and dict(attrs).get("href", "") != "/static/css/portal.css":
            self.problems.append(f"<link {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"<{tag} {name}={value!r}>")


def test_nothing_a_user_wrote_can_run(
    browser: Browser,
    live_server,  # type: ignore[no-untyped-def]
    shoot: Callable[[Page, str], Path],
) -> None:
    ids = seed(live_server.app)
    fid, cid = ids["family"], ids["conversation"]
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto("/signin")
        page.get_by_label("E-mailadres").fill("ouder@example.org")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        paths = [
            f"/families/{fid}",
            f"/families/{fid}/members",
            f"/families/{fid}/plan",
            f"/families/{fid}/plan/safety/edit",
            f"/families/{fid}/plan/network/{ids['petal']}/edit",
            f"/families/{fid}/plan/network/{ids['petal']}/remove",
            f"/families/{fid}/plan/evaluations/{ids['evaluation']}/edit",
            f"/families/{fid}/dossier",
            f"/families/{fid}/dossier?before=60",
            f"/families/{fid}/messages",
            f"/families/{fid}/messages/{cid}",
            f"/families/{fid}/messages/{cid}?reply=5",
            f"/families/{fid}/messages/{cid}/people",
            f"/families/{fid}/messages/{cid}/people/{ids['other']}/remove",
            f"/families/{fid}/messages/search?q=alert",
            f"/families/{fid}/dossier/{ids['entry']}",
            f"/families/{fid}/dossier?q=alert",
            f"/families/{fid}/plan/history",
            f"/families/{fid}/plan/versions",
            f"/families/{fid}/plan/versions/1",
            f"/families/{fid}/audit",
            "/families",
        ]
        checked = 0
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            page.wait_for_timeout(150)  # give onload/onerror handlers their chance
            finder = ExecutableFinder()
            finder.feed(page.content())
            assert not finder.problems, f"{path}: {finder.problems[:5]}"
            # The payloads are on the page, as text.
            assert page.get_by_text("alert(1)").count() > 0 or path == "/families", path
            checked += 1
            shoot(page, path.strip("/").replace("/", "_").replace("?", "_"))
        assert checked == len(paths)
        assert dialogs == [], f"a payload ran: {dialogs[:3]}"
        # Hovering, focusing and clicking what people wrote runs nothing either.
        page.goto(f"/families/{fid}/dossier")
        for link in page.locator(".entry-body a").all()[:20]:
            href = link.get_attribute("href") or ""
            assert href.startswith(("http://", "https://", "mailto:")), href
        page.locator(".entry-body").first.hover()
        assert dialogs == []
    finally:
        context.close()
