"""The data's version (portal/core/data_version.py): every committed change to the data counts
it up in its own transaction; reads, the access log's rows and rolled-back work do not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text, update

from portal import db
from portal.auth.models import User
from portal.core import data_version
from portal.family.models import Family
from tests.helpers import sign_in


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("INSERT INTO goal (title) VALUES (?)", "goal"),
        ('INSERT OR REPLACE INTO "plan" (id) VALUES (1)', "plan"),
        ("  update member SET x = 1", "member"),
        ("UPDATE OR IGNORE user_account SET locale = ?", "user_account"),
        ("DELETE FROM audit_event WHERE 1", "audit_event"),
        ("REPLACE INTO family (id) VALUES (1)", "family"),
        ("SELECT * FROM family", None),
        ("SAVEPOINT sa_savepoint_1", None),
        ("PRAGMA foreign_keys=ON", None),
    ],
)
def test_which_table_a_statement_writes(statement: str, table: str | None) -> None:
    assert data_version.written_table(statement) == table


def version(app: Flask) -> int:
    with app.app_context():
        found = data_version.current(db.session.connection())
        db.session.remove()
    return found


def test_changes_count_and_reads_do_not(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    sign_in(client, mother)
    start = version(app)
    # A page view writes its log row only.
    assert client.get(f"/families/{family.id}/dossier").status_code == 200
    assert version(app) == start
    # A change through the ORM, and one through a Core statement, each count once.
    with app.app_context():
        user = db.session.get(User, mother.id)
        assert user is not None
        user.display_name = "Mama Jansen"
        db.session.flush()
        user.locale = "nl"
        db.session.commit()
        db.session.execute(update(Family).where(Family.id == family.id).values(name="Gezin J"))
        db.session.commit()
        db.session.remove()
    assert version(app) == start + 2
    # Work that is rolled back does not count.
    with app.app_context():
        db.session.execute(update(Family).where(Family.id == family.id).values(name="Weg"))
        db.session.rollback()
        db.session.remove()
    assert version(app) == start + 2


def test_a_migrating_connection_does_not_count(app: Flask) -> None:
    engine = app.extensions["portal_engine"]
    start = version(app)
    with engine.connect() as conn:
        conn.info[data_version.MIGRATING] = True
        conn.execute(text("UPDATE family SET name = name"))
        conn.commit()
        conn.info.pop(data_version.MIGRATING)
    assert version(app) == start


def test_running_the_migrations_counts(app: Flask, database_url: str) -> None:
    """A migration may change data (a backfill): pages kept by running processes end."""
    from portal.migrate import upgrade

    start = version(app)
    upgrade(database_url)  # (at head already: nothing to apply, the count still goes up)
    assert version(app) == start + 1
