"""The express lane: a few hot reads answered without Flask's request machinery, through the
same policy, into the same audit log, with the same answer.

Why: a signed-in API read of one dossier entry cost 2.2 ms of CPU in-process, 6.4 times the
floor of issue 4 (a bare Flask endpoint loading one row through the ORM, 0.34 ms): Flask-Login
loading the user through the ORM, the family and membership through the ORM, the entry, its
files and earlier versions through the ORM (each ORM query ~0.2 ms against ~0.05 ms for the same
statement through SQLAlchemy Core), the request hooks, and the audit row's write transaction.

The lane is WSGI middleware in front of the application. It answers a registered GET path
itself only when everything is ordinary: a session cookie that signs a live server-side session
(no bearer token), no query string, a family member (guests, and professionals who still
have to set up their second factor, go on to the application), an object that exists and that
`decide()` lets this person read. It reads Core statements in one read transaction (on
SQLite on the driver's own connection, each statement prepared once: portal/core/prepared.py),
decides with the policy's own `decide()` (with the membership read in its one statement, as
`load_family` preloads it), builds the answer, and only then writes its audit row through the
same chain code (`audit.link_and_insert` in the same transaction; on SQLite with the other
reads' rows of the moment: portal/access/audit_commit.py); the answer leaves after that
commit, as every request's does. Anything else goes on to the application untouched, which
answers and logs it as it always did: the lane writes nothing before it is sure to answer. Its
answers are compared with the application's, byte for byte, in tests/core/test_express.py.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from flask import Flask, abort, request
from flask_babel import gettext as _
from itsdangerous import BadSignature
from sqlalchemy import Connection, Select, Table, and_, bindparam, select
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import class_mapper
from werkzeug.http import parse_cookie

from portal import db
from portal.access import audit, audit_commit
from portal.access.guard import audit_values
from portal.access.policy import Actor, Decision
from portal.auth.login import must_enrol_second_factor
from portal.auth.models import User, UserSession
from portal.auth.services import LIVE_SESSION
from portal.core import clock, data_version
from portal.core.args import MAX_ID
from portal.core.prepared import prepared
from portal.core.recent import Recent
from portal.core.security import headers_for
from portal.core.tokens import token_hash
from portal.family.models import Family, Member

log = logging.getLogger(__name__)

Start = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], Start], Iterable[bytes]]


@dataclass
class Answer:
    """What a handler answers (status 200): the body and its type, and the headers when the
    handler has them all (a kept page: as the application answered); else the lane's own."""

    body: bytes
    mimetype: str
    headers: tuple[tuple[str, str], ...] | None = None


Rows = Sequence[Mapping[str, Any]]


class Reads(Protocol):
    """A visit's reads: Core statements in one read transaction, rows as mappings."""

    def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> Rows: ...


@dataclass
class CoreReads:
    """On a SQLAlchemy connection (PostgreSQL; SQLite in memory): the log row is then written
    in the same transaction."""

    conn: Connection

    def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> Rows:
        return [
            cast(Mapping[str, Any], row._mapping) for row in self.conn.execute(statement, values)
        ]


@dataclass
class DriverReads:
    """On SQLite's own connection, each statement prepared once (portal/core/prepared.py): a
    fifth of the CPU. The log row goes in through the group commit afterwards."""

    driver: Any
    dialect: Dialect

    def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> Rows:
        return prepared(statement, self.dialect).rows(self.driver, values)


@dataclass
class Visit:
    """One request in the lane: who asks (read from the session cookie and the database), on
    which connection, and the audit rows to write before answering."""

    lane: Lane
    reads: Reads
    actor: Actor
    environ: dict[str, Any]
    session: dict[str, Any]  # the signed session cookie's contents
    version: int | None  # the data's version (portal/core/data_version.py), read with the rest
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def address(self) -> str | None:
        return self.actor.address

    def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> Rows:
        """The statement's rows, in this visit's one read transaction."""
        return self.reads.rows(statement, values)

    def json(self, body: Any) -> Answer:
        """As Flask's jsonify writes it (sorted keys, compact, a newline at the end)."""
        text = self.lane.app.json.dumps(body, separators=(",", ":"))
        return Answer(f"{text}\n".encode(), self.lane.app.json.mimetype)  # type: ignore[attr-defined]

    def record(self, action: str, decision: Decision, family_id: int, obj: Any) -> None:
        """The row guard.authorize() logs for an allowed access, for this request."""
        values = audit_values(
            self.actor,
            action,
            decision,
            family_id=family_id,
            object_type=type(obj).__name__.lower(),
            object_id=str(obj.id),
        )
        self.pending.append(audit.row(**values))


