"""The express lane (portal/core/express.py): the hot reads it answers are answered exactly as
the application answers them (body, headers, audit row), through the same policy; everything
unusual goes on to the application; and a refusal never comes from the lane."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import Client

from portal import db
from portal.access import audit
from portal.access.models import AuditEvent
from portal.auth.models import KIND_PROFESSIONAL, User, UserSession
from portal.core import clock
from portal.core.express import Lane
from portal.core.kept_pages import ROW_FIELDS
from portal.family.models import DossierEntry, Family, Member
from tests.api.client import Api, is_problem, signed_in_api
from tests.family.test_dossier import world  # noqa: F401  (the same people and coach)
from tests.files import samples

# The audit row's fields that must be the same whichever way the read went.
SAME = (*ROW_FIELDS, "client_address")


def lane_of(app: Flask) -> Lane:
    lane = app.extensions["portal_express"]
    assert isinstance(lane, Lane)
    return lane


def last_rows(app: Flask, n: int) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(n))
        found = [{name: getattr(row, name) for name in SAME} for row in rows]
        db.session.remove()
    return found[::-1]


def cookie_of(client: FlaskClient) -> str:
    return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def both_ways(app: Flask, api: Api, path: str) -> tuple[Any, Any, int]:
    """The same GET through the lane and through the application alone (the lane's inner
    WSGI app), with the same cookie; returns both answers and how many the lane answered."""
    lane = lane_of(app)
    answered = lane.answered
    headers = {"Cookie": cookie_of(api.client)}
    through_lane = Client(app, use_cookies=False).get(f"/api/v1{path}", headers=headers)
    without = Client(lane.wsgi_app, use_cookies=False).get(f"/api/v1{path}", headers=headers)
    return through_lane, without, lane.answered - answered


def write(api: Api, fid: int, title: str, visibility: str = "all", **extra: Any) -> int:
    response = api.post(
        f"/families/{fid}/dossier",
        {"title": title, "body": f"**{title}** en meer", "visibility": visibility, **extra},
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def test_the_lane_answers_an_entry_as_the_application_does(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid = world["family"].id
    mama, papa, sanne = world["mama"], world["papa"], world["sanne"]
    uploaded = mama.call(
        "POST",
        f"/families/{fid}/files",
        data={"purpose": "dossier", "file": (io.BytesIO(samples.pdf()), "verslag.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    with_file = write(mama, fid, "Verslag", "family", attachments=[uploaded.get_json()["id"]])
    # Sanne (16) writes one for everyone, then keeps a later version from her parents: the
    # earlier versions keep their own visibility.
    changed = write(sanne, fid, "Mijn verhaal", "all")
    edited = sanne.patch(
        f"/families/{fid}/dossier/{changed}",
        {"version": 1, "body": "Nu niet voor papa en mama", "visibility": "no_parents"},
    )
    assert edited.status_code == 200, edited.get_json()
    again = sanne.patch(
        f"/families/{fid}/dossier/{changed}",
        {"version": 2, "body": "Toch weer voor iedereen", "visibility": "all"},
    )
    assert again.status_code == 200, again.get_json()
    plain = write(papa, fid, "Rapport <script>alert(1)</script> school", "all")
    cases = [
        (papa, with_file),  # an attachment
        (papa, plain),
        (papa, changed),  # earlier versions, one of them kept from him
        (sanne, changed),  # all earlier versions (hers)
        (mama, plain),
    ]
    for api, entry_id in cases:
        lane_answer, app_answer, answered = both_ways(
            app, api, f"/families/{fid}/dossier/{entry_id}"
        )
        assert answered == 1, "the lane answered this one itself"
        assert lane_answer.status_code == app_answer.status_code == 200
        assert lane_answer.get_data() == app_answer.get_data()
        assert list(lane_answer.headers.items()) == list(app_answer.headers.items())
        # One audit row each, alike in everything but time and place in the chain.
        rows = last_rows(app, 2)
        assert rows[0] == rows[1] and rows[0]["action"] == "dossier.view"
        assert rows[0]["object_id"] == str(entry_id)
    # (Papa reads the first version, not the one kept from him.)
    body = both_ways(app, papa, f"/families/{fid}/dossier/{changed}")[0].get_json()
    assert [(r["version"], r["visibility"]) for r in body["revisions"]] == [(1, "all")]
    with app.app_context():
        checked, problems = audit.verify()
        db.session.remove()
    assert checked > 0 and problems == []


def test_everything_unusual_goes_on_to_the_application(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    fid = world["family"].id
    other = make_family(make_user(name="Buur"), name="Gezin Anders").id
    mama, papa, coach = world["mama"], world["papa"], world["coach"]
    entry = write(mama, fid, "Voor iedereen")
    private = write(mama, fid, "Alleen ik", "me")
    lane = lane_of(app)
    path = f"/families/{fid}/dossier/{entry}"

    def passed_on(api: Api | None, url: str, **headers: str) -> Any:
        before = (lane.answered, lane.passed)
        if api is not None:
            headers.setdefault("Cookie", cookie_of(api.client))
        answer = Client(app, use_cookies=False).get(f"/api/v1{url}", headers=headers)
        assert (lane.answered, lane.passed) == (before[0], before[1] + 1), url
        return answer

    # Refusals come from the application, with their audit rows.
    denied_before = count_denied(app)
    assert is_problem(passed_on(papa, f"/families/{fid}/dossier/{private}"), 404)
    assert is_problem(passed_on(papa, f"/families/{other}/dossier/{entry}"), 404)
    assert is_problem(passed_on(papa, f"/families/{fid}/dossier/999999"), 404)
    assert count_denied(app) == denied_before + 3
    # Not signed in, a cookie that is not ours, a query string, a bearer token, ids no row has.
    assert is_problem(passed_on(None, path), 401)
    assert is_problem(passed_on(None, path, Cookie="portal_session=forged.value.sig"), 401)
    assert passed_on(papa, path + "?x=1").status_code == 200
    assert is_problem(passed_on(papa, path, Authorization="Bearer gpt_nope"), 401)
    assert passed_on(papa, f"/families/{fid}/dossier/{2**31}").status_code == 404
    # A guest (the coach): the application's path, which knows grants.
    assert passed_on(coach, path).status_code == 200
    # A professional who has not set up the second factor yet is asked to, by the application.
    rookie = make_user(name="Nieuw", kind=KIND_PROFESSIONAL)
    rookie_api = signed_in_api(app, rookie)
    refused = passed_on(rookie_api, path)
    assert is_problem(refused, 403) and refused.get_json()["totp_enrolment_required"]
    # A session that ended (signed out elsewhere) is not signed in any more, at once.
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == world["people"]["papa"].id)
            .values(revoked_at=clock.now())
        )
        db.session.commit()
        db.session.remove()
    assert is_problem(passed_on(papa, path), 401)


def count_denied(app: Flask) -> int:
    with app.app_context():
        found = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
        )
        db.session.remove()
    return int(found or 0)


def test_the_lane_uses_no_orm_session_and_reads_in_bounded_statements(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid = world["family"].id
    entry = write(world["mama"], fid, "Eén")
    from bench.common import count_queries

    with count_queries(app) as statements:
        answer = Client(app, use_cookies=False).get(
            f"/api/v1/families/{fid}/dossier/{entry}",
            headers={"Cookie": cookie_of(world["papa"].client)},
        )
    assert answer.status_code == 200
    # Who asks (session, user, membership), the entry with its files; then the log.
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3, reads  # visitor, entry + files, the chain head
    assert any(s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT") for s in statements)
    assert not db.session.registry.has(), "the lane made an ORM session"


def test_switched_off_the_application_answers_everything(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
    database_url: str,
    smtp_server: Any,
) -> None:
    from portal import create_app
    from tests.conftest import settings_for_tests

    plain = create_app(settings_for_tests(database_url, smtp_server.port, express_lane=0))
    assert "portal_express" not in plain.extensions
    fid = world["family"].id
    entry = write(world["mama"], fid, "Eén")
    answer = Client(plain, use_cookies=False).get(
        f"/api/v1/families/{fid}/dossier/{entry}",
        headers={"Cookie": cookie_of(world["papa"].client)},
    )
    assert answer.status_code == 200 and answer.get_json()["title"] == "Eén"


def test_a_removed_member_and_a_taken_out_entry_are_not_answered_by_the_lane(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
) -> None:
    fid = world["family"].id
    mama, papa = world["mama"], world["papa"]
    entry = write(mama, fid, "Weg")
    taken = mama.delete(f"/families/{fid}/dossier/{entry}?version=1")
    assert taken.status_code == 200
    lane_answer, app_answer, answered = both_ways(app, papa, f"/families/{fid}/dossier/{entry}")
    assert answered == 0 and lane_answer.status_code == app_answer.status_code == 404
    kept = write(mama, fid, "Blijft")
    with app.app_context():
        db.session.execute(
            update(Member)
            .where(Member.user_id == world["people"]["papa"].id)
            .values(removed_at=clock.now())
        )
        db.session.commit()
        db.session.remove()
    lane_answer, app_answer, answered = both_ways(app, papa, f"/families/{fid}/dossier/{kept}")
    assert answered == 0 and lane_answer.status_code == app_answer.status_code == 404
    with app.app_context():
        assert db.session.get(DossierEntry, kept) is not None
        db.session.remove()


def test_behind_the_proxy_the_lane_sees_the_client(database_url: str, smtp_server: Any) -> None:
    """In production the proxy's headers are read outermost: the lane (and Socket.IO's
    handshakes) log the client's address, not the proxy's."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from portal import create_app
    from tests.conftest import settings_for_tests

    production = create_app(
        settings_for_tests(
            database_url,
            smtp_server.port,
            environment="production",
            base_url="https://gezinsportaal.example",
        )
    )
    assert isinstance(production.wsgi_app, ProxyFix)
    assert isinstance(production.wsgi_app.app, Lane)


def test_a_known_cookie_still_ages(
    app: Flask,
    world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lane checks a session cookie's signature once, and its age on every request."""
    import time

    lane = lane_of(app)
    environ = {"HTTP_COOKIE": cookie_of(world["papa"].client)}
    first = lane._session(environ)
    assert first is not None and first.get("_user_id")
    assert lane._session(environ) == first  # (from what it remembered)
    later = time.time() + lane.max_age + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert lane._session(environ) is None, "too old, even though remembered"
    forged = {"HTTP_COOKIE": environ["HTTP_COOKIE"][:-3] + "abc"}
    monkeypatch.undo()
    assert lane._session(forged) is None
