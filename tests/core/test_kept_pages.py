"""Kept pages (portal/core/kept_pages.py): a page served again by the express lane is the page
the application draws (with the session's own token), logs what the application logs, and is
never served once anything it shows may have changed: data, the day, a grant's moment, the
reader's language or a message waiting for them; and the policy decides again every time."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import Client

from portal import db
from portal.access import policy
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.core import clock
from portal.core.kept_pages import MAX_SECONDS
from portal.family.models import ROLE_PARENT, Family, Member
from portal.family.services import add_plan_rows
from tests.core.test_express import cookie_of, lane_of
from tests.helpers import add_grant, csrf_from, post_form, sign_in

TOKEN = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+(")')
SAME = ("actor_user_id", "actor_role", "basis", "action", "object_type", "object_id", "reason")


def view(app: Flask, client: FlaskClient, path: str, **headers: str) -> tuple[Any, bool]:
    """GET as the client's browser would; (answer, whether the lane answered it)."""
    lane = lane_of(app)
    before = lane.answered
    answer = client.get(path, headers=headers)
    return answer, lane.answered == before + 1


def drawn(app: Flask, client: FlaskClient, path: str, **headers: str) -> Any:
    """The same GET answered by the application alone."""
    return Client(lane_of(app).wsgi_app, use_cookies=False).get(
        path, headers={"Cookie": cookie_of(client), **headers}
    )


def without_tokens(html: str) -> str:
    return TOKEN.sub(r"\1…\2", html)


def last_rows(app: Flask, n: int) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(n))
        found = [{name: getattr(row, name) for name in SAME} for row in rows]
        db.session.remove()
    return found[::-1]


