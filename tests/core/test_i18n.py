"""Dutch first, English second: the English catalogue covers every string, and pages rendered in
either language show no text from the other."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member
from tests.helpers import post_form, sign_in, years_ago

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "portal/translations/en/LC_MESSAGES/messages.po"


def extracted_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {_id(m.id) for m in read_po(f) if m.id}


def _id(msgid: object) -> str:
    return msgid[0] if isinstance(msgid, tuple) else str(msgid)


def catalog() -> dict[str, object]:
    with PO_FILE.open("rb") as f:
        return {_id(m.id): m for m in read_po(f) if m.id}


def test_english_catalogue_translates_every_string(tmp_path: Path) -> None:
    source = extracted_ids(tmp_path)
    english = catalog()
    missing = sorted(source - set(english))
    assert not missing, f"strings not in the English catalogue (run make messages): {missing}"
    untranslated = sorted(
        mid
        for mid, m in english.items()
        if mid in source
        and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)  # type: ignore[attr-defined]
    )
    assert not untranslated, f"untranslated or fuzzy: {untranslated}"


def dutch_sentences() -> list[str]:
    """Source strings long enough to be unmistakable, without placeholders."""
    return [mid for mid in catalog() if len(mid) >= 14 and "%(" not in mid and "%s" not in mid]


def english_sentences() -> list[str]:
    out = []
    for m in catalog().values():
        text = m.string[0] if isinstance(m.string, tuple) else m.string  # type: ignore[attr-defined]
        if text and len(text) >= 14 and "%(" not in text and text != _id(m.id):  # type: ignore[attr-defined]
            out.append(text)
    return out


PAGES = [
    "/",
    "/signin",
    "/signup",
    "/signup/professional",
    "/signup/check-your-mail",
    "/reset",
    "/verify/resend",
    "/verify/not-a-token",
    "/does-not-exist",
]
FAMILY_PAGES = [
    "/families",
    "/families/new",
    "/account/two-factor",
    "/families/{fid}",
    "/families/{fid}/members",
    "/families/{fid}/members/new",
    "/families/{fid}/edit",
    "/families/{fid}/members/{mid}/edit",
    "/families/{fid}/members/{mid}/remove",
    "/families/{fid}/audit",
    "/families/{fid}/plan",
    "/families/{fid}/plan/safety/edit",
]


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<input type="hidden"[^>]*>', " ", html)
    return html


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_pages_show_no_text_of_the_other_language(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    locale: str,
) -> None:
    foreign = dutch_sentences() if locale == "en" else english_sentences()
    assert len(foreign) > 50
    post_form(client, "/locale", {"locale": locale}, form_path="/")
    pages = list(PAGES)
    for path in pages:
        page = visible_text(client.get(path).get_data(as_text=True))
        assert f'<html lang="{locale}">' in page
        leaks = [s for s in foreign if s in page]
        assert not leaks, f"{path} in {locale} shows: {leaks}"
    user = make_user(locale=locale)
    family = make_family(user)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(7), name="Kind")
    sign_in(client, user)
    client.get(f"/families/{family.id}")  # something for the log to show
    for template in FAMILY_PAGES:
        path = template.format(fid=family.id, mid=child.id)
        response = client.get(path)
        assert response.status_code == 200, path
        page = visible_text(response.get_data(as_text=True))
        leaks = [s for s in foreign if s in page]
        assert not leaks, f"{path} in {locale} shows: {leaks}"


def test_accept_language_decides_for_anonymous_visitors(client: FlaskClient) -> None:
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    dutch = client.get("/", headers={"Accept-Language": "de-DE"})
    assert '<html lang="nl">' in dutch.get_data(as_text=True)


def test_choice_is_kept_on_the_account(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    sign_in(client, user)
    post_form(client, "/locale", {"locale": "en"}, form_path="/families")
    other_device = app.test_client()
    sign_in(other_device, user)
    assert '<html lang="en">' in other_device.get("/families").get_data(as_text=True)


def test_templates_follow_a_forced_language_within_one_request(app: Flask) -> None:
    """Template texts are looked up once per language and request; a mail in the recipient's
    language (force_locale) inside a Dutch page still comes out in English, and back."""
    from flask import render_template_string
    from flask_babel import force_locale

    text = "{{ _('Gezinsplan') }}"
    with app.test_request_context("/", headers={"Accept-Language": "nl"}):
        assert render_template_string(text) == "Gezinsplan"
        with force_locale("en"):
            assert render_template_string(text) == "Family plan"
        assert render_template_string(text) == "Gezinsplan"
