"""Shared fixtures: one app per test session on a real database (SQLite or PostgreSQL, chosen by
PORTAL_TEST_DATABASE), a real SMTP server process, factories and a signed-in client helper."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from time_machine import TimeMachineFixture
from werkzeug.serving import make_server

from config import Settings
from portal import create_app, db
from portal.auth import passwords, throttle
from portal.auth.models import KIND_FAMILY, KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import (
    ROLE_PARENT,
    ROLE_YOUNG_PERSON,
    Family,
    Member,
    ParentalAuthority,
)
from portal.migrate import upgrade
from tests.helpers import PASSWORD, sign_in
from tests.support.servers import PostgresServer, SmtpServer, free_port


def backend() -> str:
    return os.environ.get("PORTAL_TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if backend() == "postgresql":
        with PostgresServer() as server:
            yield server.url
        return
    with tempfile.TemporaryDirectory(prefix="portal-test-") as folder:
        yield f"sqlite:///{folder}/portal.db"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def settings_for_tests(database_url: str, smtp_port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "base_url": "http://localhost",
        "mail_backend": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        # Cheap hashing keeps the suite fast; production uses the RFC 9106 profile.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
    }
    values.update(overrides)
    return Settings(**values).validated()


@pytest.fixture(scope="session")
def app(database_url: str, smtp_server: SmtpServer) -> Flask:
    upgrade(database_url)
    app = create_app(settings_for_tests(database_url, smtp_server.port))
    _require_an_audit_row_for_every_family_change(app)
    return app


def _require_an_audit_row_for_every_family_change(app: Flask) -> None:
    """Every test that changes something in a family through a page or the API also checks
    that the change left an audit row: a successful POST/PUT/PATCH/DELETE under a family's
    path that logged nothing fails the test (two views once did not)."""
    from flask import g, request
    from flask_login import current_user

    from portal.access import audit

    write = audit.write

    def noting_write(**values: Any) -> None:
        g.audit_rows_written = True
        write(**values)

    audit.write = noting_write  # type: ignore[assignment]

    @app.after_request
    def _audited(response: Any) -> Any:
        args = request.view_args or {}
        changing = request.method in ("POST", "PUT", "PATCH", "DELETE")
        family_path = "family_id" in args or "fid" in args
        # (An anonymous request is sent to the sign-in page: nothing changed, nothing to log.)
        if (
            changing
            and response.status_code < 400
            and family_path
            and current_user.is_authenticated
        ):
            assert g.get("audit_rows_written"), f"{request.method} {request.path}: no audit row"
        return response


def reset_database(app: Flask) -> None:
    """Empty every table between tests (the audit log's append-only guard is lifted briefly)."""
    engine = app.extensions["portal_engine"]
    db.session.remove()
    from portal.db import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # A live server thread may still be finishing a socket event (a disconnect, a read receipt)
    # when the test ends; TRUNCATE can then deadlock with it. Try again briefly.
    for attempt in range(10):
        try:
            _empty(engine, tables)
            return
        except OperationalError:
            if attempt == 9:
                raise
            time.sleep(0.2)


def _empty(engine: Any, tables: list[str]) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(
                text(
                    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
                )
            )


@pytest.fixture
def later(time_machine: TimeMachineFixture) -> Callable[[timedelta], None]:
    """Move time on for everything in this process: the portal's clock and the throttle's
    counts, which the `limits` library keeps by the system clock."""

    def move(delta: timedelta) -> None:
        time_machine.move_to(datetime.now(UTC) + delta)

    return move


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    clock.reset()
    from portal.access.repeats import counter
    from portal.messaging.limits import send_limit

    send_limit.reset()
    counter.take_all()  # a test's uncounted repeats must not land in the next test's log
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        reset_database(app)
        throttle.reset(app)  # the counts live beside the database, in memory
    if "smtp_server" in request.fixturenames:
        request.getfixturevalue("smtp_server").clear()


class LiveServer:
    def __init__(self, app: Flask, port: int) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{port}"
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_app(app: Flask) -> Iterator[tuple[Flask, int]]:
    settings = app.config["PORTAL_SETTINGS"]
    port = free_port()
    live = create_app(
        settings_for_tests(
            settings.database_url, settings.smtp_port, base_url=f"http://127.0.0.1:{port}"
        )
    )
    yield live, port


@pytest.fixture(scope="session")
def live_server(live_app: tuple[Flask, int]) -> Iterator[LiveServer]:
    app, port = live_app
    server = LiveServer(app, port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An app context for tests that call services directly."""
    with app.test_request_context():
        yield
        db.session.remove()


# --- factories --------------------------------------------------------------------------------


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        email: str | None = None,
        name: str | None = None,
        kind: str = KIND_FAMILY,
        verified: bool = True,
        password: str = PASSWORD,
        **fields: Any,
    ) -> User:
        n = next(counter)
        with app.app_context():
            user = User(
                email=email or f"user{n}@example.org",
                display_name=name or f"Gebruiker {n}",
                kind=kind,
                password_hash=passwords.hash_password(password),
                email_verified_at=clock.now() if verified else None,
                **fields,
            )
            if kind == KIND_PROFESSIONAL:
                user.profession = user.profession or "cjg_coach"
                user.organisation = user.organisation or "CJG Utrecht"
            db.session.add(user)
            db.session.commit()
            db.session.remove()
        return user

    return make


@pytest.fixture
def make_family(app: Flask) -> Callable[..., Family]:
    def make(owner: User, name: str = "Gezin De Vries") -> Family:
        with app.app_context():
            family = Family(name=name, created_by_id=owner.id)
            db.session.add(family)
            db.session.flush()
            db.session.add(
                Member(
                    family_id=family.id,
                    user_id=owner.id,
                    role=ROLE_PARENT,
                    display_name=owner.display_name,
                    has_authority=True,
                    joined_at=clock.now(),
                )
            )
            db.session.commit()
            db.session.remove()
        return family

    return make


@pytest.fixture
def add_member(app: Flask) -> Callable[..., Member]:
    def add(
        family: Family,
        user: User | None = None,
        role: str = ROLE_PARENT,
        birth_date: date | None = None,
        has_authority: bool = False,
        name: str | None = None,
        authority: list[Member] | None = None,
    ) -> Member:
        """`authority`: a child's holders, or a parent's children (default: as families
        mostly have it, the first two parents with authority hold it over every child)."""
        with app.app_context():
            member = Member(
                family_id=family.id,
                user_id=user.id if user else None,
                role=role,
                display_name=name or (user.display_name if user else "Kind"),
                birth_date=birth_date,
                has_authority=has_authority,
                joined_at=clock.now() if user else None,
            )
            db.session.add(member)
            db.session.flush()
            _default_authority(member, authority)
            db.session.commit()
            db.session.remove()
        return member

    return add


def _default_authority(member: Member, chosen: list[Member] | None) -> None:
    def current(role: str) -> list[Member]:
        return list(
            db.session.scalars(
                select(Member)
                .where(
                    Member.family_id == member.family_id,
                    Member.role == role,
                    Member.removed_at.is_(None),
                    Member.id != member.id,
                )
                .order_by(Member.id)
            )
        )

    def holders(child_id: int) -> int:
        return len(
            list(
                db.session.scalars(
                    select(ParentalAuthority).where(ParentalAuthority.child_id == child_id)
                )
            )
        )

    pairs: list[tuple[int, int]] = []
    if member.role == ROLE_YOUNG_PERSON:
        parents = (
            chosen
            if chosen is not None
            else [p for p in current(ROLE_PARENT) if p.has_authority][:2]
        )
        pairs = [(p.id, member.id) for p in parents]
    elif member.role == ROLE_PARENT and member.has_authority:
        children = (
            chosen
            if chosen is not None
            else [c for c in current(ROLE_YOUNG_PERSON) if holders(c.id) < 2]
        )
        pairs = [(member.id, c.id) for c in children]
    for parent_id, child_id in pairs:
        db.session.add(
            ParentalAuthority(
                family_id=member.family_id,
                parent_id=parent_id,
                child_id=child_id,
                confirmed_at=clock.now(),
            )
        )


@pytest.fixture
def signed_in(client: FlaskClient) -> Callable[[User], FlaskClient]:
    def do(user: User, c: FlaskClient | None = None) -> FlaskClient:
        target = c or client
        sign_in(target, user)
        return target

    return do
