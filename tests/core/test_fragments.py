"""Untouched add forms are drawn once and served again (portal/core/fragments.py): never with
another session's CSRF token, never with stale choices, never with what someone typed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.core import fragments
from portal.family.models import Family, Member
from tests.helpers import post_form, sign_in


@pytest.fixture(autouse=True)
def _nothing_drawn() -> Iterator[None]:
    fragments.forget_all()
    yield
    fragments.forget_all()


def form_html(page: str, action: str) -> str:
    match = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert match, f"no form posting to {action}"
    return match.group(0)


@pytest.fixture
def mothers_plan(
    client: FlaskClient, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> tuple[str, str]:
    """Mama signed in on `client`; her family's plan page and where its goal form posts."""
    mother = make_user(name="Mama")
    family = make_family(mother)
    sign_in(client, mother)
    return f"/families/{family.id}/plan", f"/families/{family.id}/plan/goals"


def token_of(form: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match, "no CSRF token in the form"
    return match.group(1)


def test_a_kept_form_carries_the_viewers_own_token(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    plan, goals = f"/families/{family.id}/plan", f"/families/{family.id}/plan/goals"
    sign_in(client, mother)
    mothers = form_html(client.get(plan).get_data(as_text=True), goals)
    assert len(fragments._drawn) == 4  # petal, goal, agreement and moment forms kept

    other = app.test_client()
    sign_in(other, father)
    fathers = form_html(other.get(plan).get_data(as_text=True), goals)
    assert len(fragments._drawn) == 4  # served again, not drawn anew
    assert "<csrf-slot>" not in fathers
    assert token_of(fathers) != token_of(mothers)
    assert fathers.replace(token_of(fathers), "") == mothers.replace(token_of(mothers), "")
    added = other.post(
        goals, data={"csrf_token": token_of(fathers), "title": "Samen eten", "owner": "family"}
    )
    assert added.status_code == 302  # the token in the served copy is the father's


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
    assert "Samen eten" not in form_html(before, agreements)
    goal = post_form(
        client, f"{plan}/goals", {"title": "Samen eten", "owner": "family"}, form_path=plan
    )
    assert goal.status_code == 302
    add_member(family, None, "young_person", name="Sanne")
    after = client.get(plan).get_data(as_text=True)
    assert ">Samen eten</option>" in form_html(after, agreements)  # the goal to link to
    assert ">Sanne</option>" in form_html(after, petals)  # the member a petal can be
    assert ">Sanne</option>" in form_html(after, agreements)  # who can own an agreement


def test_typed_text_and_errors_are_never_kept(
    client: FlaskClient, mothers_plan: tuple[str, str]
) -> None:
    plan, goals = mothers_plan
    client.get(plan)
    kept = dict(fragments._drawn)
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
    assert all("Mijn eigen woorden" not in html for html in fragments._drawn.values())
    assert fragments._drawn.keys() == kept.keys()  # …and the filled-in form was not kept
    again = form_html(client.get(plan).get_data(as_text=True), goals)
    assert "Mijn eigen woorden" not in again and "Vul dit veld in." not in again


def test_each_language_is_drawn_in_its_own_words(
    client: FlaskClient, mothers_plan: tuple[str, str]
) -> None:
    plan, goals = mothers_plan
    dutch = form_html(client.get(plan).get_data(as_text=True), goals)
    post_form(client, "/locale", {"locale": "en"}, form_path="/families")
    english = form_html(client.get(plan).get_data(as_text=True), goals)
    assert "Van wie is dit doel?" in dutch and "Van wie is dit doel?" not in english
    assert "Whose goal is this?" in english


def test_the_kept_forms_stay_bounded(
    client: FlaskClient, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    mother = make_user(name="Mama")
    sign_in(client, mother)
    families = [make_family(mother, name=f"Gezin {n}") for n in range(3)]
    old, fragments.MAX_FORMS = fragments.MAX_FORMS, 6
    try:
        for family in families:
            assert client.get(f"/families/{family.id}/plan").status_code == 200
        assert len(fragments._drawn) == 6  # the oldest family's forms made room
        assert all(f"/families/{families[0].id}/" not in key[2] for key in fragments._drawn)
    finally:
        fragments.MAX_FORMS = old