T = TypeVar("T")


def transient(model: type[T], values: Mapping[str, Any]) -> T:
    """An object of `model` holding `values`, for reading only (the policy, the JSON): made
    without its constructor, whose per-attribute events cost ~5 µs a column, and in no session."""
    instance = cast(T, class_mapper(model).class_manager.new_instance())
    instance.__dict__.update(values)
    return instance


def column_names(model: type) -> tuple[str, ...]:
    """The names of the model's columns, which are also its attribute names: `transient`
    fills the attributes from a row keyed by column names."""
    names = []
    for prop in class_mapper(model).column_attrs:
        if prop.key != prop.columns[0].name:
            raise TypeError(f"{model.__name__}.{prop.key} is column {prop.columns[0].name}")
        names.append(prop.key)
    return tuple(names)


class LogFailed(Exception):
    """The lane's access-log write failed after it began: the rows may be in the log."""


# Set in the environ when the lane's log write failed; the application then answers 503
# without looking at (or logging) anything.
LOG_FAILED = "portal.express_log_failed"


# A dict the lane puts in the environ of a request whose answer it may keep; the application
# puts its offer in it (kept_pages.offer). (A dict, not a key of the environ itself: the
# Socket.IO middleware in between hands the application a copy of the environ.)
KEEP_OFFER = "portal.keep_offer"


# A handler gets the visit and the ids from its path; it returns an Answer, or None to let the
# application answer (it must not have written anything then: the lane has not either).
Handler = Callable[..., Answer | None]


_users = cast(Table, User.__table__)
_members = cast(Table, Member.__table__)
_sessions = cast(Table, UserSession.__table__)
_families = cast(Table, Family.__table__)
_MEMBER_PREFIX = "m_"

# Who asks, in one statement: the live session's user (the conditions Flask-Login's loader
# uses: services.LIVE_SESSION), and their membership of the family in the path (the conditions
# of the policy's own membership query: not removed), or no row when the family does not exist.
_VISITOR = (
    select(
        _users,
        _sessions.c.method.label("signin_method"),
        *[column.label(_MEMBER_PREFIX + column.name) for column in _members.c],
    )
    .select_from(_sessions)
    .join(_users, _users.c.id == _sessions.c.user_id)
    .join(_families, _families.c.id == bindparam("family_id"))
    .outerjoin(
        _members,
        and_(
            _members.c.family_id == _families.c.id,
            _members.c.user_id == _users.c.id,
            _members.c.removed_at.is_(None),
        ),
    )
    .where(LIVE_SESSION)
    .limit(1)
    .add_columns(data_version.CURRENT.label("data_version"))
)
_USER_COLUMNS = column_names(User)
_MEMBER_COLUMNS = column_names(Member)


