"""Real server processes for tests: PostgreSQL, an SMTP sink, an OpenID Connect provider, Redis.

Each starts on a free port on 127.0.0.1, waits until it answers, and cleans up on stop().
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check: Callable[[], bool], what: str, log: Path | None = None, timeout: float = START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up within {timeout}s\n{tail}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class _Process:
    """A child process with a log file, stopped (and its temp folder removed) on exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"portal-{type(self).__name__.lower()}-"))
        self.log = self.folder / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, args: list[str], **kwargs: Any) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, **kwargs
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Any:
        self.start()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PostgresServer(_Process):
    """A throw-away PostgreSQL cluster; runs as the postgres user because it refuses root."""

    def __init__(self) -> None:
        super().__init__()
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not candidates:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = Path(candidates[-1])
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return self.database_url("portal_test")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        self.sockets.mkdir()
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        self.create_database("portal_test")
        return self

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.database_url(name)

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [
                    *self.as_postgres,
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
        super().stop()


class SmtpServer(_Process):
    """aiosmtpd in its own process; every accepted message lands as a file we can read."""

    host = "127.0.0.1"

    def start(self) -> SmtpServer:
        self.mail_dir = self.folder / "mail"
        self._spawn(
            [sys.executable, "-m", "tests.support.smtp_sink", str(self.port), str(self.mail_dir)]
        )
        wait_until(lambda: port_open(self.port), "SMTP server", self.log)
        return self

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [
            parser.parsebytes(path.read_bytes())  # type: ignore[misc]
            for path in sorted(self.mail_dir.glob("*.eml"))
        ]

    def clear(self) -> None:
        for path in self.mail_dir.glob("*.eml"):
            path.unlink(missing_ok=True)

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool], timeout: float = 10.0
    ) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            if time.monotonic() > deadline:
                subjects = [(m["To"], m["Subject"]) for m in self.messages()]
                raise AssertionError(f"no matching mail within {timeout}s; got {subjects}")
            time.sleep(0.05)


def find_link(message: EmailMessage, startswith: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None, "mail has no text part"
    for url in re.findall(r"https?://\S+", body.get_content()):
        if url.startswith(startswith):
            return str(url)
    raise AssertionError(f"no link starting with {startswith!r} in the mail")


class OidcProvider(_Process):
    """oidc-provider-mock: a real OpenID Connect provider on 127.0.0.1."""

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OidcProvider:
        import requests

        self._spawn(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "oidc_provider_mock",
                "--port",
                str(self.port),
                "--host",
                "127.0.0.1",
                "--require-nonce",
                "true",
            ]
        )

        def ready() -> bool:
            url = f"{self.issuer}/.well-known/openid-configuration"
            return requests.get(url, timeout=1).status_code == 200

        wait_until(ready, "OIDC provider", self.log)
        return self

    def set_user(self, sub: str, claims: dict[str, object]) -> None:
        import requests

        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, session: Any, authorize_url: str, sub: str) -> str:
        """Submit the provider's sign-in form as `sub`; returns the redirect back to the client."""
        response = session.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code in (302, 303), response.text[:500]
        return str(response.headers["Location"])


class RedisServer(_Process):
    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self._spawn(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
        )
        wait_until(lambda: port_open(self.port), "Redis", self.log)
        return self
