"""Statements prepared for SQLite's driver (portal/core/prepared.py) give the rows SQLAlchemy
Core gives: the same keys, values and types (dates with their zone, booleans, None)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.api import express_reads
from portal.auth.models import UserSession
from portal.core import clock, express
from portal.core.prepared import Prepared, prepared
from portal.core.tokens import token_hash
from portal.family.models import Member
from tests.conftest import backend
from tests.core.test_express import write
from tests.family.test_dossier import world  # noqa: F401  (the same people and coach)
from tests.files import samples


def test_prepared_rows_are_cores_rows(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    if backend() != "sqlite":
        pytest.skip("prepared statements are for SQLite's driver")
    fid, mama, sanne = world["family"].id, world["mama"], world["sanne"]
    uploaded = mama.call(
        "POST",
        f"/families/{fid}/files",
        data={"purpose": "dossier", "file": (io.BytesIO(samples.pdf()), "verslag.pdf")},
        content_type="multipart/form-data",
    )
    with_file = write(mama, fid, "Verslag", "family", attachments=[uploaded.get_json()["id"]])
    changed = write(sanne, fid, "Mijn verhaal", "all")
    edited = sanne.patch(
        f"/families/{fid}/dossier/{changed}",
        {"version": 1, "body": "Nu niet voor papa en mama", "visibility": "no_parents"},
    )
    assert edited.status_code == 200
    engine = app.extensions["portal_engine"]
    with engine.connect() as conn:
        token = conn.execute(
            select(UserSession.token_hash).where(UserSession.revoked_at.is_(None)).limit(1)
        ).scalar_one()
    cases: list[tuple[Any, dict[str, Any]]] = [
        (express._VISITOR, {"family_id": fid, "token_hash": token, "now": clock.now()}),
        (express._VISITOR, {"family_id": fid, "token_hash": token_hash("nee"), "now": clock.now()}),
        (express_reads._ENTRY, {"entry_id": with_file, "family_id": fid}),
        (express_reads._ENTRY, {"entry_id": changed, "family_id": fid}),
        (express_reads._REVISIONS, {"entry_id": changed}),
    ]
    seen_types: set[type] = set()
    for statement, values in cases:
        with engine.connect() as conn:
            core = [dict(row._mapping) for row in conn.execute(statement, values)]
        raw = engine.raw_connection()
        try:
            rows = prepared(statement, engine.dialect).rows(raw.driver_connection, values)
        finally:
            raw.close()
        assert rows == core
        assert core or values.get("token_hash") == token_hash("nee"), statement
        for row, core_row in zip(rows, core, strict=True):
            assert list(row) == list(core_row)
            assert [type(v) for v in row.values()] == [type(v) for v in core_row.values()]
            seen_types.update(type(v) for v in row.values())
    # The cases hold dates (with their zone), booleans, numbers, text and nothing.
    assert {datetime, bool, int, str, type(None)} <= seen_types


def test_what_is_not_prepared() -> None:
    statement = select(Member.id).where(Member.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="lists of values"):
        Prepared(statement, sqlite.dialect())
    with pytest.raises(ValueError, match="SQLite"):
        Prepared(select(Member.id), postgresql.dialect())
    asked = select(Member.id).where(Member.id > bindparam("floor", callable_=lambda: 1))
    with pytest.raises(ValueError, match="run time"):
        Prepared(asked, sqlite.dialect())
    # Names Core makes up by rules of its own, and a name twice.
    for unnamed in (
        select(func.count()).select_from(Member),
        select(Member.id, literal(1)),
        select(Member.id, Member.id.label("id")),
    ):
        with pytest.raises(ValueError, match="named|twice"):
            Prepared(unnamed, sqlite.dialect())


def test_a_given_value_is_used_over_the_statements_own(app: Flask) -> None:
    if backend() != "sqlite":
        pytest.skip("prepared statements are for SQLite's driver")
    engine = app.extensions["portal_engine"]
    numbers = select(literal(7).label("n")).where(bindparam("top", 2) > 1).limit(bindparam("max"))
    raw = engine.raw_connection()
    try:
        ready = prepared(numbers, engine.dialect)
        assert ready.rows(raw.driver_connection, {"max": 5}) == [{"n": 7}]
        assert ready.rows(raw.driver_connection, {"max": 5, "top": 0}) == []
        with pytest.raises(KeyError, match="max"):
            ready.rows(raw.driver_connection, {})
    finally:
        raw.close()
