"""Attachments on messages: uploaded for one conversation, private until sent, as visible as the
conversation afterwards, always downloaded (never rendered), refused with a clear reason."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import db
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.family.models import ROLE_PARENT, Family, Member
from portal.files.models import StoredFile
from portal.messaging.models import Message
from tests.api.client import Api, is_problem
from tests.files import samples
from tests.helpers import csrf_from
from tests.messaging.test_messaging import api_for, start


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    mother, father, carer = make_user(name="Mama"), make_user(name="Papa"), make_user(name="Stief")
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    add_member(family, carer, ROLE_PARENT)
    stranger = make_user(name="Ander")
    make_family(stranger, name="Ander gezin")
    mama, papa = api_for(app, mother), api_for(app, father)
    conversation = start(mama, family, "School", [father])
    return {
        "family": family,
        "cid": conversation["id"],
        "mama": mama,
        "papa": papa,
        "stief": api_for(app, carer),
        "stranger": api_for(app, stranger),
    }


def upload(api: Api, fid: int, cid: int, name: str, data: bytes) -> Any:
    return api.call(
        "POST",
        f"/families/{fid}/files",
        data={"conversation_id": str(cid), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_attachment_is_sent_once_and_downloaded_with_safe_headers(
    app: Flask, world: dict[str, Any]
) -> None:
    fid, cid, mama, papa = world["family"].id, world["cid"], world["mama"], world["papa"]
    uploaded = upload(mama, fid, cid, "rooster.pdf", samples.pdf())
    assert uploaded.status_code == 201, uploaded.get_json()
    file_id = uploaded.get_json()["id"]
    assert uploaded.get_json()["content_type"] == "application/pdf"
    # Not sent yet: private to the uploader.
    assert papa.get(f"/families/{fid}/files/{file_id}").status_code == 404
    assert mama.get(f"/families/{fid}/files/{file_id}").status_code == 200

    sent = mama.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": "att-key-0001", "body": "", "attachments": [file_id]},
    )
    assert sent.status_code == 201, sent.get_json()
    assert [a["name"] for a in sent.get_json()["attachments"]] == ["rooster.pdf"]
    again = mama.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": "att-key-0001", "body": "", "attachments": [file_id]},
    )
    assert again.status_code == 200 and again.get_json()["attachments"][0]["id"] == file_id
    # The same upload cannot ride along on a second message.
    twice = mama.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": "att-key-0002", "body": "nog eens", "attachments": [file_id]},
    )
    assert is_problem(twice, 422) and "opnieuw" in twice.get_json()["detail"]

    listed = papa.get(f"/families/{fid}/conversations/{cid}/messages?after=0").get_json()
    assert listed["items"][0]["attachments"][0]["id"] == file_id
    download = papa.get(f"/families/{fid}/files/{file_id}")
    assert download.status_code == 200
    assert download.get_data() == samples.pdf()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    page = papa.client.get(f"/families/{fid}/files/{file_id}")
    assert page.status_code == 200 and page.headers["Content-Disposition"].startswith("attachment")

    # Others: a member outside the conversation and another family's parent get a 404.
    assert world["stief"].get(f"/families/{fid}/files/{file_id}").status_code == 404
    assert world["stranger"].get(f"/families/{fid}/files/{file_id}").status_code == 404
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "file", AuditEvent.object_id == str(file_id)
            )
        ).all()
        outcomes = sorted(r.outcome for r in rows)
        db.session.remove()
    assert outcomes.count("denied") == 2 and "allowed" in outcomes


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("brief.pdf", samples.HTML, "Dit soort bestand kan niet"),
        ("tekening.png", samples.SVG, "Dit soort bestand kan niet"),
        ("foto.jpg", samples.pdf(), "Het is een .pdf-bestand"),
        ("groot.pdf", samples.pdf() + b"0" * (10 * 1024 * 1024), "te groot"),
    ],
)
def test_refused_uploads_say_why_and_store_nothing(
    app: Flask, world: dict[str, Any], name: str, data: bytes, says: str
) -> None:
    response = upload(world["mama"], world["family"].id, world["cid"], name, data)
    assert is_problem(response, 422)
    assert says in response.get_json()["errors"][0]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
        db.session.remove()


def test_upload_needs_a_conversation_you_are_in(world: dict[str, Any]) -> None:
    fid, cid = world["family"].id, world["cid"]
    assert upload(world["stief"], fid, cid, "rooster.pdf", samples.pdf()).status_code == 404
    assert upload(world["stranger"], fid, cid, "rooster.pdf", samples.pdf()).status_code == 404
    missing = world["mama"].call(
        "POST",
        f"/families/{fid}/files",
        data={"file": (io.BytesIO(samples.pdf()), "rooster.pdf")},
        content_type="multipart/form-data",
    )
    assert is_problem(missing, 422)


def test_page_form_keeps_the_text_when_a_file_is_refused(app: Flask, world: dict[str, Any]) -> None:
    fid, cid = world["family"].id, world["cid"]
    client = world["mama"].client
    url = f"/families/{fid}/messages/{cid}"
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="client_key" type="hidden" value="([^"]+)"', page)
    assert key
    form = {"csrf_token": csrf_from(page), "client_key": key.group(1), "body": "Zie bijlage"}
    refused = client.post(
        url,
        data={**form, "attachments": [(io.BytesIO(samples.HTML), "rooster.pdf")]},
        content_type="multipart/form-data",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "rooster.pdf: Dit soort bestand kan niet" in html
    assert re.search(r">\s*Zie bijlage</textarea>", html)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
        db.session.remove()

    sent = client.post(
        url,
        data={
            **form,
            "attachments": [
                (io.BytesIO(samples.png()), "foto.png"),
                (io.BytesIO(samples.pdf()), "r.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    shown = world["papa"].client.get(url).get_data(as_text=True)
    assert "Zie bijlage" in shown and ">foto.png</a>" in shown and ">r.pdf</a>" in shown


def test_uploads_never_sent_are_removed_after_a_day_and_the_log_says_so(
    app: Flask, world: dict[str, Any]
) -> None:
    from datetime import timedelta

    from portal.core import clock

    fid, cid, mama, papa = world["family"].id, world["cid"], world["mama"], world["papa"]
    sent_id = upload(mama, fid, cid, "rooster.pdf", samples.pdf()).get_json()["id"]
    mama.post(
        f"/families/{fid}/conversations/{cid}/messages",
        {"client_key": "purge-key-001", "body": "", "attachments": [sent_id]},
    )
    forgotten = upload(mama, fid, cid, "vergeten.pdf", samples.pdf()).get_json()["id"]
    runner = app.test_cli_runner()
    # Too young to go: a tab may still be about to send it.
    clock.advance(timedelta(hours=23))
    try:
        assert "removed: 0." in runner.invoke(args=["portal", "purge-uploads"]).output
        with app.app_context():
            assert db.session.get(StoredFile, forgotten) is not None
        clock.advance(timedelta(hours=2))
        result = runner.invoke(args=["portal", "purge-uploads"])
    finally:
        clock.reset()  # (the API sessions below would have expired in the meantime)
    assert result.exit_code == 0 and "removed: 1." in result.output
    assert mama.get(f"/families/{fid}/files/{forgotten}").status_code == 404
    # What was sent stays, for everyone in the conversation.
    assert papa.get(f"/families/{fid}/files/{sent_id}").status_code == 200
    with app.app_context():
        assert db.session.get(StoredFile, forgotten) is None
        row = db.session.scalars(
            select(AuditEvent).where(AuditEvent.family_id == fid, AuditEvent.action == "file.purge")
        ).one()
        assert (row.actor_role, row.object_id, row.reason) == ("system", "1", "never_attached")
    log = mama.get(f"/families/{fid}/audit").get_json()["items"]
    assert any(e["text"]["action"] == "ruimde bestanden op die nooit zijn verstuurd" for e in log)
    bad = runner.invoke(args=["portal", "purge-uploads", "--older-than-hours", "0"])
    assert bad.exit_code != 0 and "0" in bad.output
