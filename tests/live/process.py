"""A real portal server process (`python -m portal`) for the live tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port, log_tail, port_open, wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    base: str  # http://127.0.0.1:<port>
    log: Path
    process: subprocess.Popen[bytes]


@contextmanager
def portal_server(database_url: str, **settings: str) -> Iterator[Served]:
    """Serve the portal in gevent mode on a free port; yields its address, log and process.

    Extra PORTAL_* settings come as keyword arguments (redis_url="…" → PORTAL_REDIS_URL)."""
    folder = tempfile.mkdtemp(prefix="portal-server-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(folder) / "server.log"
    env = {
        **os.environ,
        "PORTAL_ASYNC_MODE": "gevent",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_SECRET_KEY": "gevent-secret-key-that-is-long-enough-0123456",
        "PORTAL_BASE_URL": base,
        "PORTAL_MAIL_BACKEND": "outbox",
        "PORTAL_OUTBOX_DIR": folder,
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_MEMORY_KIB": "8192",
        **{f"PORTAL_{name.upper()}": value for name, value in settings.items()},
    }
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "portal", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: port_open(port), "portal server", log)
        yield Served(base, log, server)
        assert "Traceback" not in log.read_text(errors="replace"), log_tail(log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
