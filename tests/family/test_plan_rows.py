"""A family's plan and safety plan exist from its start, so viewing them never writes one;
a family without them (made before, or directly) gets them once, also when two first views
race; the migration gives the families made before theirs."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text

from bench.common import count_queries
from portal import db
from portal.auth.models import User
from portal.family.models import Family, Plan, SafetyPlan
from portal.family.services import one_per_family
from portal.migrate import upgrade
from tests.helpers import post_form, sign_in

WRITTEN_TABLE = re.compile(r"(?:INSERT INTO|(?<!FOR )UPDATE|DELETE FROM)\s+\"?(\w+)", re.IGNORECASE)


def test_a_new_family_has_its_plan_and_viewing_it_writes_only_the_log(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user(name="Marieke"))
    made = post_form(client, "/families/new", {"name": "Gezin Jansen", "my_name": "Mama"})
    assert made.status_code == 302
    with app.app_context():
        family_id = db.session.scalar(select(Family.id).where(Family.name == "Gezin Jansen"))
        for model in (Plan, SafetyPlan):
            count = select(func.count()).select_from(model).where(model.family_id == family_id)
            assert db.session.scalar(count) == 1, model.__name__
        db.session.remove()
    with count_queries(app) as statements:
        page = client.get(f"/families/{family_id}/plan")
    assert page.status_code == 200
    # The tables written, wherever the write stands in a statement (on PostgreSQL the log row
    # and its chain head are one statement: an UPDATE in a WITH of the INSERT).
    written = [table for s in statements for table in WRITTEN_TABLE.findall(s)]
    assert written and all(table.startswith("audit_") for table in written), written


def test_a_first_view_that_loses_the_race_uses_the_winners_row(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    family = make_family(make_user())  # made directly: no plan yet
    with app.app_context():
        winner = Plan(family_id=family.id, tomorrow="Samen ontbijten")
        db.session.add(winner)
        db.session.commit()
        winner_id = winner.id
        db.session.remove()
    with app.test_request_context(f"/families/{family.id}/plan"):
        real, looks = db.session.scalar, []

        def first_look_misses(statement: object, *args: object, **kwargs: object) -> object:
            # As a view that read before the winner committed: it saw no plan.
            looks.append(statement)
            return None if len(looks) == 1 else real(statement, *args, **kwargs)

        monkeypatch.setattr(db.session, "scalar", first_look_misses)
        found = one_per_family(Plan, family)
        monkeypatch.undo()
        assert (found.id, found.tomorrow) == (winner_id, "Samen ontbijten")
        db.commit()  # the request goes on and ends as usual
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
        db.session.remove()


def test_the_migration_gives_earlier_families_their_plan() -> None:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='portal-migration-')}/portal.db"
    upgrade(url, "20261201_0012")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_account (id, email, display_name, kind, locale, created_at) "
                "VALUES (1, 'a@example.org', 'A', 'family', 'nl', '2026-11-01 10:00:00')"
            )
        )
        for family_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO family (id, name, invite_code, created_by_id, created_at, version)"
                    " VALUES (:id, 'Gezin', :code, 1, '2026-11-01 10:00:00', 1)"
                ),
                {"id": family_id, "code": f"code-{family_id}"},
            )
        conn.execute(
            text(
                "INSERT INTO plan (family_id, tomorrow, must_change, approach, help, who_else,"
                " version) VALUES (1, 'al ingevuld', '', '', '', '', 3)"
            )
        )
    upgrade(url, "head")
    with engine.connect() as conn:
        plans = conn.execute(text("SELECT family_id, tomorrow, version FROM plan ORDER BY 1"))
        assert plans.all() == [(1, "al ingevuld", 3), (2, "", 1)]
        safety = conn.execute(text("SELECT family_id, version FROM plan_safety ORDER BY 1"))
        assert safety.all() == [(1, 1), (2, 1)]
    engine.dispose()
    Path(url.removeprefix("sqlite:///")).unlink()
