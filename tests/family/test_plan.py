"""The plan's goals (phase, owner, scores over time) and agreements (who does what, when):
bad input explained, conflicts shown, overdue items marked, guests only with the plan part."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member
from tests.helpers import counted_get, csrf_from, post_form, sign_in, years_ago


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
    # The chart has its scale: lines at 0, 5 and 10 with their numbers, the dots on that
    # scale, and the words for the ends of it.
    start = page.index('<figure class="chart">')
    chart = page[start : page.index("</figure>", start)]
    marks = {
        int(label): float(y)
        for y, label in re.findall(
            r'<text x="[\d.]+" y="([\d.]+)" text-anchor="end"[^>]*>(\d+)<', chart
        )
    }
    assert sorted(marks) == [0, 5, 10]
    unit = (marks[0] - marks[10]) / 10
    dots = [float(y) for y in re.findall(r'<circle[^>]* cy="([\d.]+)"', chart)]
    # (a number sits 3 units below its line, to be centred on it)
    assert dots == pytest.approx([marks[0] - 3 - n * unit for n in (3, 5, 7)])
    assert "0 = het gaat helemaal niet, 10 = het doel is bereikt" in chart

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
    petal = {"name": "Daan", "relation": "zoon", "kind": "informal"}
    assert post_form(client, f"{plan}/network", petal, form_path=plan).status_code == 302
    # Daan is a member and a petal: the choices say which is which (in groups).
    form = client.get(plan).get_data(as_text=True)
    owner = form[form.index('name="owner"', form.index("/plan/agreements")) :]
    owner = owner[: owner.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', owner, re.S)
    assert [label for label, _options in groups] == ["Het gezin en het netwerk", "In de bloem"]
    assert all(">Daan</option>" in options for _label, options in groups)
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
    # The state reads as a state, the button as an action.
    assert 'data-testid="agreement-state">Nog niet<' in page and "Afvinken als klaar" in page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    done = client.post(
        f"{plan}/agreements/1/done",
        data={"csrf_token": csrf_from(page), "version": version.group(1), "done": "1"},
    )
    assert done.status_code == 302
    page = client.get(plan).get_data(as_text=True)
    assert "(te laat)" not in page and 'data-testid="agreement-state">Ja, klaar<' in page
    assert "Toch nog niet klaar" in page
    stale = client.post(
        f"{plan}/agreements/1/done",
        data={"csrf_token": csrf_from(page), "version": version.group(1), "done": "0"},
    )
    assert stale.status_code == 409


def _bulk_plan(app: Flask, family: Family, count: int) -> None:
    """`count` goals (one score each) and agreements, inserted directly: the page is tested."""
    from portal import db
    from portal.family.models import Agreement, Goal, GoalScore

    with app.app_context():
        goals = [
            Goal(family_id=family.id, title=f"Doel {i:04d}", created_by_name="Mama")
            for i in range(count)
        ]
        db.session.add_all(goals)
        db.session.flush()
        db.session.add_all(
            GoalScore(
                family_id=family.id,
                goal_id=g.id,
                score=5,
                scored_on=clock.today(),
                by_name="Mama",
            )
            for g in goals
        )
        db.session.add_all(
            Agreement(
                family_id=family.id,
                what=f"Afspraak {i:04d}",
                owner_name="Mama",
                created_by_name="Mama",
            )
            for i in range(count)
        )
        db.session.commit()
        db.session.remove()


def test_the_plan_page_shows_goals_and_agreements_a_page_at_a_time(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    from portal.family.plan_views import PAGE_SIZE

    mother = make_user(name="Mama")
    small, large = make_family(mother, name="Klein"), make_family(mother, name="Groot")
    _bulk_plan(app, small, 10)
    _bulk_plan(app, large, 1000)
    sign_in(client, mother)
    counts = []
    for family in (small, large):
        response, count = counted_get(app, client, f"/families/{family.id}/plan")
        assert response.status_code == 200
        counts.append(count)
    assert counts[0] == counts[1], counts

    plan = f"/families/{large.id}/plan"
    first = response.get_data(as_text=True)
    shown = re.findall(r"<h3>Doel (\d{4})</h3>", first)
    assert shown == [f"{i:04d}" for i in range(PAGE_SIZE)]
    rows = re.findall(r"<td>Afspraak (\d{4})</td>", first)
    assert len(rows) == PAGE_SIZE and len(set(rows)) == PAGE_SIZE
    assert f"1–{PAGE_SIZE} van 1.000" in first
    assert f'href="{plan}?goals=2#goals" rel="next">Volgende doelen' in first
    assert f'href="{plan}?agreements=2#agreements" rel="next">Volgende afspraken' in first
    assert "Vorige doelen" not in first

    # Paging one list keeps the other where it was.
    second = client.get(f"{plan}?goals=2&agreements=3").get_data(as_text=True)
    assert re.findall(r"<h3>Doel (\d{4})</h3>", second)[0] == f"{PAGE_SIZE:04d}"
    on_third = re.findall(r"<td>Afspraak (\d{4})</td>", second)
    assert len(on_third) == PAGE_SIZE and not set(on_third) & set(rows)
    assert f'href="{plan}?agreements=3#goals" rel="prev">Vorige doelen' in second
    assert f'href="{plan}?goals=3&amp;agreements=3#goals" rel="next"' in second

    # Past the end, nonsense or negative: the nearest real page, never an error.
    last = client.get(f"{plan}?goals=999").get_data(as_text=True)
    assert re.findall(r"<h3>Doel (\d{4})</h3>", last)[-1] == "0999"
    assert "Volgende doelen" not in last and "Vorige doelen" in last
    for odd, first_shown in (
        ("abc", "0000"),
        ("-3", "0000"),
        ("0", "0000"),
        ("²", "0000"),
        ("9" * 40, "0975"),
    ):
        page = client.get(f"{plan}?goals={odd}")
        assert page.status_code == 200
        assert f"<h3>Doel {first_shown}</h3>" in page.get_data(as_text=True)

    # A short plan has no pager at all; the PDF still holds every goal.
    few = client.get(f"/families/{small.id}/plan").get_data(as_text=True)
    assert "Volgende doelen" not in few and 'class="pager"' not in few


def test_open_agreements_come_first_across_pages(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    from sqlalchemy import update

    from portal import db
    from portal.family.models import Agreement

    mother = make_user(name="Mama")
    family = make_family(mother)
    _bulk_plan(app, family, 30)
    with app.app_context():
        first_ten = [f"Afspraak {i:04d}" for i in range(10)]
        db.session.execute(
            update(Agreement).where(Agreement.what.in_(first_ten)).values(done_at=clock.now())
        )
        db.session.commit()
        db.session.remove()
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    shown = []
    for page in (1, 2):
        html = client.get(f"{plan}?agreements={page}").get_data(as_text=True)
        shown.append(re.findall(r"<td>Afspraak (\d{4})</td>", html))
    # Page 1: the 20 open ones, then the first 5 done; page 2: the other 5 done.
    assert shown[0] == [f"{i:04d}" for i in (*range(10, 30), *range(5))]
    assert shown[1] == [f"{i:04d}" for i in range(5, 10)]


def test_every_label_on_the_plan_page_names_a_field_of_its_own_form(
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    """The goal and moment forms both have a "title", the goal and agreement forms an "owner":
    with one id for both, the second label named the first form's field (and a screen reader
    read the second field without a name)."""
    from html.parser import HTMLParser

    class Ids(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str] = []
            self.labels: list[tuple[str, int]] = []  # (for, form number)
            self.fields: dict[str, int] = {}  # id -> form number
            self.form = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "form":
                self.form += 1
            if a.get("id"):
                self.ids.append(str(a["id"]))
                if tag in ("input", "select", "textarea"):
                    self.fields[str(a["id"])] = self.form
            if tag == "label" and a.get("for"):
                self.labels.append((str(a["for"]), self.form))

    mother = make_user(name="Mama")
    family = make_family(mother)
    sign_in(client, mother)
    parsed = Ids()
    parsed.feed(client.get(f"/families/{family.id}/plan").get_data(as_text=True))
    duplicates = sorted({i for i in parsed.ids if parsed.ids.count(i) > 1})
    assert duplicates == []
    assert len(parsed.labels) >= 20  # the four add forms' fields
    for target, form in parsed.labels:
        assert parsed.fields.get(target) == form, target
