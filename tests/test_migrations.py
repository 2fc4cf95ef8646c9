"""Alembic: exactly one head, date-prefixed revisions, and the migrated schema equals the models
(no autogenerate drift) on the database this run uses (SQLite or PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from portal.db import Base
from portal.migrate import MIGRATIONS_DIR, alembic_config
from portal.models import load_all


def test_exactly_one_head(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(script.get_heads()) == 1


def test_revision_files_are_date_prefixed_with_a_docstring() -> None:
    files = sorted(p for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    assert files
    for path in files:
        assert re.match(r"^\d{8}_\d{4}_[a-z0-9_]+\.py$", path.name), path.name
        assert path.read_text().startswith('"""'), path.name


def test_models_match_the_migrations(app: Flask) -> None:
    load_all()
    engine = app.extensions["portal_engine"]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_conversations_get_their_last_activity_from_their_messages(tmp_path: Path) -> None:
    """20261202_0015 fills active_at from the newest message, or the start without one (a
    throw-away SQLite database: this test goes down and up again)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from portal.migrate import upgrade

    url = f"sqlite:///{tmp_path}/migrate.db"
    upgrade(url)
    engine = create_engine(url)
    started = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        from portal.auth.models import User
        from portal.family.models import Family
        from portal.messaging.models import Conversation, Message

        user = User(email="m@example.org", display_name="Mama", password_hash="x")
        session.add(user)
        session.flush()
        family = Family(name="Gezin", created_by_id=user.id)
        session.add(family)
        session.flush()
        talked, silent = (
            Conversation(family_id=family.id, topic=t, created_by_id=user.id, created_at=started)
            for t in ("Met berichten", "Zonder")
        )
        session.add_all([talked, silent])
        session.flush()
        for seq, day in ((1, 3), (2, 5)):
            session.add(
                Message(
                    conversation_id=talked.id,
                    family_id=family.id,
                    seq=seq,
                    author_id=user.id,
                    author_name="Mama",
                    client_key=f"migrate-key-{seq}",
                    body="hallo",
                    created_at=datetime(2026, 1, day, 12, 0, tzinfo=UTC),
                )
            )
        session.commit()
        ids = talked.id, silent.id
    command.downgrade(alembic_config(url), "20261202_0014")
    upgrade(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, active_at FROM conversation ORDER BY id")).all())
        # Copying the table (SQLite's way to change a column) kept what points at it: with
        # foreign keys on during the copy, dropping the old table deleted every message.
        assert conn.execute(text("SELECT count(*) FROM message")).scalar() == 2
    engine.dispose()
    assert str(rows[ids[0]]).startswith("2026-01-05 12:00")  # its newest message
    assert str(rows[ids[1]]).startswith("2026-01-01 09:00")  # no messages: its start
