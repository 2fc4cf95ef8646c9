"""Alembic: exactly one head, date-prefixed revisions, and the migrated schema equals the models
(no autogenerate drift) on the database this run uses (SQLite or PostgreSQL)."""

from __future__ import annotations

import re

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
