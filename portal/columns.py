"""Columns many models share, as mixins: who added a thing and when, who changed it last,
when it was removed (kept, not deleted), and the version counter that refuses a stale write.

The names are the ones the database already has; a model takes the mixins that describe it
and keeps its own columns for what only it holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from portal.core import clock


class Authored:
    """Who added it (their name as it was then: a guest's access may end) and when."""

    created_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Edited:
    """Who changed it last, and when; empty until the first change."""

    updated_by_name: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime | None]


class Removable:
    """Removed by a person: hidden from the plan, kept for its history and the log."""

    removed_at: Mapped[datetime | None]


class Versioned:
    """Optimistic concurrency: every write counts `version` up, and a write based on an older
    version fails (StaleDataError), shown to the person as a conflict."""

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
