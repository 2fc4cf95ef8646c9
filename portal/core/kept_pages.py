"""Pages kept for their reader: the HTML of a family page as drawn for one person, served again
by the express lane while nothing it shows can have changed.

Why: the plan page cost 11 ms of CPU to draw (~36 kB: the plan's four parts, the flower, goal
charts, four forms), the dossier list ~4 ms, where the floor of issue 4 is 0.3 ms; most views of
a family's pages see exactly what the view before them saw.

When a page is kept (`capture`, in the application): a plain GET of a keepable page (no query
string), answered 200 with HTML, that changed nothing (no data, no session: no message shown
once, no new token) and whose transaction committed. It is kept under everything its HTML
depends on besides the data: the page's path, the reader (user), the language, the host and
scheme (links), and the data's version (portal/core/data_version.py) read first in the same
transaction as everything the page shows. With it go the response's headers and the access-log
rows the view wrote. It is kept until the first moment the page could change with time alone:
the end of the day in the Netherlands (dates, "overdue", ages and with them rights), the next
moment a grant in the family starts, ends or was set to be revoked, and at most `MAX_SECONDS`.

When a kept page is served (the express lane, portal/core/express.py): the reader's session is
live (checked in the database), the version is still the same, the reader's language is the
same, no flash message waits in their session, and the policy, asked again now, decides every
access the view logged exactly as it did then (same action, object, role, basis and reason);
those rows are logged again, durably, before the page leaves. The session's own CSRF token goes
in the slots the kept HTML has in its place (portal/core/fragments.CSRF_SLOT): a token is never
kept. Anything else: the application draws the page (and keeps it, when it can).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic as time_now
from typing import Any

from flask import Flask, Response, g, request
from flask_babel import get_locale
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_host

from portal import db
from portal.access import audit
from portal.access.models import Grant
from portal.access.policy import decide
from portal.core import clock, data_version
from portal.core.express import (
    KEEP_OFFER,
    Answer,
    Lane,
    Visit,
    refuse_after_failed_log,
    transient,
)
from portal.core.fragments import CSRF_SLOT
from portal.core.i18n import choose_locale
from portal.core.recent import Recent
from portal.family.models import Family, Plan

MAX_PAGES = 512  # a page is 5-60 kB: ~30 MB at most per process
MAX_SECONDS = 60  # belt and braces: whatever a page might show that depends on the time

# The access-log row fields that must come out the same when the policy decides again: all
# but where the row stands in its chain, when, and from which address.
ROW_FIELDS = tuple(
    name
    for name in audit.FIELDS
    if name not in ("chain_key", "seq", "at", "client_address", "prev_hash")
)


@dataclass(frozen=True)
class KeptPage:
    html: str  # with CSRF slots instead of the token
    headers: tuple[tuple[str, str], ...]  # as the application answered
    rows: tuple[dict[str, Any], ...]  # the access-log rows the view wrote (ROW_FIELDS)
    until: datetime


def page_key(
    path: str, user_id: int, locale: str, host: str, scheme: str, version: int
) -> Hashable:
    return (path, user_id, locale, host, scheme, version)


class KeptPages:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self._pages: Recent[Hashable, KeptPage] = Recent(max_pages)

    def get(self, key: Hashable, now: datetime) -> KeptPage | None:
        page = self._pages.get(key)
        if page is None or page.until <= now:
            return None  # (one past its time is pushed out by newer ones)
        return page

    def put(self, key: Hashable, page: KeptPage) -> None:
        self._pages.put(key, page)


# --- the application's side: offering a page to keep ---------------------------------------


@dataclass(frozen=True)
class Offer:
    key: Hashable
    rows: tuple[dict[str, Any], ...]
    until: datetime
    csrf: str | None  # the token drawn into the page, to be replaced by the slot


def _next_grant_change(family_id: int, now: datetime) -> datetime | None:
    """The next moment a grant of the family starts, ends or is revoked by the clock alone."""
    found = db.session.execute(
        select(
            func.min(Grant.valid_from).filter(Grant.valid_from > now),
            func.min(Grant.expires_at).filter(Grant.expires_at > now),
            func.min(Grant.revoked_at).filter(Grant.revoked_at > now),
        ).where(Grant.family_id == family_id)
    ).one()
    moments = [moment for moment in found if moment is not None]
    return min(moments) if moments else None


def init_app(app: Flask, endpoints: frozenset[str]) -> None:
    """Let the views of `endpoints` offer their pages to keep (the lane keeps them)."""

    def version_first() -> None:
        # First, before anything the page shows is read (the signed-in user included): on
        # PostgreSQL each statement sees what was committed when it ran, so data read after
        # the version is at least as new as the version says.
        if (
            request.endpoint in endpoints
            and request.method == "GET"
            and not request.query_string
            and "Authorization" not in request.headers
        ):
            g.kept_version = data_version.current(db.session.connection())
            # What the page shows of time (the day, whose grant is running) is as of now, the
            # start of drawing: how long it may be kept is counted from here.
            g.kept_since = clock.now()

    hooks = app.before_request_funcs.setdefault(None, [])
    # First, but after the lane's refusal of a read it could not log (nothing is read then).
    hooks.insert(1 if hooks and hooks[0] is refuse_after_failed_log else 0, version_first)

    @app.after_request
    def offer(response: Response) -> Response:
        # (Registered after the commit hook, so it runs before it: the log rows are still
        # queued in the session.)
        version = g.pop("kept_version", None)
        offered = request.environ.get(KEEP_OFFER)
        if (
            version is None
            or offered is None  # (the lane did not ask: it is not there, or not for this)
            or response.status_code != 200
            or response.mimetype != "text/html"
            or not current_user.is_authenticated
        ):
            return response
        rows = tuple(
            {name: row[name] for name in ROW_FIELDS}
            for row in db.session.info.get(audit.PENDING, [])
        )
        if not rows:
            return response  # a page served again must log what it logged
        if data_version.current(db.session.connection()) != version:
            return response  # (its transaction began anew on the way: not one snapshot)
        now = g.pop("kept_since")
        family_id = (request.view_args or {}).get("family_id")
        moments = [clock.end_of_day(now), now + timedelta(seconds=MAX_SECONDS)]
        if isinstance(family_id, int):
            change = _next_grant_change(family_id, now)
            if change is not None:
                moments.append(change)
        key = page_key(
            request.path,
            current_user.id,
            str(get_locale()),
            request.host,
            request.scheme,
            version,
        )
        made = Offer(key, rows, min(moments), g.get("csrf_token"))

        def committed() -> None:
            # Only a page that changed nothing: the data it shows is the data of `version`.
            if not g.get(data_version.WROTE_IN_REQUEST):
                offered["offer"] = made

        db.after_commit(committed)
        return response


# --- the lane's side: keeping and serving -----------------------------------------------------


def _resource(row: dict[str, Any]) -> Any:
    """A stand-in for the object a kept page's log row is about, enough for decide()."""
    object_id = int(row["object_id"])
    if row["object_type"] == "family":
        return transient(Family, {"id": object_id})
    if row["object_type"] == "plan":
        return transient(Plan, {"id": object_id, "family_id": row["family_id"]})
    return None