class Lane:
    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.engine: Engine = app.extensions["portal_engine"]
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        self.max_age = int(app.permanent_session_lifetime.total_seconds())
        self.https = app.config["PORTAL_SETTINGS"].is_https
        self.routes: list[tuple[re.Pattern[str], Handler]] = []
        # Paths whose answers from the application may be kept (portal/core/kept_pages.py),
        # and what keeps them.
        self.keep_paths: list[re.Pattern[str]] = []
        self.keep: Callable[[Any, list[tuple[str, str]], bytes], None] | None = None
        self._serializer: Any = None
        self._cookies: Recent[str, tuple[dict[str, Any], float]] = Recent(4096)
        self.testing = bool(app.testing)
        # How many requests the lane answered itself and how many it passed on (tests, bench).
        self.answered = 0
        self.passed = 0
        # Given every statement its reads run on SQLite's driver (bench.common.count_queries),
        # where SQLAlchemy's events do not see them.
        self.trace: Callable[[str], None] | None = None

    def route(self, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for paths matching `pattern`; its groups are ids (digits)."""

        def register(handler: Handler) -> Handler:
            self.routes.append((re.compile(pattern), handler))
            return handler

        return register

    def __call__(self, environ: dict[str, Any], start_response: Start) -> Iterable[bytes]:
        answer = self._answer(environ)
        if answer is None:
            self.passed += 1
            if self.keep is not None and self._keepable(environ):
                return self._pass_and_keep(environ, start_response)
            return self.wsgi_app(environ, start_response)
        self.answered += 1
        if answer.headers is not None:
            length = str(len(answer.body))
            headers = [
                (name, length if name.lower() == "content-length" else value)
                for name, value in answer.headers
            ]
        else:
            headers = [
                ("Content-Type", answer.mimetype),
                ("Content-Length", str(len(answer.body))),
                *headers_for(answer.mimetype, self.https),
                # Flask says so on every answer that read the session cookie.
                ("Vary", "Cookie"),
            ]
        start_response("200 OK", headers)
        return [answer.body]

    def _keepable(self, environ: dict[str, Any]) -> bool:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return False
        path = environ.get("PATH_INFO", "")
        return any(pattern.fullmatch(path) for pattern in self.keep_paths)

    def _pass_and_keep(self, environ: dict[str, Any], start_response: Start) -> Iterable[bytes]:
        """The application answers; what it offers to keep (kept_pages) is kept."""
        seen: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, *exc_info)

        offered: dict[str, Any] = {}
        environ[KEEP_OFFER] = offered
        body = self.wsgi_app(environ, remember)
        if "offer" not in offered or seen.get("status") != "200 OK":
            return body
        try:
            content = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        assert self.keep is not None
        self.keep(offered["offer"], seen["headers"], content)
        return [content]

    def _answer(self, environ: dict[str, Any]) -> Answer | None:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or "HTTP_AUTHORIZATION" in environ  # a bearer token: the application's API guard
        ):
            return None
        path = environ.get("PATH_INFO", "")
        try:
            return self._read(environ, path)
        except LogFailed:
            # The access may be in the log already: the application must not answer it (and
            # log it) a second time. It answers 503 instead (refuse_after_failed_log).
            log.exception("express lane could not log a read on %s", path)
            environ[LOG_FAILED] = True
            return None
        except Exception:
            if self.testing:
                raise
            # Nothing was logged or committed (the log is the last step): the application
            # answers this request as if the lane were not there, and logs it.
            log.exception("express lane failed on %s; the application answers", path)
            return None

    def _read(self, environ: dict[str, Any], path: str) -> Answer | None:
        found = self._route(path)
        if found is None:
            return None
        handler, match = found
        # (Ten digits hold every id a row can have: MAX_ID; a longer number is the application's
        # 404, and int() refuses thousands of digits.)
        if not all(len(group) <= 10 for group in match.groups()):
            return None
        ids = [int(group) for group in match.groups()]
        if not all(0 < value < MAX_ID for value in ids):
            return None
        session = self._session(environ)
        token = session.get("_user_id") if session is not None else None
        if session is None or not isinstance(token, str) or not token:
            return None
        return self._visit(environ, session, token, handler, ids)

    def _route(self, path: str) -> tuple[Handler, re.Match[str]] | None:
        for pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is not None:
                return handler, match
        return None

    def _session(self, environ: dict[str, Any]) -> dict[str, Any] | None:
        """The signed session cookie's contents, as Flask (open_session) reads them (its
        `_user_id` is the server-side session's token, as Flask-Login reads it); None when
        there is none or its signature does not hold."""
        try:
            raw = parse_cookie(environ).get(self.cookie_name)
        except UnicodeDecodeError:
            return None  # (bytes that are no text: not our cookie; the application decides)
        if not raw:
            return None
        if self._serializer is None:
            self._serializer = self.app.session_interface.get_signing_serializer(  # type: ignore[attr-defined]
                self.app
            )
        # The same cookie comes back with every request of a session: its signature is checked
        # once, its age every time (as itsdangerous checks it: not older than max_age).
        known = self._cookies.get(raw)
        if known is not None:
            data, signed_at = known
            age = time.time() - signed_at
            return data if 0 <= age <= self.max_age else None
        try:
            data, signed = self._serializer.loads(raw, max_age=self.max_age, return_timestamp=True)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        self._cookies.put(raw, (data, signed.timestamp()))
        return data

    def _visit(
        self,
        environ: dict[str, Any],
        session: dict[str, Any],
        token: str,
        handler: Handler,
        ids: list[int],
    ) -> Answer | None:
        group = audit_commit.for_engine(self.engine)
        if group is None:
            # The reads and the log row in one Core transaction (as the application's).
            with db.reading(), self.engine.connect() as conn:
                found = self._visit_with(CoreReads(conn), environ, session, token, handler, ids)
                if found is None:
                    conn.rollback()
                    return None
                answer, pending = found
                try:
                    db.take_write_lock_on(conn)
                    audit.link_and_insert(conn, pending)
                    conn.commit()
                except Exception as exc:
                    raise LogFailed from exc
            return answer
        # SQLite: the reads in one read transaction on the driver's connection; the log row
        # with the other reads' rows of this moment (audit_commit).
        connection = self.engine.raw_connection()
        driver: Any = connection.driver_connection
        trace = self.trace
        try:
            if trace is not None:
                driver.set_trace_callback(trace)
            driver.execute("BEGIN")
            reads = DriverReads(driver, self.engine.dialect)
            found = self._visit_with(reads, environ, session, token, handler, ids)
        finally:
            try:
                if driver.in_transaction:
                    driver.execute("ROLLBACK")  # (it read only: nothing to keep)
                if trace is not None:
                    driver.set_trace_callback(None)
            finally:
                connection.close()  # (back to the pool)
        if found is None:
            return None
        answer, pending = found
        try:
            group.write(pending)
        except Exception as exc:
            raise LogFailed from exc
        return answer

    def _visit_with(
        self,
        reads: Reads,
        environ: dict[str, Any],
        session: dict[str, Any],
        token: str,
        handler: Handler,
        ids: list[int],
    ) -> tuple[Answer, list[dict[str, Any]]] | None:
        """The handler's answer for who asks, with the rows to log; None when the application
        answers. Nothing is written here."""
        family_id = ids[0]
        params = {"family_id": family_id, "token_hash": token_hash(token), "now": clock.now()}
        visitor = reads.rows(_VISITOR, params)
        if not visitor or visitor[0][_MEMBER_PREFIX + "id"] is None:
            return None  # not signed in, no such family, or a guest: the application
        values = visitor[0]
        user = transient(User, {name: values[name] for name in _USER_COLUMNS})
        method = values["signin_method"]
        if must_enrol_second_factor(user, method):
            return None  # the application asks them to set up their second factor first
        user.session_token = token
        user.signin_method = method
        member = transient(
            Member, {name: values[_MEMBER_PREFIX + name] for name in _MEMBER_COLUMNS}
        )
        actor = Actor(user=user, address=environ.get("REMOTE_ADDR"))
        actor.preload(family_id, member)
        visit = Visit(self, reads, actor, environ, session, values["data_version"])
        answer = handler(visit, *ids)
        if answer is None:
            return None
        if not visit.pending:
            raise RuntimeError(f"{handler.__name__} answered without an audit row")
        # Answered only once the access is in the log, as every request is (guard).
        return answer, visit.pending


def refuse_after_failed_log() -> None:
    """First of the application's hooks: a read the lane could not log is not answered."""
    if request.environ.get(LOG_FAILED):
        abort(
            503,
            description=_("Het lukte niet om dit veilig vast te leggen. Probeer het zo opnieuw."),
        )


def install(app: Flask, handlers: Callable[[Lane], None]) -> Lane:
    """Put the lane in front of the application, with the handlers `handlers` registers."""
    lane = Lane(app, app.wsgi_app)
    handlers(lane)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_after_failed_log)
    app.wsgi_app = lane  # type: ignore[method-assign]
    app.extensions["portal_express"] = lane
    return lane
