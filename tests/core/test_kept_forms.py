"""Untouched add forms are drawn once and kept (portal/core/kept_forms.py), also when the plan
section around them is drawn again: never with another session's CSRF token, never with stale
choices, never with what someone typed, each language in its own words."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.core import caching
from portal.family.models import Family, Member
from tests.helpers import post_form, sign_in

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_html(page: str, action: str) -> str:
    match = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert match, f"no form posting to {action}"
    return match.group(0)


def kept_texts(app: Flask) -> list[str]:
    """Everything the app's fragment cache holds (SimpleCache's own store)."""
    with app.app_context():
        store = caching.cache.cache._cache  # type: ignore[attr-defined]
        return [value.decode() for _expires, value in store.values()]


def test_kept_forms_in_a_section_drawn_again_carry_the_readers_own_token(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    plan = f"/families/{family.id}/plan"
    sign_in(client, mother)
    client.get(plan)
    added = post_form(client, f"{plan}/goals", {"title": "Samen eten", "owner": "family"})
    assert added.status_code == 302  # the sections are drawn again…
    other = app.test_client()
    sign_in(other, father)
    hits, draws = caching.hits["form"], caching.draws["form"]
    page = other.get(plan).get_data(as_text=True)
    assert caching.hits["form"] - hits == 3  # …the petal, goal and moment forms from before
    assert caching.draws["form"] - draws == 1  # the agreement form: a new goal to link to
    assert ">Samen eten</option>" in form_html(page, f"{plan}/agreements")
    fathers = set(TOKEN.findall(page))
    assert len(fathers) == 1 and "csrf-slot" not in page
    section_hits = caching.hits["plan.goals"]
    mothers = set(TOKEN.findall(client.get(plan).get_data(as_text=True)))
    assert len(mothers) == 1 and mothers != fathers
    assert caching.hits["plan.goals"] == section_hits + 1  # the section with its form was kept
    assert all(token not in text for text in kept_texts(app) for token in fathers | mothers)


def test_new_choices_are_drawn_at_once(
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    plan = f"/families/{family.id}/plan"
    agreements, petals = f"{plan}/agreements", f"{plan}/network"
    sign_in(client, mother)
    before = client.get(plan).get_data(as_text=True)
    assert "Sanne" not in form_html(before, agreements)
    add_member(family, None, "young_person", name="Sanne")
    after = client.get(plan).get_data(as_text=True)
    assert ">Sanne</option>" in form_html(after, petals)  # the member a petal can be
    assert ">Sanne</option>" in form_html(after, agreements)  # who can own an agreement


def test_typed_text_and_errors_are_never_kept(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    plan, goals = f"/families/{family.id}/plan", f"/families/{family.id}/plan/goals"
    sign_in(client, mother)
    client.get(plan)
    refused = post_form(
        client,
        goals,
        {"title": "", "owner": "family", "description": "Mijn eigen woorden"},
        form_path=plan,
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Vul dit veld in." in form_html(page, goals)
    assert "Mijn eigen woorden" in form_html(page, goals)  # what was typed is shown back…
    assert all("Mijn eigen woorden" not in text for text in kept_texts(app))  # …and not kept
    again = form_html(client.get(plan).get_data(as_text=True), goals)
    assert "Mijn eigen woorden" not in again and "Vul dit veld in." not in again


def test_each_language_is_drawn_in_its_own_words(
    client: FlaskClient, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    plan, goals = f"/families/{family.id}/plan", f"/families/{family.id}/plan/goals"
    sign_in(client, mother)
    dutch = form_html(client.get(plan).get_data(as_text=True), goals)
    post_form(client, "/locale", {"locale": "en"}, form_path="/families")
    english = form_html(client.get(plan).get_data(as_text=True), goals)
    assert "Van wie is dit doel?" in dutch and "Van wie is dit doel?" not in english
    assert "Whose goal is this?" in english
