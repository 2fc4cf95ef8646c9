"""How requests use the database's locks: page views read side by side and lock only for their
audit row at the end; writers lock from the start. SQLite only (PostgreSQL locks rows)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access import audit
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.family.models import Family


def _sqlite_path(app: Flask) -> str:
    url = app.config["PORTAL_SETTINGS"].database_url
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's locking")
    return str(url.removeprefix("sqlite:///"))


def _log(family_id: int, action: str) -> None:
    audit.write(
        family_id=family_id,
        actor_user_id=None,
        actor_name="Test",
        actor_role="parent",
        organisation=None,
        basis="member",
        action=action,
        object_type="family",
        object_id=str(family_id),
        outcome="allowed",
        reason="",
        client_address=None,
    )


def test_a_page_view_reads_without_the_write_lock_and_logs_after_others_wrote(
    app: Flask, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    path = _sqlite_path(app)
    family = make_family(make_user(name="Mama"))
    with app.test_request_context("/", method="GET"):
        assert db.session.scalar(select(Family.name).where(Family.id == family.id))
        _log(family.id, "family.view")  # queued, not written yet
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        # Another worker writes while this page is still being made: no lock is in its way.
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE family SET name = 'Gezin Anders' WHERE id = ?", (family.id,))
        other.execute("COMMIT")
        # A plain upgrade of this (now outdated) read would fail at once (SQLITE_BUSY_SNAPSHOT);
        # the commit point starts a writing transaction and links the row to the latest head.
        _log(family.id, "plan.view")
        db.commit()
        other.close()
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.family_id == family.id).order_by(AuditEvent.seq)
        ).all()
        assert [r.action for r in rows][-2:] == ["family.view", "plan.view"]
        assert audit.verify()[1] == []


def test_a_write_request_holds_the_lock_from_its_first_statement(
    app: Flask, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    path = _sqlite_path(app)
    family = make_family(make_user(name="Mama"))
    with app.test_request_context("/", method="POST"):
        db.session.scalar(select(Family.name).where(Family.id == family.id))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        db.rollback()


def test_a_rolled_back_request_logs_nothing_and_the_next_one_starts_clean(
    app: Flask, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    family = make_family(make_user(name="Mama"))
    with app.test_request_context("/", method="GET"):
        db.session.scalar(select(Family.name).where(Family.id == family.id))
        _log(family.id, "dossier.view")
        db.rollback()
        db.commit()
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.family_id == family.id)
        ).all()
        assert "dossier.view" not in actions
