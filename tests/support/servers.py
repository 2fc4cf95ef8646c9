"""Real server processes for tests: PostgreSQL, an SMTP sink, an OpenID Connect provider, Redis.

Each class starts its server on a free port on 127.0.0.1 with start() (or `with`), waits until
it answers (failing after START_TIMEOUT with the tail of the server's log), and on stop() kills
the process and removes its temp folder.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self, cast
from urllib.parse import quote

if TYPE_CHECKING:
    import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


def free_port() -> int:
    """A port that is free right now (another process could still grab it before we bind)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def log_tail(log: Path | None, size: int = 3000) -> str:
    if log is None or not log.exists():
        return "(no log)"
    return log.read_text(errors="replace")[-size:]


def wait_until(
    check: Callable[[], bool],
    what: str,
    log: Path | None = None,
    timeout: float = START_TIMEOUT,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll check() (exceptions count as "not yet") until it is true; fail fast if process dies."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {process.returncode} while starting\n{log_tail(log)}"
            )
        with contextlib.suppress(Exception):
            if check():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout}s\n{log_tail(log)}")
        time.sleep(0.05)


class _Server:
    """A server with a temp folder and a log file; subclasses implement _start()."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"portal-{type(self).__name__.lower()}-"))
        self.log = self.folder / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _start(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        # Safety net: a test run that dies without calling stop() must not leave servers behind.
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, args: list[str], env: Mapping[str, str] | None = None) -> None:
        # The child keeps its own copy of the log descriptor, so ours can be closed right away.
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
            )

    def _wait(self, check: Callable[[], bool], what: str) -> None:
        wait_until(check, what, self.log, process=self.process)

    def _alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PostgresServer(_Server):
    """A throw-away PostgreSQL cluster with a `portal_test` database.

    PostgreSQL refuses to run as root, so when we are root its tools run as the postgres user.
    Tests run it without fsync; `durable=True` (the benchmarks) keeps PostgreSQL's defaults.
    """

    def __init__(self, durable: bool = False) -> None:
        super().__init__()
        self.durable = durable
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)
        if not candidates:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)")
        self.bin = Path(candidates[-1])
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return self.database_url("portal_test")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, check=False, timeout=60
        )

    def _initdb(self) -> None:
        base = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        base.append("--encoding=UTF8")
        result = self._run(*base, "--locale=C.UTF-8")
        if result.returncode != 0:
            # Older or minimal systems lack the C.UTF-8 locale; plain C is fine for tests.
            shutil.rmtree(self.data, ignore_errors=True)
            result = self._run(*base, "--locale=C")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def _start(self) -> None:
        self.sockets.mkdir()
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._initdb()
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c max_connections=200"
        )
        if not self.durable:
            # Durability is pointless for a throw-away cluster; these make it much faster.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        pg_ctl = str(self.bin / "pg_ctl")
        timeout = str(int(START_TIMEOUT))
        data, log = str(self.data), str(self.log)
        result = self._run(
            pg_ctl, "-D", data, "-l", log, "-o", options, "-w", "-t", timeout, "start"
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL did not start within {timeout}s:\n{result.stdout}{result.stderr}\n"
                f"{log_tail(self.log)}"
            )
        self.create_database("portal_test")

    def connect_args(self, dbname: str = "postgres") -> str:
        """A libpq connection string for psycopg.connect()."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=5"

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.connect_args(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            # Immediate shutdown: no checkpoint, the cluster is deleted right after anyway.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        super().stop()


def _version_key(path: str) -> tuple[int, ...]:
    # Sort /usr/lib/postgresql/9.6 < 15 < 16 numerically, not as text.
    return tuple(int(part) for part in re.findall(r"\d+", path))


class SmtpServer(_Server):
    """aiosmtpd in its own process (tests/support/smtp_sink.py); each message lands as a file."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        super().__init__()
        self.mail_dir = self.folder / "mail"

    def _start(self) -> None:
        self._spawn(
            [sys.executable, "-m", "tests.support.smtp_sink", str(self.port), str(self.mail_dir)]
        )
        # "ready" proves our process bound the port (not some stranger answering on it).
        self._wait(lambda: b"ready" in self.log.read_bytes(), "SMTP sink")

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, in arrival order."""
        parser = BytesParser(policy=policy.default)
        found: list[EmailMessage] = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            with contextlib.suppress(FileNotFoundError):  # removed by a concurrent clear()
                found.append(cast(EmailMessage, parser.parsebytes(path.read_bytes())))
        return found

    def clear(self) -> None:
        for path in self.mail_dir.glob("*.eml"):
            path.unlink(missing_ok=True)

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool], timeout: float = 10.0
    ) -> EmailMessage:
        """The first message matching predicate, polling until it arrives."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            if not self._alive():
                raise AssertionError(f"the SMTP sink is not running\n{log_tail(self.log)}")
            if time.monotonic() > deadline:
                seen = [(str(m["To"]), str(m["Subject"])) for m in self.messages()]
                raise AssertionError(
                    f"no matching mail within {timeout}s; (To, Subject) seen: {seen}"
                )
            time.sleep(0.05)


_URL = re.compile(r"https?://[^\s<>\"']+")


def find_link(message: EmailMessage, startswith: str) -> str:
    """The first URL in the plain-text body that starts with `startswith`."""
    body = message.get_body(("plain",))
    assert body is not None, "mail has no text/plain part"
    urls = [url.rstrip(".,;:!?)]") for url in _URL.findall(cast(EmailMessage, body).get_content())]
    for url in urls:
        if url.startswith(startswith):
            return url
    raise AssertionError(f"no link starting with {startswith!r} in the mail; links: {urls}")


class OidcProvider(_Server):
    """oidc-provider-mock: a real OpenID Connect provider.

    Any client_id/secret/redirect_uri is accepted. Users live in the process's memory: set
    their claims with set_user() (or `users=`); an unknown sub gets just {"email": sub}.
    """

    def __init__(
        self,
        *,
        require_nonce: bool = True,
        users: Mapping[str, Mapping[str, object]] | None = None,
    ) -> None:
        super().__init__()
        self.require_nonce = require_nonce
        self.users = dict(users or {})

    @property
    def issuer(self) -> str:
        # The provider derives its issuer from the request's Host header, so clients must use
        # exactly this address (not "localhost") or the ID token's iss will not match.
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        import requests

        args = [sys.executable, "-W", "ignore", "-m", "oidc_provider_mock"]
        args += ["--port", str(self.port), "--host", "127.0.0.1"]
        args += ["--require-nonce", str(self.require_nonce).lower()]
        for sub, claims in self.users.items():
            args += ["--user-claims", json.dumps({**claims, "sub": sub})]
        self._spawn(args, env={"NO_COLOR": "1"})

        def ready() -> bool:
            url = f"{self.issuer}/.well-known/openid-configuration"
            with requests.get(url, timeout=1) as response:
                return response.status_code == 200

        self._wait(ready, "OIDC provider")

    def set_user(self, sub: str, claims: Mapping[str, object]) -> None:
        """Replace the claims of `sub`. Standard claims only reach the client for their scope
        (email needs scope `email`, name needs `profile`); custom claims always do."""
        import requests

        url = f"{self.issuer}/users/{quote(sub, safe='')}"
        body = json.dumps(dict(claims))
        headers = {"Content-Type": "application/json"}
        with requests.put(url, data=body, headers=headers, timeout=5) as response:
            response.raise_for_status()

    def authorize(
        self,
        session: requests.Session,
        authorize_url: str,
        sub: str,
        claims: Mapping[str, object] | None = None,
    ) -> str:
        """Submit the provider's sign-in form as `sub`; returns the redirect back to the client.

        The form is a POST of `sub` to the authorize URL itself, query string included.
        """
        if claims is not None:
            self.set_user(sub, claims)
        return self._submit(session, authorize_url, {"sub": sub})

    def deny(self, session: requests.Session, authorize_url: str) -> str:
        """Press "Deny" on the provider's form; returns the error redirect back to the client."""
        return self._submit(session, authorize_url, {"action": "deny"})

    @staticmethod
    def _submit(session: requests.Session, authorize_url: str, form: dict[str, str]) -> str:
        with session.post(authorize_url, data=form, allow_redirects=False, timeout=5) as response:
            if response.status_code not in (302, 303):
                raise AssertionError(
                    f"provider answered {response.status_code}, not a redirect:\n"
                    f"{response.text[:1000]}"
                )
            return str(response.headers["Location"])


class RedisServer(_Server):
    """A private redis-server with persistence off."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _start(self) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.folder)]
        self._spawn(args)

        def ready() -> bool:
            # No retries: redis-py's default backoff would stretch one failed poll to seconds.
            no_retry = Retry(NoBackoff(), 0)
            client = redis.Redis("127.0.0.1", self.port, socket_timeout=1, retry=no_retry)
            with client:
                return bool(client.ping())

        self._wait(ready, "Redis")


__all__ = [
    "START_TIMEOUT",
    "OidcProvider",
    "PostgresServer",
    "RedisServer",
    "SmtpServer",
    "find_link",
    "free_port",
    "log_tail",
    "port_open",
    "wait_until",
]
