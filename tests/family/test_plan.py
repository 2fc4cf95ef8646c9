"""The plan's goals (phase, owner, scores over time) and agreements (who does what, when):
bad input explained, conflicts shown, overdue items marked, guests only with the plan part."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member
from tests.helpers import csrf_from, post_form, sign_in, years_ago


def test_goals_scores_and_conflicts(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    empty = post_form(client, f"{plan}/goals", {"title": "", "owner": "family"}, form_path=plan)
    assert empty.status_code == 422 and "Vul dit veld in." in empty.get_data(as_text=True)
    added = post_form(
        client,
        f"{plan}/goals",
        {
            "title": "Sanne is 3 ochtenden per week op tijd",
            "owner": "young_person",
            "phase": "in_progress",
        },
        form_path=plan,
    )
    assert added.status_code == 302
    goal_id = int(re.search(r"#goal-(\d+)", added.location).group(1))  # type: ignore[union-attr]
    for score in ("3", "5", "7"):
        assert (
            post_form(
                client, f"{plan}/goals/{goal_id}/scores", {"score": score}, form_path=plan
            ).status_code
            == 302
        )
    too_high = post_form(client, f"{plan}/goals/{goal_id}/scores", {"score": "11"}, form_path=plan)
    assert too_high.status_code == 422 and "0 tot en met 10" in too_high.get_data(as_text=True)
    page = client.get(plan).get_data(as_text=True)
    assert "Laatste score: 7 van 10" in page and "<polyline" in page and "bezig" in page

    edit = f"{plan}/goals/{goal_id}/edit"
    other = app.test_client()
    sign_in(other, father)
    mine_page, theirs_page = (
        client.get(edit).get_data(as_text=True),
        other.get(edit).get_data(as_text=True),
    )
    form = {"owner": "young_person", "phase": "achieved", "version": "1"}
    assert (
        client.post(
            edit, data={**form, "csrf_token": csrf_from(mine_page), "title": "Op tijd: 4 ochtenden"}
        ).status_code
        == 302
    )
    stale = other.post(
        edit, data={**form, "csrf_token": csrf_from(theirs_page), "title": "Op tijd: 5 ochtenden"}
    )
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Op tijd: 4 ochtenden" in text
    assert 'value="Op tijd: 5 ochtenden"' in text  # what this parent typed is kept


def test_agreements_overdue_and_done(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(9), name="Daan")
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    nobody = post_form(client, f"{plan}/agreements", {"what": "Wekker zetten"}, form_path=plan)
    assert nobody.status_code == 422 and 'value="Wekker zetten"' in nobody.get_data(as_text=True)
    late = (clock.today() - timedelta(days=2)).isoformat()
    assert (
        post_form(
            client,
            f"{plan}/agreements",
            {"what": "Wekker zetten", "owner": f"member:{child.id}", "due_on": late},
            form_path=plan,
        ).status_code
        == 302
    )
    page = client.get(plan).get_data(as_text=True)
    assert "Daan" in page and "(te laat)" in page and 'class="overdue' in page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    done = client.post(
        f"{plan}/agreements/1/done",
        data={"csrf_token": csrf_from(page), "version": version.group(1), "done": "1"},
    )
    assert done.status_code == 302
    page = client.get(plan).get_data(as_text=True)
    assert "(te laat)" not in page and "Ja, klaar" in page
    stale = client.post(
        f"{plan}/agreements/1/done",
        data={"csrf_token": csrf_from(page), "version": version.group(1), "done": "0"},
    )
    assert stale.status_code == 409
