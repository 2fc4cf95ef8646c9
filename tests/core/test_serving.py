"""What a serving process does before it takes traffic: the collector, SQLite's checkpoints."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from portal.core import serving, wal
from tests.support.servers import wait_until


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "wal.db"
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _wal(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]

    yield engine, path
    engine.dispose()


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_a_thread_of_its_own_checkpoints_the_log_and_commits_no_longer_do(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (body TEXT)"))
    assert _autocheckpoint(engine) == 1000  # SQLite's own: inside the commit that crosses it
    checkpointer = wal.checkpoint_in_background(engine)
    assert checkpointer is not None
    try:
        assert _autocheckpoint(engine) == wal.FALLBACK_PAGES  # also on connections made before
        before = path.stat().st_size
        # ~250 pages: far below what a commit now checkpoints itself, so only the thread can
        # bring them into the database file.
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO note VALUES (:b)"), [{"b": "x" * 4000}] * 250)
        # The thread copies the log into the database file within a period or two (and counts
        # the pass once its PRAGMA has returned: both are waited for, not one then the other).
        wait_until(
            lambda: path.stat().st_size > before + 500_000 and checkpointer.runs >= 1,
            "checkpoint",
            timeout=5,
        )
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM note").scalar_one() == 250
    finally:
        checkpointer.stop()


def test_no_checkpoint_thread_where_there_is_no_log_file() -> None:
    memory = create_engine("sqlite://")
    postgres = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert wal.checkpoint_in_background(memory) is None
    assert wal.checkpoint_in_background(postgres) is None  # connects to nothing either


def test_prepare_freezes_start_up_makes_full_collections_rarer_and_starts_the_checkpoints(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, _ = sqlite_file
    threshold = gc.get_threshold()
    app = SimpleNamespace(extensions={"portal_engine": engine})
    try:
        serving.prepare(app)  # type: ignore[arg-type]
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (threshold[0], threshold[1], serving.FULL_PASS_AFTER)
        assert isinstance(app.extensions["portal_checkpointer"], wal.Checkpointer)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        checkpointer = app.extensions.get("portal_checkpointer")
        if checkpointer is not None:
            checkpointer.stop()


def test_every_gunicorn_worker_prepares_its_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_settings import _gunicorn_settings

    prepared: list[object] = []
    monkeypatch.setattr(serving, "prepare", prepared.append)
    hook = _gunicorn_settings(monkeypatch)["post_worker_init"]
    app = object()
    hook(SimpleNamespace(wsgi=app))  # type: ignore[operator]
    assert prepared == [app]


def test_the_thread_keeps_trying_after_a_failure(tmp_path: Path) -> None:
    folder = tmp_path / "later"  # not there yet: the first passes cannot open the database
    checkpointer = wal.Checkpointer(str(folder / "wal.db"), every=0.05).start()
    try:
        time.sleep(0.3)
        assert checkpointer.runs == 0
        folder.mkdir()
        time.sleep(0.3)  # the folder is there, the database not yet: the thread makes none
        assert not (folder / "wal.db").exists()
        engine = create_engine(f"sqlite:///{folder / 'wal.db'}")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # only the thread checkpoints
            conn.exec_driver_sql("CREATE TABLE note (body TEXT)")
            conn.exec_driver_sql("INSERT INTO note VALUES ('hallo')")
        wait_until(lambda: checkpointer.runs >= 1, "a checkpoint after the failures", timeout=5)
        engine.dispose()
    finally:
        checkpointer.stop()


def test_a_file_switched_to_wal_after_the_thread_opened_it(tmp_path: Path) -> None:
    """The thread opened the file while it was still empty (a database being made): once it is
    in WAL mode the thread checkpoints it (a connection opened before would not see the log)."""
    path = tmp_path / "wal.db"
    path.touch()
    checkpointer = wal.Checkpointer(str(path), every=0.05).start()
    try:
        time.sleep(0.3)  # it has opened the empty file and found no log
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            conn.exec_driver_sql("CREATE TABLE note (body TEXT)")
            conn.exec_driver_sql("INSERT INTO note VALUES ('hallo')")
        wait_until(lambda: checkpointer.runs >= 1, "a checkpoint of the new log", timeout=5)
        engine.dispose()
    finally:
        checkpointer.stop()
