"""Edges of the express lane and kept pages that a review found (each failed before its fix):
what a client sends that the lane cannot read goes on to the application, a page is kept only
as long as what it shows of time holds from when it was drawn, and a read whose log write
failed is not answered — nor logged — a second time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import Client

from portal import db
from portal.access import audit_commit
from portal.access.models import AuditEvent
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import Agreement, DossierEntry, Family
from portal.family.services import add_plan_rows
from tests.api.client import is_problem
from tests.conftest import backend
from tests.core.test_express import cookie_of, lane_of, world, write  # noqa: F401
from tests.core.test_kept_pages import family_page, view  # noqa: F401
from tests.helpers import add_grant, sign_in


class AsInProduction:
    """The lane as in production: its own errors send the request on to the application."""

    def __init__(self, app: Flask) -> None:
        self.lane = lane_of(app)

    def __enter__(self) -> None:
        self.lane.testing = False

    def __exit__(self, *_exc: object) -> None:
        self.lane.testing = True


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/families/{big}/dossier/1",
        "/api/v1/families/1/dossier/{big}",
        "/families/{big}/plan",
    ],
)
def test_an_id_of_thousands_of_digits_is_the_applications_404(app: Flask, path: str) -> None:
    url = path.format(big="1" * 4301)  # (int() refuses more than 4,300 digits)
    alone = Client(lane_of(app).wsgi_app).get(url)
    assert alone.status_code == 404
    assert Client(app).get(url).status_code == 404  # (testing: a lane error would raise)


@pytest.mark.parametrize("path", ["/api/v1/families/1/dossier/1", "/families/1/plan"])
def test_a_cookie_header_that_is_no_text_is_the_applications(app: Flask, path: str) -> None:
    cookie = "portal_session=\xff\xfe"  # (WSGI headers are latin-1 strings)
    alone = Client(lane_of(app).wsgi_app, use_cookies=False).get(
        path, environ_overrides={"HTTP_COOKIE": cookie}
    )
    through = Client(app, use_cookies=False).get(path, environ_overrides={"HTTP_COOKIE": cookie})
    assert alone.status_code in (302, 401)  # not signed in
    assert through.status_code == alone.status_code


def _slow_drawing(monkeypatch: pytest.MonkeyPatch, module: Any, seconds: float) -> None:
    """The view takes `seconds` to draw (the clock moves on while it does)."""
    real = module.render_template

    def slow(*args: Any, **kwargs: Any) -> Any:
        html = real(*args, **kwargs)
        clock.advance(timedelta(seconds=seconds))
        return html

    monkeypatch.setattr(module, "render_template", slow)


def test_a_grant_that_ends_while_the_page_is_drawn_ends_the_kept_page(
    app: Flask,
    family_page: dict[str, Any],  # noqa: F811
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import portal.family.dossier_views as dossier_views

    client, fid = family_page["client"], family_page["family"].id
    coach = make_user(name="Coach", kind=KIND_PROFESSIONAL)
    # The coach's access ends while the page is drawn.
    add_grant(
        app, fid, coach.id, {"dossier": "write"}, expires_at=clock.now() + timedelta(seconds=1)
    )
    with app.app_context():
        db.session.add(
            DossierEntry(
                family_id=fid,
                author_id=coach.id,
                author_name="Coach",
                author_kind="guest",
                title="Verslag",
                body="Tekst",
                visibility="all",
            )
        )
        db.session.commit()
        db.session.remove()
    path = f"/families/{fid}/dossier"
    _slow_drawing(monkeypatch, dossier_views, 2)
    first, served = view(app, client, path)
    assert not served and ">gast<" in first.get_data(as_text=True)  # drawn while active
    monkeypatch.undo()
    clock.advance(timedelta(seconds=30))
    again, served = view(app, client, path)
    assert not served, "the coach's access ended: the page is drawn again"
    assert ">oud-gast<" in again.get_data(as_text=True)


def test_a_page_drawn_across_midnight_is_not_served_after_it(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import portal.family.plan_views as plan_views

    clock.freeze(clock.end_of_day(clock.now()) - timedelta(seconds=10))
    mother = make_user(name="Mama")
    family = make_family(mother)
    with app.app_context():
        add_plan_rows(db.session.get(Family, family.id))
        db.session.add(
            Agreement(
                family_id=family.id,
                what="Kamer opruimen",
                owner_name="Mama",
                created_by_name="Mama",
                due_on=clock.today(),  # due today: not late yet
            )
        )
        db.session.commit()
        db.session.remove()
    sign_in(client, mother)
    assert client.get(f"/families/{family.id}").status_code == 200
    clock.advance(timedelta(seconds=9, milliseconds=500))  # 23:59:59.5
    path = f"/families/{family.id}/plan"
    _slow_drawing(monkeypatch, plan_views, 1)  # drawn across midnight
    first, served = view(app, client, path)
    assert not served and "Kamer opruimen" in first.get_data(as_text=True)
    assert "te laat" not in first.get_data(as_text=True)
    monkeypatch.undo()
    clock.advance(timedelta(seconds=20))
    again, served = view(app, client, path)
    assert not served and "te laat" in again.get_data(as_text=True)


def test_a_read_whose_log_write_failed_is_not_answered_or_logged_again(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fid, papa = world["family"].id, world["papa"]
    entry = write(world["mama"], fid, "Eén")
    group = audit_commit.for_engine(app.extensions["portal_engine"])
    if backend() == "postgresql":
        assert group is None
        from portal.access import audit

        real: Any = audit.link_and_insert

        def commit_then_fail(conn: Any, rows: Any) -> None:
            real(conn, rows)
            raise RuntimeError("connection lost at commit")

        monkeypatch.setattr(audit, "link_and_insert", commit_then_fail)
    else:
        assert group is not None

        def sync_fails() -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(group, "_failed", None)  # (undone below: a restarted process)
        monkeypatch.setattr(group, "_sync", sync_fails)

    def rows() -> int:
        with app.app_context():
            found = db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "dossier.view", AuditEvent.object_id == str(entry))
            )
            db.session.remove()
        return int(found or 0)

    before = rows()
    with AsInProduction(app):
        answer = Client(app, use_cookies=False).get(
            f"/api/v1/families/{fid}/dossier/{entry}", headers={"Cookie": cookie_of(papa.client)}
        )
    assert is_problem(answer, 503), answer.status_code
    assert "Eén" not in answer.get_data(as_text=True)
    # SQLite: the lane's row is in the log (committed; its sync failed). PostgreSQL: the
    # transaction was rolled back. Either way the application did not log the read again.
    in_log = 1 if group is not None else 0
    assert rows() == before + in_log
    monkeypatch.undo()
    assert papa.get(f"/families/{fid}/dossier/{entry}").status_code == 200
    assert rows() == before + in_log + 1