# A session's CSRF token, signed, is good for as long as the session (WTF_CSRF_TIME_LIMIT is
# None): one signed in the last minute is served again rather than signing it for every page.
TOKEN_SECONDS = 60


class Tokens:
    def __init__(self, secret: str | bytes) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="wtf-csrf-token")
        self._signed: Recent[str, tuple[str, float]] = Recent(4096)

    def for_session(self, raw: str) -> str:
        """The session's CSRF token for a page, signed as Flask-WTF's generate_csrf signs it."""
        known = self._signed.get(raw)
        now = time_now()
        if known is not None and now - known[1] < TOKEN_SECONDS:
            return known[0]
        token = str(self._signer.dumps(raw))
        self._signed.put(raw, (token, now))
        return token


def install(lane: Lane, pages: dict[str, str]) -> KeptPages:
    """Keep and serve the pages at `pages` (path pattern -> endpoint) in the lane."""
    app = lane.app
    kept = KeptPages()
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    assert secret
    tokens = Tokens(secret)

    def keep(offer: Offer, headers: list[tuple[str, str]], body: bytes) -> None:
        if any(name.lower() == "set-cookie" for name, _value in headers):
            return  # the session changed (a message shown once, a new token): not this page
        html = body.decode()
        if offer.csrf:
            html = html.replace(offer.csrf, CSRF_SLOT)
        if CSRF_SLOT in html and not offer.csrf:
            return
        kept.put(
            offer.key,
            KeptPage(
                html,
                tuple(headers),  # (its Content-Length is set anew when served)
                offer.rows,
                offer.until,
            ),
        )

    def serve(visit: Visit, family_id: int) -> Answer | None:
        session, environ, user = visit.session, visit.environ, visit.actor.user
        if visit.version is None or user is None or "_flashes" in session:
            return None  # a message waits to be shown once: the application shows it
        locale = choose_locale(
            user.locale,
            session.get("locale"),
            parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept),
        )
        key = page_key(
            environ.get("PATH_INFO", ""),
            user.id,
            locale,
            get_host(environ),
            environ.get("wsgi.url_scheme", "http"),
            visit.version,
        )
        page = kept.get(key, clock.now())
        if page is None:
            return None
        for row in page.rows:
            resource = _resource(row)
            if resource is None or row["family_id"] != family_id:
                return None
            decision = decide(visit.actor, row["action"], resource)
            if not decision.allowed:
                return None
            before = len(visit.pending)
            visit.record(row["action"], decision, family_id, resource)
            now_row = visit.pending[before]
            if any(now_row[name] != row[name] for name in ROW_FIELDS):
                return None  # the policy decides otherwise now: the application answers
        html = page.html
        if CSRF_SLOT in html:
            raw = session.get("csrf_token")
            if not isinstance(raw, str):
                return None
            html = html.replace(CSRF_SLOT, tokens.for_session(raw))
        return Answer(html.encode(), "text/html", page.headers)

    for pattern, _endpoint in pages.items():
        lane.route(pattern)(serve)
        lane.keep_paths.append(re.compile(pattern))
    lane.keep = keep
    init_app(app, frozenset(pages.values()))
    app.extensions["portal_kept_pages"] = kept
    return kept