@pytest.fixture
def family_page(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> dict[str, Any]:
    mother = make_user(name="Mama")
    family = make_family(mother)
    with app.app_context():
        add_plan_rows(db.session.get(Family, family.id))
        db.session.commit()
        db.session.remove()
    sign_in(client, mother)
    # Where sign-in leads: the first page after it also gives the new session its CSRF token
    # (a page that changes the session is never kept).
    assert client.get(f"/families/{family.id}").status_code == 200
    return {"family": family, "mother": mother, "client": client}


@pytest.mark.parametrize("page", ["plan", "dossier"])
def test_a_kept_page_is_the_page_the_application_draws(
    app: Flask, family_page: dict[str, Any], page: str
) -> None:
    client, fid = family_page["client"], family_page["family"].id
    path = f"/families/{fid}/{page}"
    first, served = view(app, client, path)
    assert first.status_code == 200 and not served, "the first view is drawn (and kept)"
    again, served = view(app, client, path)
    assert again.status_code == 200 and served, "the second is served from what was kept"
    fresh = drawn(app, client, path)
    assert without_tokens(again.get_data(as_text=True)) == without_tokens(
        fresh.get_data(as_text=True)
    )
    assert list(again.headers.items()) == list(fresh.headers.items())
    # Its own token, valid for this session.
    token = csrf_from(again.get_data(as_text=True))
    signed_out = client.post("/signout", data={"csrf_token": token})
    assert signed_out.status_code == 302, "the served page's token is accepted"
    # Logged as the application logs it: three views, the same row each time.
    rows = last_rows(app, 3)
    assert rows[0] == rows[1] == rows[2]
    assert rows[0]["action"] == f"{page}.view" and rows[0]["actor_role"]


def test_any_change_is_shown_at_once(app: Flask, family_page: dict[str, Any]) -> None:
    client, fid = family_page["client"], family_page["family"].id
    path = f"/families/{fid}/plan"
    view(app, client, path)
    assert view(app, client, path)[1]
    changed = post_form(
        client,
        f"/families/{fid}/plan/goals",
        {"title": "Samen eten op zondag", "owner": "family", "phase": "in_progress"},
        form_path=path,
    )
    assert changed.status_code in (302, 303)
    client.get(path)  # (the message shown once after the change)
    after, served = view(app, client, path)
    assert not served and "Samen eten op zondag" in after.get_data(as_text=True)
    # A change outside the plan (a member's name, in 'Wie doet het?') counts as much, also
    # when it is made outside any request.
    assert view(app, client, path)[1]
    with app.app_context():
        db.session.execute(
            update(Member).where(Member.family_id == fid).values(display_name="Mama Jansen")
        )
        db.session.commit()
        db.session.remove()
    renamed, served = view(app, client, path)
    assert not served and "Mama Jansen" in renamed.get_data(as_text=True)


def test_time_alone_ends_a_kept_page(app: Flask, family_page: dict[str, Any]) -> None:
    client, fid = family_page["client"], family_page["family"].id
    path = f"/families/{fid}/dossier"
    view(app, client, path)
    assert view(app, client, path)[1]
    clock.advance(timedelta(seconds=MAX_SECONDS + 1))
    assert not view(app, client, path)[1], "kept at most MAX_SECONDS"
    assert view(app, client, path)[1]
    now = clock.now()
    clock.advance(clock.end_of_day(now) - now)
    assert not view(app, client, path)[1], "not past midnight (dates, ages)"


def test_a_grant_that_starts_later_ends_the_kept_page_then(
    app: Flask, family_page: dict[str, Any], make_user: Callable[..., User]
) -> None:
    from portal.auth.models import KIND_PROFESSIONAL

    client, fid = family_page["client"], family_page["family"].id
    coach = make_user(name="Coach", kind=KIND_PROFESSIONAL)
    starts = clock.now() + timedelta(seconds=20)
    add_grant(app, fid, coach.id, {"plan": "read"}, valid_from=starts)
    path = f"/families/{fid}/plan"
    view(app, client, path)
    assert view(app, client, path)[1]
    clock.advance(timedelta(seconds=21))
    assert not view(app, client, path)[1], "drawn again when the grant starts"


def test_what_is_not_kept_or_served(
    app: Flask,
    family_page: dict[str, Any],
    make_user: Callable[..., User],
    add_member: Callable[..., Member],
) -> None:
    client, fid = family_page["client"], family_page["family"].id
    path = f"/families/{fid}/plan"
    view(app, client, path)
    assert view(app, client, path)[1]
    # The browser's language does not count for someone signed in (the account's does).
    assert view(app, client, path, **{"Accept-Language": "en"})[1]
    # Another language chosen: at once, in that language.
    switched = post_form(client, "/locale", {"locale": "en", "next": path}, form_path=path)
    assert switched.status_code == 302
    english, served = view(app, client, path)
    assert not served and "Family plan" in english.get_data(as_text=True)
    assert view(app, client, path)[1], "kept in English too"
    # A query string (another page of goals) is the application's.
    assert not view(app, client, path + "?goals=1")[1]
    # The other parent gets a page of their own, not the mother's.
    father = make_user(name="Papa")
    add_member(family_page["family"], father, ROLE_PARENT, has_authority=True)
    other = app.test_client()
    sign_in(other, father)
    other.get(f"/families/{fid}")  # (the new session's first page gives it its token)
    theirs, served = view(app, other, path)
    assert not served and theirs.status_code == 200
    assert view(app, other, path)[1], "kept for him, under his own name"
    assert not view(app, client, path)[1], "his sign-in changed data: hers is drawn again"
    assert view(app, client, path)[1]
    # A message shown once waits in the session: the application shows it (and drops it).
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Het doel is bewaard.")]
    flashed, served = view(app, client, path)
    assert not served and "Het doel is bewaard." in flashed.get_data(as_text=True)


def test_the_policy_decides_again_each_time(
    app: Flask, family_page: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, fid = family_page["client"], family_page["family"].id
    path = f"/families/{fid}/plan"
    view(app, client, path)
    assert view(app, client, path)[1]
    # Nothing in the data changes, but the rules do: the kept page is not served, and the
    # application refuses (with its own log row).
    monkeypatch.setitem(policy.RULES, "plan.view", frozenset({policy.YOUNG_16_17}))
    refused, served = view(app, client, path)
    assert not served and refused.status_code == 403
    assert last_rows(app, 1)[0]["reason"] == "role_not_allowed"
