"""Group commit of the reads' audit rows (portal/access/audit_commit.py): rows of requests that
wait together land in one durable commit, each request returns only after it, a failed commit
fails every request of its batch, and changes keep their rows in their own transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access import audit, audit_commit
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.family.models import Family
from tests.conftest import backend
from tests.helpers import post_form, sign_in


def row(n: int, family_id: int = 0) -> dict[str, Any]:
    return audit.row(
        family_id=family_id or None,
        actor_user_id=None,
        actor_name=f"lezer {n}",
        actor_role="none",
        organisation=None,
        basis="none",
        action="test.read",
        object_type="test",
        object_id=str(n),
        outcome="allowed",
        reason=None,
        client_address=None,
    )


def stored(app: Flask, action: str = "test.read") -> list[str]:
    with app.app_context():
        found = db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        ).all()
        db.session.remove()
    return [str(value) for value in found]


@pytest.fixture
def group(app: Flask, monkeypatch: pytest.MonkeyPatch) -> audit_commit.GroupCommit:
    found = audit_commit.for_engine(app.extensions["portal_engine"])
    if backend() == "postgresql":
        assert found is None  # PostgreSQL has no database-wide write lock: no group commit
        pytest.skip("group commit is for SQLite")
    assert found is not None
    # (A test's failed sync stops the group for good, as it should; the next test's starts
    # as a restarted process's: the one engine outlives each test.)
    monkeypatch.setattr(found, "_failed", None)
    return found


def test_rows_that_wait_together_share_one_commit(
    app: Flask, group: audit_commit.GroupCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_started, others_queued = threading.Event(), threading.Event()
    real_commit = audit_commit.GroupCommit._commit
    calls: list[int] = []

    def slow_first(self: audit_commit.GroupCommit, rows: list[dict[str, Any]]) -> None:
        calls.append(len(rows))
        if len(calls) == 1:  # the leader holds on until the others have queued behind it
            first_started.set()
            assert others_queued.wait(10)
        real_commit(self, rows)

    monkeypatch.setattr(audit_commit.GroupCommit, "_commit", slow_first)
    returned: list[int] = []
    leader = threading.Thread(target=lambda: (group.write([row(0)]), returned.append(0)))
    leader.start()
    assert first_started.wait(10)
    followers = [
        threading.Thread(target=lambda n=n: (group.write([row(n)]), returned.append(n)))
        for n in range(1, 6)
    ]
    for thread in followers:
        thread.start()
    while len(group._queue) < 5:  # all five wait behind the leader
        threading.Event().wait(0.01)
    assert returned == [], "nobody returns before their rows are committed"
    others_queued.set()
    for thread in [leader, *followers]:
        thread.join(10)
    assert calls == [1, 5], "the five that waited went in as one batch"
    assert sorted(returned) == [0, 1, 2, 3, 4, 5]
    assert sorted(stored(app)) == ["0", "1", "2", "3", "4", "5"]
    with app.app_context():
        checked, problems = audit.verify()
        db.session.remove()
    assert checked == 6 and problems == []


def test_rows_that_arrive_while_a_batch_is_synced_wait_and_go_in_together(
    app: Flask, group: audit_commit.GroupCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sync per batch is the cost: the next batch is written once the last is synced."""
    syncing, others_queued = threading.Event(), threading.Event()
    real_sync, real_commit = audit_commit.GroupCommit._sync, audit_commit.GroupCommit._commit
    batches: list[int] = []

    def counted(self: audit_commit.GroupCommit, rows: list[dict[str, Any]]) -> None:
        batches.append(len(rows))
        real_commit(self, rows)

    def slow_first(self: audit_commit.GroupCommit) -> None:
        if not syncing.is_set():
            syncing.set()
            assert others_queued.wait(10)
        real_sync(self)

    monkeypatch.setattr(audit_commit.GroupCommit, "_commit", counted)
    monkeypatch.setattr(audit_commit.GroupCommit, "_sync", slow_first)
    threads = [threading.Thread(target=lambda: group.write([row(0)]))]
    threads[0].start()
    assert syncing.wait(10)
    threads += [threading.Thread(target=lambda n=n: group.write([row(n)])) for n in range(1, 4)]
    for thread in threads[1:]:
        thread.start()
    for _ in range(500):  # (up to 5 s) until the three wait, or one of them was written
        if len(group._queue) == 3 or len(batches) > 1:
            break
        threading.Event().wait(0.01)
    assert batches == [1], "nothing else is written while the first batch is synced"
    others_queued.set()
    for thread in threads:
        thread.join(10)
    assert batches == [1, 3]
    assert sorted(stored(app)) == ["0", "1", "2", "3"]


