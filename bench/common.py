"""Helpers shared by the benchmarks: a migrated throw-away database and query counting."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from config import Settings
from portal import create_app
from portal.migrate import upgrade


def bench_app(database_url: str | None = None) -> Flask:
    url = database_url or f"sqlite:///{tempfile.mkdtemp(prefix='portal-bench-')}/bench.db"
    upgrade(url)
    return create_app(
        Settings(
            environment="test",
            database_url=url,
            secret_key="bench-secret-key-that-is-long-enough-0123",
            mail_backend="outbox",
            outbox_dir=tempfile.mkdtemp(prefix="portal-bench-mail-"),
            argon2_time_cost=1,
            argon2_memory_kib=8192,
        ).validated()
    )


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    engine = app.extensions["portal_engine"]
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
    return {"p50": statistics.median(ordered), "p90": q[89], "p99": q[98], "max": ordered[-1]}