def test_a_failed_commit_fails_every_request_of_its_batch(
    app: Flask, group: audit_commit.GroupCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = audit.link_and_insert_sqlite

    def broken(driver: Any, dialect: Any, rows: list[dict[str, Any]]) -> None:
        real(driver, dialect, rows)
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "link_and_insert_sqlite", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        group.write([row(1), row(2)])
    assert stored(app) == [], "nothing of the failed batch is in the log"
    monkeypatch.setattr(audit, "link_and_insert_sqlite", real)
    group.write([row(3)])
    assert stored(app) == ["3"], "the next batch goes in"


def test_it_stores_a_row_as_the_application_does(
    app: Flask, group: audit_commit.GroupCommit
) -> None:
    """The group commit writes on the driver's connection itself (audit.link_and_insert_sqlite):
    every column holds the same value, of the same SQLite type, as a row written through
    SQLAlchemy (audit.link_and_insert); the two link into one chain that verifies."""
    from sqlalchemy import text

    engine = app.extensions["portal_engine"]
    # Two rows alike but for the object, one each way, in one chain, with a new chain between.
    through_sqlalchemy, through_driver = row(1, family_id=7), row(2, family_id=7)
    through_driver["at"] = through_sqlalchemy["at"]
    with db.reading(False), engine.connect() as conn:
        audit.link_and_insert(conn, [through_sqlalchemy])
        conn.commit()
    group.write([row(3, family_id=8), through_driver])
    columns = [column.name for column in AuditEvent.__table__.columns]
    quoted = ", ".join(f"typeof({name}), quote({name})" for name in columns)
    with engine.connect() as conn:
        found = conn.execute(
            text(f"SELECT {quoted} FROM audit_event WHERE chain_key = 7 ORDER BY seq")
        ).all()
    by_column = [dict(zip(columns, zip(r[::2], r[1::2], strict=True), strict=True)) for r in found]
    first, second = by_column
    differ = {name for name in columns if first[name] != second[name]}
    assert differ == {"id", "seq", "object_id", "actor_name", "prev_hash", "hash"}, (first, second)
    assert second["seq"] == ("integer", "2") and second["prev_hash"] == first["hash"]
    assert first["at"][0] == "text" and first["family_id"] == ("integer", "7")
    with app.app_context():
        checked, problems = audit.verify()
        db.session.remove()
    assert checked == 3 and problems == []


def test_reads_use_it_and_changes_keep_their_rows_in_their_own_transaction(
    app: Flask,
    group: audit_commit.GroupCommit,
    client: Any,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother)
    sign_in(client, mother)
    before = group.rows
    assert client.get(f"/families/{family.id}/dossier").status_code == 200
    assert group.rows == before + 1, "the dossier list's row went in through the group commit"
    assert stored(app, "dossier.view"), "and it is in the log"
    # The first look at the plan of a family made directly (as here) makes its plan rows: a
    # read that wrote, whose row goes in with what it wrote.
    assert client.get(f"/families/{family.id}/plan").status_code == 200
    assert group.rows == before + 1 and stored(app, "plan.view")
    changed = post_form(
        client,
        f"/families/{family.id}/plan/goals",
        {"title": "Beter slapen", "owner": "family", "phase": "in_progress"},
        form_path=f"/families/{family.id}/plan",
    )
    assert changed.status_code in (302, 303), changed.get_data(as_text=True)[:300]
    # Its GET for the form's token went through the group commit; the change did not.
    assert group.rows == before + 2
    assert stored(app, "plan.edit"), "the change is in the log"


def test_a_batch_is_on_disk_before_anyone_returns(
    app: Flask,
    group: audit_commit.GroupCommit,
    monkeypatch: pytest.MonkeyPatch,
    client: Any,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    """The batch commits without syncing (outside the write lock the log is synced after):
    the write-ahead log file is synced before any request of the batch returns; a failed sync
    fails them; and no other connection of the pool commits without syncing."""
    import os

    synced: list[str] = []
    real = os.fdatasync

    def noting(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(audit_commit.os, "fdatasync", noting)
    group.write([row(1)])
    database = app.extensions["portal_engine"].url.database
    assert synced == [os.path.realpath(database + "-wal")]
    assert stored(app) == ["1"]

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(audit_commit.os, "fdatasync", failing)
    with pytest.raises(OSError):
        group.write([row(2)])
    # After a failed sync nothing more is written, though syncing works again: the kernel may
    # have dropped the failed batch's pages, and a later sync would not say so.
    monkeypatch.setattr(audit_commit.os, "fdatasync", real)
    with pytest.raises(audit_commit.SyncFailedBefore):
        group.write([row(3)])
    assert stored(app) == ["1", "2"], "the failed batch's row is in the log, nothing after it"
    mother = make_user(name="Mama")
    family = make_family(mother)
    sign_in(client, mother)
    refused = client.get(f"/families/{family.id}/dossier")
    assert refused.status_code == 503, "a page read is refused too, plainly"
    assert "Dit lukt nu even niet" in refused.get_data(as_text=True)
    monkeypatch.undo()
    engine = app.extensions["portal_engine"]
    assert group._conn is not None
    assert group._conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    group._conn.rollback()
    with engine.connect() as other:
        assert other.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_the_log_file_is_the_one_sqlite_opened_and_a_missing_one_is_an_error(
    app: Flask, group: audit_commit.GroupCommit, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    group.write([row(1)])  # (connects)
    database = app.extensions["portal_engine"].url.database
    assert group._wal == os.path.realpath(database) + "-wal"
    monkeypatch.setattr(group, "_wal", group._wal + "-elsewhere")
    with pytest.raises(FileNotFoundError):
        group.write([row(2)])  # never taken for "synced"
